// Spawn, run and join n trivial goroutines (default 1,000,000): the main
// goroutine spawns them all, each calls wg.done(), main waits on wg. Run with
// GOROUTINE_MAXPROCS=1 or 2; spawn.go is the Go twin.
// Prints "spawn <ns per goroutine>".
#include <goroutine/goroutine.hpp>

#include <cstdio>
#include <cstdlib>

#include "common.hpp"

int main(int argc, char **argv) {
  const long n = argc > 1 ? std::atol(argv[1]) : 1000000;
  double ns = 0;
  int procs = 0;
  go::run([&] {
    procs = go::maxprocs();
    go::wait_group wg;
    const double start = bench::now_ns();
    wg.add(n);
    for (long i = 0; i < n; ++i)
      go::spawn([&wg] { wg.done(); });
    wg.wait();
    ns = (bench::now_ns() - start) / double(n);
  });
  std::printf("spawn %.1f (maxprocs %d, n %ld)\n", ns, procs, n);
  std::fflush(stdout); // kept even if the process crashes while exiting
  return 0;
}
