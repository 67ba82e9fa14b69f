// Two goroutines each call go::yield() n times (default 2,000,000) while the
// main goroutine waits on a wait_group. Run with GOROUTINE_MAXPROCS=1 (the
// goal's setting: every yield switches to the other goroutine) or 2;
// yield.go is the Go twin.
// Prints "yield <ns per switch>" (the total time over the total yields).
#include <goroutine/goroutine.hpp>

#include <cstdio>
#include <cstdlib>

#include "common.hpp"

int main(int argc, char **argv) {
  const long n = argc > 1 ? std::atol(argv[1]) : 2000000;
  double ns = 0;
  int procs = 0;
  go::run([&] {
    procs = go::maxprocs();
    go::wait_group wg;
    auto worker = [n, &wg] {
      for (long i = 0; i < n; ++i)
        go::yield();
      wg.done();
    };
    const double start = bench::now_ns();
    wg.add(2);
    go::spawn(worker);
    go::spawn(worker);
    wg.wait();
    ns = (bench::now_ns() - start) / double(2 * n);
  });
  std::printf("yield %.1f (maxprocs %d, n %ld)\n", ns, procs, n);
  std::fflush(stdout); // kept even if the process crashes while exiting
  return 0;
}
