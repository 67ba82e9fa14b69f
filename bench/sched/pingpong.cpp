// Round trips over two unbuffered channels between the main goroutine and a
// partner (default 1,000,000, after 1,000 to warm up). Run with
// GOROUTINE_MAXPROCS=1 or 2; pingpong.go is the Go twin.
// Prints "pingpong <ns per round trip>".
#include <goroutine/goroutine.hpp>

#include <cstdio>
#include <cstdlib>

#include "common.hpp"

int main(int argc, char **argv) {
  const long n = argc > 1 ? std::atol(argv[1]) : 1000000;
  double ns = 0;
  int procs = 0;
  long sum = 0;
  go::run([&] {
    procs = go::maxprocs();
    go::chan<long> ping, pong;
    go::spawn([&ping, &pong] {
      for (long v : ping)
        pong.send(v + 1);
      pong.close();
    });
    for (long i = 0; i < 1000; ++i) { // warm up
      ping.send(i);
      pong.recv();
    }
    const double start = bench::now_ns();
    for (long i = 0; i < n; ++i) {
      ping.send(i);
      sum += *pong.recv();
    }
    ns = (bench::now_ns() - start) / double(n);
    ping.close();
    pong.recv(); // the partner has finished with both channels
  });
  std::printf("pingpong %.1f (maxprocs %d, n %ld, sum %ld)\n", ns, procs, n,
              sum % 10);
  std::fflush(stdout); // kept even if the process crashes while exiting
  return 0;
}
