// The article's comparison, measured: 10,000 goroutines, each parked on a
// channel, against 10,000 OS threads, each waiting on a condition variable
// (std::thread with its default stack). For each: the time to start them all
// and have them all waiting, and the memory they add.
//
// The article counts stack reservations (threads: 1-8 MB each, goroutines:
// 8 KB). A thread's stack is reserved (virtual memory, 8 MiB here: ulimit
// -s) but only its touched pages are resident; the kernel also gives every
// thread a kernel stack, which is not in the process's RSS. A goroutine's
// stack is 2 KiB, and with 10,000 goroutines or more one that parks using
// little of it waits on a 512-byte stack; a page of 2 KiB stacks goes back
// to the OS once every goroutine on it is parked.
#include <goroutine/goroutine.hpp>

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <system_error>
#include <thread>
#include <unistd.h>
#include <vector>

namespace {

constexpr int kCount = 10000;

struct Memory {
  long long rss_kib = 0;          // resident, this process
  long long vm_kib = 0;           // virtual, this process
  long long kernel_stack_kib = 0; // kernel stacks, the whole machine
};

long long page_kib() { return sysconf(_SC_PAGESIZE) / 1024; }

Memory memory() {
  Memory m;
  long long size = 0, resident = 0;
  if (FILE *f = std::fopen("/proc/self/statm", "r")) {
    if (std::fscanf(f, "%lld %lld", &size, &resident) == 2) {
      m.rss_kib = resident * page_kib();
      m.vm_kib = size * page_kib();
    }
    std::fclose(f);
  }
  if (FILE *f = std::fopen("/proc/meminfo", "r")) {
    char line[256];
    while (std::fgets(line, sizeof line, f))
      if (std::sscanf(line, "KernelStack: %lld kB", &m.kernel_stack_kib) == 1)
        break;
    std::fclose(f);
  }
  return m;
}

double ms_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(
             std::chrono::steady_clock::now() - t0)
      .count();
}

// Per item, in bytes.
double per(long long kib, int n) { return n > 0 ? kib * 1024.0 / n : 0; }

// Goroutines.
go::chan<int> release;
go::wait_group parked, returned;

__attribute__((noinline)) void wait_for_release() {
  parked.done();
  release.recv(); // parked here until main closes the channel
  returned.done();
}

double goroutine_rss;

void goroutines() {
  const Memory before = memory();
  const go::MemStats stats_before = go::read_mem_stats();
  const auto t0 = std::chrono::steady_clock::now();
  parked.add(kCount);
  returned.add(kCount);
  for (int i = 0; i < kCount; ++i)
    go::spawn([] { wait_for_release(); });
  parked.wait();
  const double ms = ms_since(t0);
  const Memory after = memory();
  const go::MemStats stats = go::read_mem_stats();

  const long long rss_kib = after.rss_kib - before.rss_kib;
  const long long stack_bytes =
      static_cast<long long>(stats.stack_inuse - stats_before.stack_inuse);
  const long long heap_bytes =
      static_cast<long long>(stats.heap_alloc - stats_before.heap_alloc);
  const unsigned long long compacted =
      stats.stacks_by_size[0] - stats_before.stacks_by_size[0];
  goroutine_rss = per(rss_kib, kCount);
  std::printf("%d goroutines, each parked on a channel receive:\n", kCount);
  std::printf("  started and parked in %.1f ms (%.2f us each)\n", ms,
              ms * 1000 / kCount);
  std::printf("  RSS          +%7lld KiB = %6.0f bytes per goroutine\n",
              rss_kib, goroutine_rss);
  std::printf("  stack_inuse  +%7lld KiB = %6.0f bytes per goroutine (%llu "
              "of them wait on 512-byte stacks)\n",
              stack_bytes / 1024, static_cast<double>(stack_bytes) / kCount,
              compacted);
  std::printf("  heap_alloc   +%7lld KiB = %6.0f bytes per goroutine (the "
              "runtime's records)\n",
              heap_bytes / 1024, static_cast<double>(heap_bytes) / kCount);
  std::printf("  virtual      +%7.1f GiB (address space for stacks, reserved "
              "once, not memory)\n",
              static_cast<double>(after.vm_kib - before.vm_kib) / (1 << 20));

  release.close();
  returned.wait();
}

// Threads.
std::mutex mu;
std::condition_variable started_cv; // main waits for the threads to start
std::condition_variable release_cv; // the threads wait for main
int waiting = 0;
bool released = false;

void thread_body() {
  std::unique_lock<std::mutex> lock(mu);
  ++waiting;
  started_cv.notify_one();
  release_cv.wait(lock, [] { return released; });
}

double thread_rss, thread_kernel_stack;

void threads() {
  const Memory before = memory();
  const auto t0 = std::chrono::steady_clock::now();
  std::vector<std::thread> threads;
  threads.reserve(kCount);
  const char *failure = nullptr;
  std::string error;
  for (int i = 0; i < kCount; ++i) {
    try {
      threads.emplace_back(thread_body);
    } catch (const std::system_error &e) {
      error = e.what();
      failure = error.c_str();
      break;
    }
  }
  const int n = static_cast<int>(threads.size());
  {
    std::unique_lock<std::mutex> lock(mu);
    started_cv.wait(lock, [n] { return waiting == n; });
  }
  const double ms = ms_since(t0);
  const Memory after = memory();

  thread_rss = per(after.rss_kib - before.rss_kib, n);
  thread_kernel_stack =
      per(after.kernel_stack_kib - before.kernel_stack_kib, n);
  std::printf("%d threads (std::thread, default stack), each waiting on a "
              "condition variable:\n",
              n);
  if (failure)
    std::printf("  (thread %d could not start: %s)\n", n + 1, failure);
  std::printf("  started and waiting in %.1f ms (%.2f us each)\n", ms,
              ms * 1000 / n);
  std::printf("  RSS          +%7lld KiB = %6.0f bytes per thread\n",
              after.rss_kib - before.rss_kib, thread_rss);
  std::printf("  virtual      +%7.1f GiB = %6.0f KiB per thread (its stack)\n",
              static_cast<double>(after.vm_kib - before.vm_kib) / (1 << 20),
              static_cast<double>(after.vm_kib - before.vm_kib) / n);
  std::printf("  KernelStack  +%7lld KiB = %6.0f bytes per thread (the "
              "whole machine's, not in RSS)\n",
              after.kernel_stack_kib - before.kernel_stack_kib,
              thread_kernel_stack);

  {
    std::lock_guard<std::mutex> lock(mu);
    released = true;
  }
  release_cv.notify_all();
  for (std::thread &t : threads)
    t.join();
}

} // namespace

int main() {
  go::run([] { goroutines(); });
  threads();
  std::printf("Per goroutine %.0f bytes of RSS, per thread %.0f: %.1fx "
              "more\n",
              goroutine_rss, thread_rss,
              goroutine_rss > 0 ? thread_rss / goroutine_rss : 0.0);
  std::printf("Per thread with its kernel stack %.0f bytes: %.1fx more\n",
              thread_rss + thread_kernel_stack,
              goroutine_rss > 0
                  ? (thread_rss + thread_kernel_stack) / goroutine_rss
                  : 0.0);
}
