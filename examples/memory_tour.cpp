// The article's memory tour, in C++: memory at a baseline, after 1000
// goroutines with 1 KiB locals, after 10 with 128 KiB locals, after 10 that
// made 1000 heap allocations of 1 KiB each, and at the end.
//
// The article's goroutines finish before it looks, so Go's numbers show
// what the runtime kept. Here each goroutine stays alive (parked on a
// channel, its local or its allocations still in use) until the end, so each
// row shows what the goroutines use while they exist; the last row shows
// what is left once they have all returned. There is no garbage collector:
// the allocations are freed with free(), and a finished goroutine's stack
// goes back to the runtime at once.
//
// The columns are go::MemStats (Go's runtime.MemStats names) and the
// process's resident memory:
//   stack_inuse  stacks handed to goroutines
//   stack_sys    stack memory obtained from the OS (freed stacks are kept)
//   heap_alloc   bytes allocated with malloc/new and not freed (Go's Alloc)
//   heap_sys     heap memory obtained from the OS
//   sys          stack_sys + heap_sys
//   RSS          resident memory of the whole process (/proc/self/statm)
#include <goroutine/goroutine.hpp>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <unistd.h>

namespace {

go::chan<int> release; // closed at the end: every goroutine returns
go::wait_group started, finished;

// Small local variables: a 1 KiB array that fits the 2 KiB stack.
__attribute__((noinline)) void smallStack() {
  char data[1024]; // 1 KiB
  for (size_t i = 0; i < sizeof data; ++i)
    data[i] = static_cast<char>(i);
  started.done();
  release.recv(); // parked here, data still in use
  asm volatile("" : : "r"(data) : "memory");
  finished.done();
}

// A large array on the stack: the stack grows to hold it.
__attribute__((noinline)) void largeStack() {
  char data[128 * 1024]; // 128 KiB
  for (size_t i = 0; i < sizeof data; ++i)
    data[i] = static_cast<char>(i);
  started.done();
  release.recv();
  asm volatile("" : : "r"(data) : "memory");
  finished.done();
}

// 1000 heap allocations of 1 KiB, kept until the end (Go's would be garbage
// at once and gone at the next collection). malloc is libc, so this
// goroutine's stack needs the 16 KiB reserve: it is at least 32 KiB.
__attribute__((noinline)) void heapAllocations() {
  char **blocks = static_cast<char **>(std::malloc(1000 * sizeof(char *)));
  for (int i = 0; i < 1000; ++i) {
    blocks[i] = static_cast<char *>(std::malloc(1024)); // 1 KiB
    blocks[i][0] = static_cast<char>(i);
  }
  started.done();
  release.recv();
  for (int i = 0; i < 1000; ++i)
    std::free(blocks[i]);
  std::free(blocks);
  finished.done();
}

template <void (*f)()> void start(int n) {
  started.add(n);
  finished.add(n);
  for (int i = 0; i < n; ++i)
    go::spawn([] { f(); });
  started.wait(); // all n are parked now
}

unsigned long long rss_kib() {
  unsigned long long size = 0, resident = 0;
  if (FILE *f = std::fopen("/proc/self/statm", "r")) {
    if (std::fscanf(f, "%llu %llu", &size, &resident) != 2)
      resident = 0;
    std::fclose(f);
  }
  return resident * static_cast<unsigned long long>(sysconf(_SC_PAGESIZE)) /
         1024;
}

unsigned long long kib(uint64_t bytes) { return bytes / 1024; }

void show_mem_stats(const char *stage) {
  const go::MemStats m = go::read_mem_stats();
  std::printf("%-42s %10llu %11llu %9llu %10llu %8llu %7llu %7llu\n", stage,
              static_cast<unsigned long long>(m.num_goroutine),
              kib(m.stack_inuse), kib(m.stack_sys), kib(m.heap_alloc),
              kib(m.heap_sys), kib(m.sys), rss_kib());
  std::printf("%-42s", "  stacks in use:");
  for (size_t i = 0; i < m.stacks_by_size.size(); ++i)
    if (m.stacks_by_size[i] != 0) {
      const size_t size = go::MemStats::stack_class_size(i);
      if (size < 1024)
        std::printf(" %llu x %zu B", (unsigned long long)m.stacks_by_size[i],
                    size);
      else
        std::printf(" %llu x %zu KiB", (unsigned long long)m.stacks_by_size[i],
                    size / 1024);
    }
  std::printf("\n");
}

} // namespace

int main() {
  go::run([] {
    std::printf("%-42s %10s %11s %9s %10s %8s %7s %7s\n", "(KiB)", "goroutines",
                "stack_inuse", "stack_sys", "heap_alloc", "heap_sys", "sys",
                "RSS");
    // Baseline memory usage
    show_mem_stats("Baseline");

    // 1000 goroutines with small stacks
    start<smallStack>(1000);
    show_mem_stats("After 1000 small goroutines");

    // 10 goroutines with large stacks
    start<largeStack>(10);
    show_mem_stats("After 10 large stack goroutines");

    // 10 goroutines with heap allocations
    start<heapAllocations>(10);
    show_mem_stats("After 10 goroutines with heap allocations");

    // Let them all return; a goroutine is gone just after its last done().
    release.close();
    finished.wait();
    while (go::num_goroutine() > 1)
      go::sleep_for(std::chrono::milliseconds(1));
    show_mem_stats("At the end (all returned, heap freed)");
  });
}
