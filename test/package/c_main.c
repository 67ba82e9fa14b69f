/* The installed package from C (package_test.sh builds it with pkg-config's
 * flags and with the goroutine-clang driver): a goroutine sends the stack
 * size it reached 100 calls deep, 1 KiB per call, over a channel. Links only
 * if the package brings the C++ library the runtime needs. */
#include <goroutine/goroutine.h>

#include <stdio.h>
#include <string.h>

static const goroutine_elem_ops size_ops = {sizeof(size_t), _Alignof(size_t),
                                            NULL, NULL};

static size_t deepest_stack;

__attribute__((noinline)) static int recurse(int n) {
  char buffer[1024];
  memset(buffer, n, sizeof buffer);
  if (n == 0) {
    deepest_stack = goroutine_stack_size();
    return buffer[0];
  }
  return recurse(n - 1) + buffer[n % 1024];
}

static void deep(void *arg) {
  recurse(100);
  goroutine_chan_send(arg, &deepest_stack, 1);
}

static void main_goroutine(void *arg) {
  goroutine_chan *stacks = goroutine_chan_make(&size_ops, 0);
  goroutine_spawn(deep, stacks);
  int received = 0;
  goroutine_chan_recv(stacks, arg, 1, &received);
  goroutine_chan_release(stacks);
}

int main(void) {
  size_t stack = 0;
  goroutine_run(main_goroutine, &stack);
  printf("C goroutine: stack %zu bytes 100 calls deep\n", stack);
  return stack >= 65536 ? 0 : 1;
}
