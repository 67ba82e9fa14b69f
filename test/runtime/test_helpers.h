// Helpers shared by the runtime tests.
#ifndef GOROUTINE_TEST_HELPERS_H
#define GOROUTINE_TEST_HELPERS_H

#include <goroutine/goroutine.hpp>

#include <string>
#include <utility>

namespace test {

// Makes the compiler believe the memory at p is read and written here, so
// buffers meant to take stack space are not optimized away.
inline void keep(const void *p) { asm volatile("" : : "r"(p) : "memory"); }

// Runs f() as the main goroutine of a fresh go::run and returns its result.
template <class F> auto in_goroutine(F &&f) {
  using R = decltype(f());
  if constexpr (std::is_void_v<R>) {
    go::run(std::forward<F>(f));
  } else {
    R result{};
    go::run([&] { result = f(); });
    return result;
  }
}

// Exit status and output of a child process.
struct ChildResult {
  int exit_code = -1; // -1: killed by a signal
  int signal = 0;
  std::string out;
  std::string err;
};

// Runs the fatal_cases helper program with `scenario`, extra environment
// entries ("KEY=value", may be empty), and captures its output.
ChildResult run_fatal_case(const std::string &scenario,
                           const std::string &env = "");

} // namespace test

#endif // GOROUTINE_TEST_HELPERS_H
