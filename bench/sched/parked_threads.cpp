// The thread-based twin of parked.cpp: n threads (default 10,000) blocked on
// a condition variable. RSS is read before creating them and once all wait
// (plus 200 ms), then they are released and joined.
// Prints "parked_threads <RSS bytes per thread>".
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <thread>
#include <vector>

#include "common.hpp"

int main(int argc, char **argv) {
  const long n = argc > 1 ? std::atol(argv[1]) : 10000;
  std::mutex mu;
  std::condition_variable cv, all_started;
  long started = 0;
  bool release = false;
  std::vector<std::thread> threads;
  threads.reserve(size_t(n));
  const long before = bench::rss_bytes();
  for (long i = 0; i < n; ++i)
    threads.emplace_back([&] {
      std::unique_lock<std::mutex> lock(mu);
      if (++started == n)
        all_started.notify_one();
      cv.wait(lock, [&] { return release; });
    });
  {
    std::unique_lock<std::mutex> lock(mu);
    all_started.wait(lock, [&] { return started == n; });
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  const long after = bench::rss_bytes();
  std::printf("parked_threads %.0f (n %ld, RSS %ld -> %ld MB)\n",
              double(after - before) / double(n), n, before >> 20, after >> 20);
  std::fflush(stdout);
  {
    std::lock_guard<std::mutex> lock(mu);
    release = true;
  }
  cv.notify_all();
  for (std::thread &t : threads)
    t.join();
  return 0;
}
