// setjmp/longjmp and sigsetjmp/siglongjmp across stack moves.
#include <catch2/catch.hpp>

#include "test_helpers.h"

#include <csetjmp>
#include <csignal>
#include <cstring>
#include <dlfcn.h>
#include <memory>

namespace {

// Recurses, growing the stack, then jumps back to env from the bottom.
__attribute__((noinline)) void dive_and_jump(int depth, jmp_buf env, int code) {
  char buf[512];
  std::memset(buf, depth & 0x7f, sizeof buf);
  test::keep(buf);
  if (depth == 0)
    longjmp(env, code + buf[1]);
  dive_and_jump(depth - 1, env, code);
  buf[2] = 9; // keeps the recursion from becoming a loop
  std::memset(buf, buf[2], 1);
}

TEST_CASE("longjmp returns to a setjmp made before the stack moved",
          "[setjmp]") {
  struct Result {
    int code = 0, local = 0, after = 0;
    size_t stack = 0;
  };
  const Result r = test::in_goroutine([] {
    Result res;
    jmp_buf env;
    volatile int local = 11;
    char marker[64];
    std::memset(marker, 'm', sizeof marker);
    const int code = setjmp(env);
    if (code == 0) {
      local = 12;
      dive_and_jump(4000, env, 40); // ~2.5 MB: several moves
    }
    res.code = code;
    res.local = local + (marker[63] == 'm' ? 100 : 0);
    res.stack = go::stack_size();
    res.after = test::burn<700>(100) == 101; // the stack still works afterwards
    return res;
  });
  CHECK(r.code == 40);
  CHECK(r.local == 112);
  CHECK(r.stack >= 2 * 1024 * 1024);
  CHECK(r.after == 1);
}

// Lua-style error handling: the jmp_buf lives in a heap object, with a chain
// of handlers at increasing depths.
struct ErrorState {
  jmp_buf *current = nullptr;
  int raised = 0;
};

__attribute__((noinline)) int protected_call(ErrorState *L, int depth,
                                             int fail_at);

__attribute__((noinline)) int body(ErrorState *L, int depth, int fail_at) {
  char buf[300];
  std::memset(buf, 3, sizeof buf);
  test::keep(buf);
  if (depth == fail_at) {
    L->raised++;
    longjmp(*L->current, depth);
  }
  if (depth == 0)
    return buf[0];
  return (depth % 50 == 0 ? protected_call(L, depth - 1, fail_at)
                          : body(L, depth - 1, fail_at)) +
         buf[depth % 300];
}

int protected_call(ErrorState *L, int depth, int fail_at) {
  struct Handler {
    jmp_buf buf;
  };
  auto handler = std::make_unique<Handler>(); // the buffer is on the heap
  jmp_buf *previous = L->current;
  L->current = &handler->buf;
  int result;
  const int code = setjmp(handler->buf);
  if (code == 0)
    result = body(L, depth, fail_at);
  else
    result = -code; // caught: report where it failed
  L->current = previous;
  return result;
}

TEST_CASE("longjmp through a heap-allocated handler chain", "[setjmp]") {
  // Expected results come from the main thread, whose stack never moves.
  ErrorState main_state;
  const int expected = protected_call(&main_state, 2000, 777);
  const auto got = test::in_goroutine([] {
    ErrorState L;
    const int result = protected_call(&L, 2000, 777);
    return std::pair<int, int>(result, L.raised);
  });
  CHECK(got.first == expected);
  CHECK(got.second == 1);
  CHECK(main_state.raised == 1);
}

TEST_CASE("siglongjmp restores the signal mask across moves", "[setjmp]") {
  const auto r = test::in_goroutine([] {
    sigset_t block, now;
    sigemptyset(&block);
    sigaddset(&block, SIGUSR1);
    sigjmp_buf env;
    int blocked_after = -1;
    if (sigsetjmp(env, 1) == 0) {
      sigprocmask(SIG_BLOCK, &block, nullptr);
      test::burn<700>(2000);
      siglongjmp(env, 1);
    }
    sigprocmask(SIG_SETMASK, nullptr, &now);
    blocked_after = sigismember(&now, SIGUSR1);
    return blocked_after;
  });
  CHECK(r == 0); // the mask saved by sigsetjmp (SIGUSR1 unblocked) is back
}

TEST_CASE("setjmp outside goroutines writes glibc's format", "[setjmp]") {
  // A buffer filled on a thread without goroutines must work with glibc's own
  // longjmp, which uninstrumented code may call.
  using longjmp_fn = void (*)(jmp_buf, int);
  auto glibc_longjmp =
      reinterpret_cast<longjmp_fn>(dlsym(RTLD_NEXT, "longjmp"));
  REQUIRE(glibc_longjmp != nullptr);
  jmp_buf env;
  volatile int stage = 0;
  if (setjmp(env) == 0) {
    stage = 1;
    glibc_longjmp(env, 5);
  }
  CHECK(stage == 1);
}

} // namespace
