// Helpers shared by the scheduler benchmarks: a monotonic clock and the
// process's resident set size.
#ifndef GOROUTINE_BENCH_SCHED_COMMON_HPP
#define GOROUTINE_BENCH_SCHED_COMMON_HPP

#include <chrono>
#include <cstdio>
#include <unistd.h>

namespace bench {

inline double now_ns() {
  return std::chrono::duration<double, std::nano>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// Resident set size in bytes, from /proc/self/statm (as the Go twins read it).
inline long rss_bytes() {
  long size = 0, resident = 0;
  if (FILE *f = std::fopen("/proc/self/statm", "r")) {
    if (std::fscanf(f, "%ld %ld", &size, &resident) != 2)
      resident = 0;
    std::fclose(f);
  }
  return resident * sysconf(_SC_PAGESIZE);
}

} // namespace bench

#endif // GOROUTINE_BENCH_SCHED_COMMON_HPP
