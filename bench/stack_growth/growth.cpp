// Stack growth cost: a goroutine recursing to a fixed depth, growing its stack
// from 2 KiB by copying, against the same recursion on a stack that is already
// big enough. The difference, divided by the bytes copied, is the cost of
// growth per copied byte. Stacks are reused between rounds, so the memory is
// already faulted in (this VM's page faults would otherwise dominate).
// Prints "growth <ns per copied byte> <bytes copied per round> <final stack>".
#include <goroutine/goroutine.hpp>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace {

__attribute__((noinline)) long recurse(int n) {
  char buf[1000];
  buf[n % 1000] = static_cast<char>(n);
  asm volatile("" : : "r"(buf) : "memory"); // the frame really is 1000 bytes
  if (n == 0)
    return buf[0];
  return recurse(n - 1) + buf[(n * 7) % 1000];
}

double now_ns() {
  return std::chrono::duration<double, std::nano>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

} // namespace

int main(int argc, char **argv) {
  const int depth = argc > 1 ? std::atoi(argv[1]) : 5000;
  const int rounds = argc > 2 ? std::atoi(argv[2]) : 200;
  long sink = 0;

  // Growing: every round is a fresh goroutine starting at 2 KiB.
  go::run([&] { sink += recurse(depth); }); // warm the stack caches
  const go::MemStats before = go::read_mem_stats();
  double start = now_ns();
  for (int i = 0; i < rounds; ++i)
    go::run([&] { sink += recurse(depth); });
  const double grow_ns = (now_ns() - start) / rounds;
  const go::MemStats after = go::read_mem_stats();
  const double copied =
      double(after.stack_bytes_copied - before.stack_bytes_copied) / rounds;

  // Not growing: the same recursion on a stack grown beforehand.
  double flat_ns = 0;
  size_t final_stack = 0;
  go::run([&] {
    sink += recurse(depth);
    final_stack = go::stack_size();
    const double s = now_ns();
    for (int i = 0; i < rounds; ++i)
      sink += recurse(depth);
    flat_ns = (now_ns() - s) / rounds;
  });
  std::printf("growth %.4f %.0f %zu (grow %.0f ns, flat %.0f ns, sink %ld)\n",
              (grow_ns - flat_ns) / copied, copied, final_stack, grow_ns,
              flat_ns, sink % 10);
  return 0;
}
