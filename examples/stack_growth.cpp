// The article's recursion with a 1 KiB buffer per call, in C++: the stack
// starts at 2 KiB and doubles as the recursion deepens (2 KiB -> 4 KiB ->
// ...), then halves back at safe points once the recursion has returned.
//
// The goroutine records what happens and main prints it afterwards: printing
// from the goroutine would call into libc, and every call into code that was
// not compiled with the plugin needs a 16 KiB reserve below it, which would
// grow this small stack to 32 KiB at once (docs/design.md, "The reserve for
// uninstrumented calls").
#include <goroutine/goroutine.hpp>

#include <cstdio>
#include <cstring>

namespace {

struct Event {
  const char *what;
  int depth;
  size_t stack;
};
Event events[64];
int num_events = 0;

void record(const char *what, int depth) {
  const size_t size = go::stack_size();
  if (num_events == 0 || events[num_events - 1].stack != size)
    if (num_events < 64)
      events[num_events++] = {what, depth, size};
}

__attribute__((noinline)) int recursive_function(int n) {
  char buffer[1024]; // 1 KiB of stack per call
  std::memset(buffer, n, sizeof buffer);
  record("growing", n);
  if (n <= 0)
    return buffer[0];
  return recursive_function(n - 1) + buffer[n % 1024];
}

go::MemStats after_growing, after_shrinking;

void print_stats(const char *label, const go::MemStats &s) {
  std::printf("%s: stack_inuse=%llu stack_sys=%llu num_stack_grow=%llu "
              "num_stack_shrink=%llu stack_bytes_copied=%llu\n",
              label, static_cast<unsigned long long>(s.stack_inuse),
              static_cast<unsigned long long>(s.stack_sys),
              static_cast<unsigned long long>(s.num_stack_grow),
              static_cast<unsigned long long>(s.num_stack_shrink),
              static_cast<unsigned long long>(s.stack_bytes_copied));
}

} // namespace

int main() {
  go::run([] {
    record("start", 0);
    recursive_function(1000); // ~1 MiB of frames
    after_growing = go::read_mem_stats();
    // Each yield is a safe point: a stack used below a quarter shrinks to
    // half its size.
    for (int i = 0; i < 16; ++i) {
      go::yield();
      record("shrunk", 0);
    }
    after_shrinking = go::read_mem_stats();
  });
  for (int i = 0; i < num_events; ++i)
    std::printf("%-8s depth %4d: stack %7zu bytes\n", events[i].what,
                events[i].depth, events[i].stack);
  print_stats("after growing", after_growing);
  print_stats("after shrinking", after_shrinking);
}
