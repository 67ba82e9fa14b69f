/* fib(35) with both recursive calls kept: the cost of the split-stack
 * prologue on call-heavy code. Built twice from this file: with the plugin
 * (run in a goroutine) and without (run on the main thread). Prints
 * "fib <ns per fib(35)>". */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#ifdef GOROUTINE_BENCH_INSTRUMENTED
#include <goroutine/goroutine.h>
#endif

__attribute__((noinline)) static long fib(int n) {
  if (n < 2)
    return n;
  long a = fib(n - 1);
  long b = fib(n - 2);
  /* Keeps the second call a real call: without it LLVM turns it into a loop
   * (tail recursion with an accumulator), which Go does not do. */
  __asm__ volatile("" : "+r"(b));
  return a + b;
}

static double now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e9 + ts.tv_nsec;
}

struct run {
  int n, reps;
  long result;
  double ns;
};

static void bench(void *arg) {
  struct run *r = arg;
  r->result = fib(r->n); /* warm up */
  const double start = now_ns();
  for (int i = 0; i < r->reps; ++i)
    r->result += fib(r->n);
  r->ns = (now_ns() - start) / r->reps;
}

int main(int argc, char **argv) {
  struct run r = {argc > 1 ? atoi(argv[1]) : 35, argc > 2 ? atoi(argv[2]) : 5,
                  0, 0};
#ifdef GOROUTINE_BENCH_INSTRUMENTED
  goroutine_run(bench, &r);
#else
  bench(&r);
#endif
  printf("fib %.0f (result %ld)\n", r.ns, r.result);
  return 0;
}
