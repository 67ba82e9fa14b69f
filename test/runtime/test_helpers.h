// Helpers shared by the runtime tests.
#ifndef GOROUTINE_TEST_HELPERS_H
#define GOROUTINE_TEST_HELPERS_H

#include <goroutine/goroutine.hpp>

#include <chrono>
#include <cstddef>
#include <cstring>
#include <string>
#include <utility>

namespace test {

// Makes the compiler believe the memory at p is read and written here, so
// buffers meant to take stack space are not optimized away.
inline void keep(const void *p) { asm volatile("" : : "r"(p) : "memory"); }

// Recurses `depth` times with a Frame-byte buffer in every frame, so the
// stack grows (or, in torture mode, moves) under the caller. Returns
// (depth + 1) * (seed & 0x7f), read back from every frame's buffer.
template <size_t Frame = 512>
__attribute__((noinline)) int burn(int depth, int seed = 1) {
  char buf[Frame];
  std::memset(buf, seed & 0x7f, sizeof buf);
  keep(buf);
  const int here = buf[static_cast<size_t>(depth) % Frame];
  return depth == 0 ? here : burn<Frame>(depth - 1, seed) + here;
}

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

// Polls pred() from a goroutine, sleeping 1 ms between tries, until it holds
// or `timeout` passes; returns whether it held. For tests that wait for other
// goroutines to reach a state no channel announces.
template <class Pred>
bool wait_until(Pred pred, std::chrono::milliseconds timeout =
                               std::chrono::milliseconds(5000)) {
  const go::clock::time_point deadline = go::clock::now() + timeout;
  while (!pred()) {
    if (go::clock::now() >= deadline)
      return pred();
    go::sleep_for(std::chrono::milliseconds(1));
  }
  return true;
}

// Waits (from the main goroutine) until every other goroutine has ended, so
// nothing a test spawned outlives its go::run; returns false if some are
// still there after 5 s.
inline bool all_others_ended() {
  return wait_until([] { return go::num_goroutine() == 1; });
}

// Milliseconds from `start` to now.
inline double ms_since(go::clock::time_point start) {
  return std::chrono::duration<double, std::milli>(go::clock::now() - start)
      .count();
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
