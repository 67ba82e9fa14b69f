// The cost of a stack check kept as an integer (QuickJS's
// js_check_stack_overflow) on every call: fib(32) with the check in each
// call, in a goroutine. Built twice: the stack pointer read with
// __builtin_frame_address (which the plugin makes stable, a call of
// goroutine_stable_stack_address), and read from %rsp by inline assembly the
// plugin leaves alone (the raw address: what the check cost before). The
// difference per call is the price of the stable coordinate.
#include <goroutine/goroutine.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

struct runtime {
  uintptr_t stack_top, stack_limit;
  long overflows;
};

static inline uintptr_t stack_pointer(void) {
#ifdef BENCH_RAW
  uintptr_t sp; // the comment keeps the plugin from recognizing it
  __asm__ volatile("mov %%rsp, %0 # raw" : "=r"(sp));
  return sp;
#else
  return (uintptr_t)__builtin_frame_address(0);
#endif
}

__attribute__((noinline)) static long fib(struct runtime *rt, int n) {
  if (stack_pointer() < rt->stack_limit) {
    rt->overflows++;
    return 0;
  }
  return n < 2 ? n : fib(rt, n - 1) + fib(rt, n - 2);
}

// Grows the stack first: the raw build's recorded top is valid only while
// the stack does not move.
__attribute__((noinline)) static int grow(int depth) {
  volatile char frame[1024];
  frame[0] = (char)depth;
  return depth == 0 ? frame[0] : grow(depth - 1) + frame[0];
}

static void run(void *arg) {
  struct runtime *rt = arg;
  grow(64);
  struct timespec t0, t1;
  long calls = 0, result = 0;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  // After the call above, whose reserve check may move the stack.
  rt->stack_top = stack_pointer();
  rt->stack_limit = rt->stack_top - (1 << 20);
  for (int i = 0; i < 5; ++i) {
    result += fib(rt, 32);
    calls += 7049155; // calls of fib(rt, 32)
  }
  clock_gettime(CLOCK_MONOTONIC, &t1);
  const double ns =
      (t1.tv_sec - t0.tv_sec) * 1e9 + (double)(t1.tv_nsec - t0.tv_nsec);
  printf("%s: %.3f ns per call (result %ld, overflows %ld)\n",
#ifdef BENCH_RAW
         "raw frame address",
#else
         "stable frame address",
#endif
         ns / (double)calls, result, rt->overflows);
}

int main(void) {
  struct runtime *rt = calloc(1, sizeof *rt);
  goroutine_run(run, rt);
  free(rt);
  return 0;
}
