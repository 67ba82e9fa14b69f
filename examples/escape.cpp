// The article's escape-analysis example, in C++.
//
// Go decides where each variable lives and tells you with
// `go build -gcflags=-m`; the goroutine plugin does the same with
// -Rpass=goroutine-escape (the build of this example turns it on):
//
//   $ goroutine-clang++ -O2 -Rpass=goroutine-escape -c escape.cpp
//   escape.cpp:33:7: remark: moved to heap: x [-Rpass=goroutine-escape]
//
// createOnStack's x is not mentioned: it stays on the goroutine's stack.
// createOnHeap's x moves to the goroutine's side stack ("heap" in Go's
// words), which never moves, because its address leaves the function.
//
// One difference from Go: Go's createOnHeap returns &x and the garbage
// collector keeps x alive. C++ has no collector, so a returned &x would
// dangle wherever x lived; here the address goes to a package-level variable
// that is read while x is alive. That is what makes x escape, in C++ as in Go.
#include <goroutine/goroutine.hpp>

#include <cstdio>

// This value stays on the stack.
int createOnStack() {
  int x = 42;
  return x; // the value is copied; x stays on the stack
}

int *lastSeen; // a package-level variable: not on any goroutine's stack
__attribute__((noinline)) int readLastSeen() { return *lastSeen; }

// This value escapes to the heap.
int createOnHeap() {
  int x = 42;
  lastSeen = &x; // the address leaves the stack: x must not move with it
  const int seen = readLastSeen();
  lastSeen = nullptr;
  return seen;
}

int main() {
  go::run([] {
    const int stackVal = createOnStack();
    const int heapVal = createOnHeap();
    std::printf("%d %d\n", stackVal, heapVal);
  });
}
