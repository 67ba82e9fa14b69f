// The thread-based twin of yield.cpp: two std::threads each call
// sched_yield() n times (default 200,000) while the main thread joins them.
// Pinned to one CPU (the 1-P setting) every yield switches to the other
// thread; on two CPUs it is the cost of the system call.
// Prints "yield_threads <ns per yield>" (the total time over the total
// yields).
#include <cstdio>
#include <cstdlib>
#include <thread>

#include <sched.h>

#include "common.hpp"

int main(int argc, char **argv) {
  const long n = argc > 1 ? std::atol(argv[1]) : 200000;
  auto worker = [n] {
    for (long i = 0; i < n; ++i)
      sched_yield();
  };
  const double start = bench::now_ns();
  std::thread a(worker), b(worker);
  a.join();
  b.join();
  const double ns = (bench::now_ns() - start) / double(2 * n);
  cpu_set_t cpus;
  CPU_ZERO(&cpus);
  sched_getaffinity(0, sizeof cpus, &cpus);
  std::printf("yield_threads %.1f (cpus %d, n %ld)\n", ns, CPU_COUNT(&cpus), n);
  return 0;
}
