// The article's shallow and deep goroutines, in C++: one with a 100-byte
// local, one with a 64 KiB local. Both start on a 2 KiB stack; the shallow
// one never needs more, the deep one's stack grows (by copying) until its
// frame fits. Nobody chose a stack size.
//
// Each goroutine records its stack size from inside and the main goroutine
// prints the numbers. Then the two run again printing their message, as the
// article's versions do: a call into libc (printf), which was not compiled
// with the plugin, needs 16 KiB free below it, so a goroutine that prints
// has at least a 32 KiB stack (docs/design.md, "The reserve for
// uninstrumented calls").
#include <goroutine/goroutine.hpp>

#include <cstdio>

namespace {

struct Measure {
  size_t before = 0;  // the stack size when the goroutine started
  size_t inside = 0;  // the stack size with the local in use
  uint64_t grows = 0; // stack growths while it ran (all goroutines)
};
Measure shallow_quiet, deep_quiet, shallow_printing, deep_printing;

// Uses ~100 bytes of stack space.
template <bool Print> __attribute__((noinline)) void shallow(Measure *m) {
  char small[100];
  for (size_t i = 0; i < sizeof small; ++i)
    small[i] = static_cast<char>(i);
  asm volatile("" : : "r"(small) : "memory"); // keep the array
  if constexpr (Print)
    std::printf("Shallow function with small stack needs\n");
  m->inside = go::stack_size();
}

// Uses ~64 KiB of stack space.
template <bool Print> __attribute__((noinline)) void deep(Measure *m) {
  char large[64 * 1024];
  for (size_t i = 0; i < sizeof large; ++i)
    large[i] = static_cast<char>(i);
  asm volatile("" : : "r"(large) : "memory");
  if constexpr (Print)
    std::printf("Deep function with large stack needs\n");
  m->inside = go::stack_size();
}

// Runs f(m) as a goroutine and waits for it. (f is called directly: a call
// through a function pointer might reach code without the plugin, so it
// needs the reserve too.)
template <void (*f)(Measure *)> void run_goroutine(Measure *m) {
  go::wait_group wg;
  wg.add(1);
  go::spawn([m, &wg] {
    const uint64_t grows = go::read_mem_stats().num_stack_grow;
    m->before = go::stack_size();
    f(m);
    m->grows = go::read_mem_stats().num_stack_grow - grows;
    wg.done();
  });
  wg.wait();
}

void report(const char *name, size_t local, const Measure &m) {
  std::printf("%-8s local %5zu bytes: stack %6zu -> %6zu bytes (%llu "
              "growth%s)\n",
              name, local, m.before, m.inside,
              static_cast<unsigned long long>(m.grows),
              m.grows == 1 ? "" : "s");
}

} // namespace

int main() {
  go::run([] {
    // The main goroutine prints; the goroutines it measures do not.
    std::printf("Quiet (no libc calls):\n");
    run_goroutine<shallow<false>>(&shallow_quiet);
    report("shallow", 100, shallow_quiet);
    run_goroutine<deep<false>>(&deep_quiet);
    report("deep", 64 * 1024, deep_quiet);
    std::printf("Printing, as the article's do (printf needs a 16 KiB "
                "reserve):\n");
    run_goroutine<shallow<true>>(&shallow_printing);
    report("shallow", 100, shallow_printing);
    run_goroutine<deep<true>>(&deep_printing);
    report("deep", 64 * 1024, deep_printing);
  });
}
