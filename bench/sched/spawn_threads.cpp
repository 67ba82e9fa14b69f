// The thread-based twin of spawn.cpp: create n std::threads (default 10,000)
// that each decrement a counter, then join them all.
// Prints "spawn_threads <ns per thread>".
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <thread>
#include <vector>

#include "common.hpp"

int main(int argc, char **argv) {
  const long n = argc > 1 ? std::atol(argv[1]) : 10000;
  std::atomic<long> left{n};
  std::vector<std::thread> threads;
  threads.reserve(size_t(n));
  const double start = bench::now_ns();
  for (long i = 0; i < n; ++i)
    threads.emplace_back([&left] { left.fetch_sub(1); });
  for (std::thread &t : threads)
    t.join();
  const double ns = (bench::now_ns() - start) / double(n);
  std::printf("spawn_threads %.1f (n %ld, left %ld)\n", ns, n, left.load());
  return 0;
}
