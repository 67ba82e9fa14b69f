// mstats.cpp: memory statistics (Go's mstats.go).
//
// The runtime counts stack memory as it goes (Counters, runtime.h: stack.cpp,
// stack_alloc.cpp and side_stack.cpp update them with relaxed atomics);
// go::read_mem_stats() copies the counters and asks glibc about the heap.
// The counters are read one by one, not as a snapshot: two of them may
// disagree by the operations in flight.
#include <malloc.h>

#include <goroutine/goroutine.h>

#include "runtime.h"

namespace go::runtime {

Counters counters;

} // namespace go::runtime

using namespace go::runtime;

extern "C" void goroutine_read_mem_stats(goroutine_mem_stats *s) {
  auto load = [](const std::atomic<uint64_t> &c) {
    return c.load(std::memory_order_relaxed);
  };
  s->stack_inuse = load(counters.stack_inuse);
  s->stack_sys = load(counters.stack_sys);
  s->num_goroutine = load(counters.num_goroutine);
  s->num_stack_grow = load(counters.num_stack_grow);
  s->num_stack_shrink = load(counters.num_stack_shrink);
  s->num_stack_move = load(counters.num_stack_move);
  s->stack_bytes_copied = load(counters.stack_bytes_copied);
  s->side_stack_sys = load(counters.side_stack_sys);
  for (int k = 0; k < GOROUTINE_NUM_STACK_SIZES; ++k)
    s->stacks_by_size[k] = load(counters.stacks_by_size[k]);
  // glibc's view of the heap. mallinfo2 walks its free lists under the
  // arenas' locks: on the system stack.
  struct mallinfo2 mi;
  on_system_stack([&] { mi = mallinfo2(); });
  s->heap_alloc = mi.uordblks + mi.hblkhd;
  s->heap_sys = mi.arena + mi.hblkhd;
  s->heap_inuse = s->heap_sys - mi.keepcost;
  s->sys = s->stack_sys + s->heap_sys;
}
