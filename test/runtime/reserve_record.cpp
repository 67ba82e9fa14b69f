// A program built with -fplugin-arg-goroutine-reserve=40960 (see
// CMakeLists.txt): its calls into uninstrumented code promise 40 KiB below
// them, and the runtime must keep that much when it shrinks a stack with
// such a call in progress, not its own 16 KiB default. qsort (libc, not
// instrumented) calls a comparator that yields: while the goroutine is parked
// under qsort's frames, the runtime may shrink its stack, but never below
// qsort's promised 40 KiB + its guard, which needs a 64 KiB stack.
// Exits 0 if the stack stayed large enough at every comparison.
#include <goroutine/goroutine.hpp>

#include <cstdio>
#include <cstdlib>

namespace {

size_t smallest = SIZE_MAX;

int compare(const void *a, const void *b) {
  for (int i = 0; i < 4; ++i)
    go::yield(); // a park point: the stack may shrink here
  const size_t size = go::stack_size();
  if (size < smallest)
    smallest = size;
  return *static_cast<const int *>(a) - *static_cast<const int *>(b);
}

} // namespace

int main() {
  int values[8] = {5, 3, 7, 1, 8, 2, 6, 4};
  go::run([&values] {
    go::spawn([] { // another goroutine, so yields switch
      for (int i = 0; i < 1000; ++i)
        go::yield();
    });
    std::qsort(values, 8, sizeof values[0], compare);
  });
  for (int i = 0; i < 8; ++i)
    if (values[i] != i + 1) {
      std::printf("FAIL: not sorted\n");
      return 1;
    }
  std::printf("smallest stack under qsort: %zu bytes\n", smallest);
  if (smallest < 64 * 1024) {
    std::printf("FAIL: shrunk below the 40 KiB reserve qsort was promised\n");
    return 1;
  }
  return 0;
}
