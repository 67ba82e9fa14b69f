// Escape analysis decisions on C++ snippets, at -O0 and -O2.
// RUN: %clangxx -std=c++17 -O0 -fplugin=%plugin -Rpass=goroutine-escape -Rpass-analysis=goroutine-escape -c %s -o /dev/null 2>&1 | FileCheck %s --check-prefixes=CHECK,O0
// RUN: %clangxx -std=c++17 -O2 -fplugin=%plugin -Rpass=goroutine-escape -Rpass-analysis=goroutine-escape -c %s -o /dev/null 2>&1 | FileCheck %s
#include <functional>
#include <memory>
#include <stdexcept>
#include <utility>
#include <vector>

// What any go::spawn does with its callable: moves it to the heap and hands
// it to the scheduler.
extern "C" void schedule(void (*)(void *), void *);
template <class F> void spawn(F f) {
  schedule([](void *p) {
    std::unique_ptr<F> g(static_cast<F *>(p));
    (*g)();
  }, new F(std::move(f)));
}

std::vector<int *> registry;
void keep_forever(const int &);
int peek(const int *__attribute__((noescape)));

// Pushed into a long-lived std::vector<T*>.
void pushed_into_global_vector() {
  // CHECK-DAG: escape_cxx.cpp:[[@LINE+1]]:{{[0-9]+}}: remark: moved to heap: registered
  int registered = 1;
  registry.push_back(&registered);
}

// A local std::vector<T*> keeps its elements in heap memory it allocates:
// at -O0 the pointer is stored in that heap memory and the local moves; at -O2
// LLVM removes the vector altogether.
int pushed_into_local_vector() {
  // O0-DAG: escape_cxx.cpp:[[@LINE+1]]:{{[0-9]+}}: remark: moved to heap: element
  int element = 2;
  std::vector<int *> mine;
  mine.push_back(&element);
  return *mine[0];
}

// Captured by reference in a lambda handed to spawn: another goroutine may
// use it after this frame moves.
void captured_by_reference() {
  // CHECK-DAG: escape_cxx.cpp:[[@LINE+1]]:{{[0-9]+}}: remark: moved to heap: counter
  int counter = 0;
  spawn([&counter] { ++counter; });
}
// Captured by value: the copy travels, the local stays.
void captured_by_value() {
  // CHECK-DAG: escape_cxx.cpp:[[@LINE+1]]:{{[0-9]+}}: remark: copied does not escape
  int copied = 3;
  peek(&copied);
  spawn([copied] { peek(&copied); });
}
// A lambda called in place keeps its captures on the stack.
int called_in_place() {
  // CHECK-DAG: escape_cxx.cpp:[[@LINE+1]]:{{[0-9]+}}: remark: in_place does not escape
  int in_place = 4;
  peek(&in_place);
  auto add = [&in_place](int x) { return in_place += x; };
  return add(1) + add(2);
}
// A std::function may be stored anywhere.
std::function<int()> stored_function;
void captured_in_std_function() {
  // CHECK-DAG: escape_cxx.cpp:[[@LINE+1]]:{{[0-9]+}}: remark: moved to heap: in_function
  int in_function = 5;
  stored_function = [&in_function] { return in_function; };
}

// An exception object carries the address out of the frame.
struct Error : std::runtime_error {
  explicit Error(int *w) : std::runtime_error("error"), where(w) {}
  int *where;
};
void thrown_in_exception() {
  // CHECK-DAG: escape_cxx.cpp:[[@LINE+1]]:{{[0-9]+}}: remark: moved to heap: code
  int code = 6;
  throw Error(&code);
}
// An exception object carrying a pointer to a local that outlives the catch.
int caught_here() {
  // CHECK-DAG: escape_cxx.cpp:[[@LINE+1]]:{{[0-9]+}}: remark: moved to heap: status
  int status = 7;
  try {
    throw Error(&status);
  } catch (const Error &e) {
    return *e.where;
  }
}

// Passed by reference to a function that may keep the reference.
int passed_by_reference() {
  // CHECK-DAG: escape_cxx.cpp:[[@LINE+1]]:{{[0-9]+}}: remark: moved to heap: by_ref
  int by_ref = 8;
  keep_forever(by_ref);
  return by_ref;
}

// A local object whose member points at another local, used in place.
struct Cursor {
  int *at;
  int next() { return *at++; }
};
int local_object() {
  // CHECK-DAG: escape_cxx.cpp:[[@LINE+1]]:{{[0-9]+}}: remark: items does not escape
  int items[3] = {1, 2, 3};
  Cursor c{items};
  peek(items);
  return c.next() + c.next();
}
