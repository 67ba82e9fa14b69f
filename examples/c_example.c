/* The C interface: a goroutine that recurses deeply, formats with printf and
 * reports how its stack grew. */
#include <goroutine/goroutine.h>

#include <stdio.h>
#include <string.h>

static long depth_sum(int n) {
  char frame[256];
  memset(frame, n, sizeof frame);
  return n == 0 ? 0 : depth_sum(n - 1) + frame[n % 256];
}

static void body(void *arg) {
  const int depth = *(const int *)arg;
  const long sum = depth_sum(depth);
  goroutine_mem_stats s;
  goroutine_read_mem_stats(&s);
  printf("C goroutine: depth %d, sum %ld, stack %zu bytes after %llu growths\n",
         depth, sum, goroutine_stack_size(),
         (unsigned long long)s.num_stack_grow);
}

int main(void) {
  int depth = 10000;
  goroutine_run(body, &depth);
  return 0;
}
