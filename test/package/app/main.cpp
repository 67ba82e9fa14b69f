// The installed package's smoke test (package_test.sh builds it three ways:
// CMake's find_package, pkg-config, the goroutine-clang++ driver): goroutines,
// channels, and a stack that grows from 2 KiB past 64 KiB.
#include <goroutine/chan.hpp>
#include <goroutine/goroutine.hpp>

#include <cstdio>
#include <cstring>

namespace {

size_t deepest_stack = 0;

// 1 KiB of stack per call.
__attribute__((noinline)) int recurse(int n) {
  char buffer[1024];
  std::memset(buffer, n, sizeof buffer);
  if (n == 0) {
    deepest_stack = go::stack_size();
    return buffer[0];
  }
  return recurse(n - 1) + buffer[n % 1024];
}

} // namespace

int main() {
  size_t first_stack = 0, deep_stack = 0;
  int sum = 0;
  go::run([&] {
    first_stack = go::stack_size();
    go::chan<size_t> stacks;
    go::chan<int> squares;
    go::spawn([stacks] {
      recurse(100);
      stacks.send(deepest_stack);
    });
    for (int i = 1; i <= 3; ++i)
      go::spawn([squares](int n) { squares.send(n * n); }, i);
    for (int i = 0; i < 3; ++i)
      sum += squares.recv().value_or(0);
    deep_stack = stacks.recv().value_or(0);
  });
  std::printf("goroutines: sum %d, stack %zu bytes at first, %zu bytes 100 "
              "calls deep\n",
              sum, first_stack, deep_stack);
  return sum == 14 && first_stack == 2048 && deep_stack >= 65536 ? 0 : 1;
}
