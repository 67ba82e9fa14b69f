/* The C interface and C code on goroutine stacks: variadic functions, VLAs,
 * setjmp/longjmp and qsort callbacks, compiled as C. Called from c_test.cpp. */
#include <goroutine/goroutine.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static int burn(int n) {
  char buf[400];
  memset(buf, n & 0x7f, sizeof buf);
  return n == 0 ? buf[2] : burn(n - 1) + buf[n % 400] - (n & 0x7f);
}

static long c_vsum(int n, ...) {
  char big[5000];
  memset(big, 2, sizeof big);
  va_list ap;
  va_start(ap, n);
  long s = big[n];
  for (int i = 0; i < n; i++)
    s = s * 7 + va_arg(ap, int) + burn(5);
  va_end(ap);
  return s;
}

static int cmp_ints(const void *a, const void *b) {
  burn(30);
  return *(const int *)a - *(const int *)b;
}

static jmp_buf env;
static void jump_deep(int n) {
  char buf[300];
  memset(buf, 1, sizeof buf);
  if (n == 0)
    longjmp(env, 3);
  jump_deep(n - 1);
  buf[0] = 0;
}

struct c_results {
  long vsum;
  long vla;
  int sorted;
  int jumped;
  size_t stack;
};

static void work(void *arg) {
  struct c_results *r = arg;
  r->vsum = c_vsum(9, 1, 2, 3, 4, 5, 6, 7, 8, 9);
  int n = 20000;
  char vla[n];
  memset(vla, 5, (size_t)n);
  r->vla = vla[n - 1] + burn(100);
  int values[200];
  for (int i = 0; i < 200; i++)
    values[i] = (i * 31) % 200;
  qsort(values, 200, sizeof(int), cmp_ints);
  r->sorted = 1;
  for (int i = 1; i < 200; i++)
    if (values[i - 1] > values[i])
      r->sorted = 0;
  volatile int jumped = 0;
  if (setjmp(env) == 0)
    jump_deep(3000);
  else
    jumped = 1;
  r->jumped = jumped;
  r->stack = goroutine_stack_size();
}

/* Runs work() in a goroutine and once on the calling thread. */
int c_api_check(long *vsum, long *expected_vsum, int *sorted, int *jumped,
                size_t *stack) {
  struct c_results in = {0}, out = {0};
  goroutine_run(work, &in);
  work(&out);
  *vsum = in.vsum;
  *expected_vsum = out.vsum;
  *sorted = in.sorted;
  *jumped = in.jumped;
  *stack = in.stack;
  return in.vla == out.vla;
}
