// n goroutines (default 1,000,000) blocked receiving from one channel: the
// memory an idle goroutine costs. RSS (from /proc/self/statm) is read before
// spawning them and once all are parked: each calls started.done() before it
// blocks, main waits on `started` and then sleeps 200 ms, so the last ones
// reach their receive. Then the channel is closed and they are joined.
// parked.go is the Go twin.
// Prints "parked <RSS bytes per goroutine>" and, for information,
// "parked_stack <stack_inuse / num_goroutine>" from go::read_mem_stats().
#include <goroutine/goroutine.hpp>

#include <chrono>
#include <cstdio>
#include <cstdlib>

#include "common.hpp"

int main(int argc, char **argv) {
  const long n = argc > 1 ? std::atol(argv[1]) : 1000000;
  go::run([n] {
    go::chan<int> c;
    go::wait_group started, finished;
    const long before = bench::rss_bytes();
    const double start = bench::now_ns();
    started.add(n);
    finished.add(n);
    for (long i = 0; i < n; ++i)
      go::spawn([&] {
        started.done();
        c.recv();
        finished.done();
      });
    started.wait();
    // Every goroutine has started; let the last ones reach their receive.
    go::sleep_for(std::chrono::milliseconds(200));
    const double spawn_ms = (bench::now_ns() - start) / 1e6 - 200;
    const long after = bench::rss_bytes();
    const go::MemStats s = go::read_mem_stats();
    const unsigned long long g = s.num_goroutine - 1; // not main
    std::printf(
        "parked %.0f (maxprocs %d, n %ld, goroutines %llu, RSS %ld -> %ld MB, "
        "spawn %.0f ms)\n",
        double(after - before) / double(n), go::maxprocs(), n, g, before >> 20,
        after >> 20, spawn_ms);
    std::printf("parked_stack %.0f (stack_inuse %llu MB, stack_sys %llu MB, "
                "side_stack_sys %llu KB, num_goroutine %llu)\n",
                double(s.stack_inuse) / double(g ? g : 1),
                (unsigned long long)(s.stack_inuse >> 20),
                (unsigned long long)(s.stack_sys >> 20),
                (unsigned long long)(s.side_stack_sys >> 10),
                (unsigned long long)s.num_goroutine);
    std::fflush(stdout);
    c.close();
    finished.wait();
  });
  return 0;
}
