// export_test.h: runtime internals exported to the unit tests in
// test/runtime/internals_test.cpp (Go's export_test.go).
//
// The tests are compiled with the plugin and the runtime is not, so they
// reach the internals only through the out-of-line functions below
// (export_test.cpp) and never instantiate the runtime's inline code or
// records themselves. Nothing in the runtime includes this header;
// export_test.o is linked only into programs that call it.
#ifndef GOROUTINE_EXPORT_TEST_H
#define GOROUTINE_EXPORT_TEST_H

#include <cstddef>
#include <cstdint>

namespace go::runtime {
struct Goroutine;
struct P;

namespace exported {

// ---- Run queues (proc.cpp) --------------------------------------------------

// A P with empty queues, outside the scheduler (not in its list of Ps).
P *new_p();
void free_p(P *p);
// A goroutine record outside the scheduler (not in allgs), never run.
Goroutine *new_g(uint64_t id);
void free_g(Goroutine *g);
uint64_t g_id(const Goroutine *g);

uint32_t runq_capacity(); // P::kRunQueueSize
void runq_put(P *p, Goroutine *g, bool next);
Goroutine *runq_get(P *p, bool *inherit);
Goroutine *runq_steal(P *p, P *victim, bool take_runnext);
bool runq_empty(const P *p);
uint32_t runq_len(const P *p); // the ring only
Goroutine *runnext(const P *p);

// The global run queue (under the scheduler lock).
int global_runq_len();
Goroutine *global_runq_pop(); // null when empty

// ready(g) (proc.cpp), and the park state it honours: a goroutine whose g0
// is still finishing its park is only marked woken.
void ready(Goroutine *g);
void set_park_finishing(Goroutine *g);
bool park_woken(const Goroutine *g);

// ---- The stack arena (stack_alloc.cpp)
// ---------------------------------------

struct StackSpan {
  uintptr_t lo = 0;
  uintptr_t hi = 0;
};

// GOROUTINE_DEBUG is read first, so the arena works in the test's mode.
StackSpan stack_alloc(size_t size);
StackSpan stack_alloc_at(size_t size, uint32_t top);
void stack_free(StackSpan s);
void stack_home_park(StackSpan home);
void stack_home_unpark(StackSpan home);
bool stack_guard_contains(StackSpan s, uintptr_t addr);
size_t stack_compact_size(); // kStackCompactSize
bool guardpages();           // GOROUTINE_DEBUG=guardpages=1
bool stackpoison();          // GOROUTINE_DEBUG=stackpoison=1

} // namespace exported
} // namespace go::runtime

#endif // GOROUTINE_EXPORT_TEST_H
