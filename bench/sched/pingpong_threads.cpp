// The thread-based twin of pingpong.cpp: round trips between the main thread
// and a partner std::thread (default 20,000 after 100 to warm up: a round
// trip costs tens of microseconds on this VM). Each direction is a one-slot
// unbuffered hand-off, a std::mutex and a std::condition_variable, as a
// blocking channel between two threads would be. Run pinned to one CPU (the
// 1-P setting) or on two.
// Prints "pingpong_threads <ns per round trip>".
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <thread>

#include <sched.h>

#include "common.hpp"

namespace {

// A one-slot unbuffered hand-off: put() waits until the value is taken.
struct slot {
  std::mutex mu;
  std::condition_variable changed;
  long value = 0;
  bool full = false, closed = false;

  void put(long v) {
    std::unique_lock<std::mutex> lock(mu);
    value = v;
    full = true;
    changed.notify_one();
    changed.wait(lock, [this] { return !full; });
  }
  bool take(long &v) {
    std::unique_lock<std::mutex> lock(mu);
    changed.wait(lock, [this] { return full || closed; });
    if (!full)
      return false;
    v = value;
    full = false;
    changed.notify_one();
    return true;
  }
  void close() {
    std::lock_guard<std::mutex> lock(mu);
    closed = true;
    changed.notify_all();
  }
};

} // namespace

int main(int argc, char **argv) {
  const long n = argc > 1 ? std::atol(argv[1]) : 20000;
  slot ping, pong;
  std::thread partner([&] {
    long v;
    while (ping.take(v))
      pong.put(v + 1);
  });
  long sum = 0, v = 0;
  for (long i = 0; i < 100; ++i) { // warm up
    ping.put(i);
    pong.take(v);
  }
  const double start = bench::now_ns();
  for (long i = 0; i < n; ++i) {
    ping.put(i);
    pong.take(v);
    sum += v;
  }
  const double ns = (bench::now_ns() - start) / double(n);
  ping.close();
  partner.join();
  cpu_set_t cpus;
  CPU_ZERO(&cpus);
  sched_getaffinity(0, sizeof cpus, &cpus);
  std::printf("pingpong_threads %.1f (cpus %d, n %ld, sum %ld)\n", ns,
              CPU_COUNT(&cpus), n, sum % 10);
  return 0;
}
