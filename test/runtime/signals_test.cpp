// Signal handlers never run on goroutine stacks, and instrumented code inside
// them is not checked against the interrupted goroutine's limit.
#include <catch2/catch.hpp>

#include "test_helpers.h"

#include <csetjmp>
#include <csignal>
#include <cstdint>
#include <cstring>

namespace {

uintptr_t current_limit() {
  uintptr_t v;
  asm volatile("movq %%fs:0x70, %0" : "=r"(v));
  return v;
}

// The goroutine stack containing addr (stacks are size-aligned).
bool on_goroutine_stack(uintptr_t addr, uintptr_t probe, size_t size) {
  return (addr & ~(size - 1)) == (probe & ~(size - 1));
}

volatile uintptr_t handler_sp = 0;
volatile uintptr_t handler_limit = 1;
volatile int handler_depth_result = 0;

__attribute__((noinline)) int recurse(int n) {
  char buf[256];
  std::memset(buf, n & 0x7f, sizeof buf);
  test::keep(buf);
  return n == 0 ? buf[1] : recurse(n - 1) + buf[n % 256] - (n & 0x7f);
}

void record(int) {
  char probe;
  handler_sp = reinterpret_cast<uintptr_t>(&probe);
  handler_limit = current_limit();
  handler_depth_result = recurse(100); // instrumented code in the handler
}

TEST_CASE("handlers installed with signal() run off the goroutine stack",
          "[signals]") {
  auto previous = std::signal(SIGUSR1, record);
  struct Result {
    bool off_stack = false;
    uintptr_t limit_in_handler = 1, limit_after = 0;
    int depth = 0;
  };
  const Result r = test::in_goroutine([] {
    char probe;
    const auto sp = reinterpret_cast<uintptr_t>(&probe);
    std::raise(SIGUSR1);
    Result res;
    res.off_stack = !on_goroutine_stack(handler_sp, sp, go::stack_size());
    res.limit_in_handler = handler_limit;
    res.limit_after = current_limit();
    res.depth = handler_depth_result;
    return res;
  });
  std::signal(SIGUSR1, previous);
  CHECK(r.off_stack);
  CHECK(r.limit_in_handler == 0);
  CHECK(r.limit_after != 0);
  CHECK(r.depth == recurse(100));
}

TEST_CASE("sigaction reports the program's handler and adds SA_ONSTACK",
          "[signals]") {
  struct sigaction sa, old, now;
  std::memset(&sa, 0, sizeof sa);
  sa.sa_handler = record;
  sigemptyset(&sa.sa_mask);
  REQUIRE(sigaction(SIGUSR2, &sa, &old) == 0);
  REQUIRE(sigaction(SIGUSR2, nullptr, &now) == 0);
  CHECK(now.sa_handler == record);
  CHECK((now.sa_flags & SA_SIGINFO) == 0);
  CHECK((now.sa_flags & SA_ONSTACK) != 0);
  REQUIRE(sigaction(SIGUSR2, &old, nullptr) == 0);
}

sigjmp_buf escape;
void jump_out(int) { siglongjmp(escape, 7); }

TEST_CASE("siglongjmp out of a handler restores the goroutine's limit",
          "[signals]") {
  auto previous = std::signal(SIGUSR1, jump_out);
  struct Result {
    int code = 0;
    uintptr_t limit = 0;
    int depth = 0;
  };
  const Result r = test::in_goroutine([] {
    Result res;
    res.code = sigsetjmp(escape, 1);
    if (res.code == 0)
      std::raise(SIGUSR1);
    res.limit = current_limit();
    res.depth = recurse(3000); // needs growth: the checks must work again
    return res;
  });
  std::signal(SIGUSR1, previous);
  CHECK(r.code == 7);
  CHECK(r.limit != 0);
  CHECK(r.depth == recurse(3000));
}

} // namespace
