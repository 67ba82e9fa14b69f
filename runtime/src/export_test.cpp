// export_test.cpp: the functions of export_test.h, for the runtime's unit
// tests (Go's export_test.go). Thin wrappers; see the header.
#include "export_test.h"

#include <mutex>

#include "scheduler.h"
#include "stack.h"

namespace go::runtime::exported {

P *new_p() { return new P; }
void free_p(P *p) { delete p; }

Goroutine *new_g(uint64_t id) {
  auto *g = new Goroutine;
  g->id = id;
  return g;
}
void free_g(Goroutine *g) { delete g; }
uint64_t g_id(const Goroutine *g) { return g->id; }

uint32_t runq_capacity() { return P::kRunQueueSize; }
void runq_put(P *p, Goroutine *g, bool next) {
  go::runtime::runq_put(p, g, next);
}
Goroutine *runq_get(P *p, bool *inherit) {
  return go::runtime::runq_get(p, inherit);
}
Goroutine *runq_steal(P *p, P *victim, bool take_runnext) {
  return go::runtime::runq_steal(p, victim, take_runnext);
}
bool runq_empty(const P *p) { return go::runtime::runq_empty(p); }
uint32_t runq_len(const P *p) {
  return p->runq_tail.load(std::memory_order_acquire) -
         p->runq_head.load(std::memory_order_acquire);
}
Goroutine *runnext(const P *p) {
  return p->runnext.load(std::memory_order_acquire);
}

int global_runq_len() {
  return sched.runq_size.load(std::memory_order_acquire);
}

Goroutine *global_runq_pop() {
  std::lock_guard<AdaptiveMutex> lock(sched.lock);
  Goroutine *g = sched.runq_head;
  if (g == nullptr)
    return nullptr;
  sched.runq_head = g->schedlink;
  if (sched.runq_head == nullptr)
    sched.runq_tail = nullptr;
  sched.runq_size.fetch_sub(1, std::memory_order_relaxed);
  g->schedlink = nullptr;
  return g;
}

void ready(Goroutine *g) { go::runtime::ready(g); }
void set_park_finishing(Goroutine *g) {
  g->park_state.store(ParkState::Finishing);
}
bool park_woken(const Goroutine *g) {
  return g->park_state.load() == ParkState::Woken;
}

static StackSpan span(Stack s) { return {s.lo, s.hi}; }
static Stack stack(StackSpan s) { return {s.lo, s.hi}; }

StackSpan stack_alloc(size_t size) {
  init_settings();
  return span(go::runtime::stack_alloc(size));
}
StackSpan stack_alloc_at(size_t size, uint32_t top) {
  init_settings();
  return span(go::runtime::stack_alloc_at(size, top));
}
void stack_free(StackSpan s) { go::runtime::stack_free(stack(s)); }
void stack_home_park(StackSpan home) {
  go::runtime::stack_home_park(stack(home));
}
void stack_home_unpark(StackSpan home) {
  go::runtime::stack_home_unpark(stack(home));
}
bool stack_guard_contains(StackSpan s, uintptr_t addr) {
  return go::runtime::stack_guard_contains(stack(s), addr);
}
size_t stack_compact_size() { return kStackCompactSize; }
bool guardpages() {
  init_settings();
  return settings.guardpages;
}
bool stackpoison() {
  init_settings();
  return settings.stackpoison;
}

} // namespace go::runtime::exported
