// proc.cpp: running goroutines on a thread.
//
// This is the single-threaded core the scheduler builds on: go::run makes the
// calling thread a runtime thread, creates the main goroutine, and loops on
// the thread's own stack (g0) switching into it until it finishes. Every
// switch back to g0 is a safe point at which the goroutine's stack may shrink.
//
// Invariants (runtime.h): the limit slot is 0 whenever g0 runs; it holds the
// goroutine's limit only between the switch into the goroutine and the switch
// back out.
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <mutex>
#include <new>

#include <goroutine/goroutine.h>

#include "signals.h"
#include "stack.h"
#include "trace.h"

constinit thread_local go::runtime::ThreadState goroutine_thread_state
    __attribute__((tls_model("initial-exec")));

// Functions that can be on a goroutine's stack while it is switched out; see
// trace.cpp. Small frames only, and no calls other than goroutine_switch.
#define GOROUTINE_PARK_PATH                                                    \
  __attribute__((section("goroutine_park_text"), noinline))

namespace go::runtime {
namespace {

std::atomic<uint64_t> next_goroutine_id{1};

void init_runtime() {
  static std::once_flag once;
  std::call_once(once, [] {
    init_settings();
    stack_init_cpu();
    signals_init();
    panic_init();
  });
}

Goroutine *goroutine_create(void (*fn)(void *), void *arg) {
  auto *g = new Goroutine;
  g->stack = stack_alloc(settings.stackmin);
  g->stackguard = g->stack.lo + kStackGuard;
  g->id = next_goroutine_id.fetch_add(1, std::memory_order_relaxed);
  g->entry = fn;
  g->entry_arg = arg;
  stack_init_context(g);
  counters.num_goroutine.fetch_add(1, std::memory_order_relaxed);
  return g;
}

void goroutine_destroy(Goroutine *g) {
  stack_free(g->stack);
  g->side.release();
  counters.num_goroutine.fetch_sub(1, std::memory_order_relaxed);
  delete g;
}

// Switches from g0 into g and back; returns when g yields or finishes.
void execute(ThreadState &ts, Goroutine *g) {
  ts.g = g;
  if (ts.torture_countdown == 0)
    ts.torture_countdown = settings.stackmove; // 0 (off) stays 0
  g->status = GoroutineStatus::Running;
  SideStack thread_side;
  side_stack_switch(&thread_side, &g->side);
  enter_stack_limit(ts, stack_limit_for(g));
  goroutine_switch(&ts.g0_sp, g->sched_sp);
  enter_stack_limit(ts, 0);
  side_stack_switch(&g->side, &thread_side);
  ts.g = nullptr;
}

} // namespace
} // namespace go::runtime

using namespace go::runtime;

// The bottom frame of every goroutine, entered from goroutine_trampoline.
extern "C" GOROUTINE_PARK_PATH [[noreturn]] void goroutine_main(Goroutine *g) {
  g->entry(g->entry_arg);
  g->status = GoroutineStatus::Dead;
  goroutine_switch(&g->sched_sp, goroutine_thread_state.g0_sp);
  __builtin_trap(); // a dead goroutine is never resumed
}

extern "C" GOROUTINE_PARK_PATH void goroutine_yield() {
  ThreadState &ts = goroutine_thread_state;
  Goroutine *g = ts.g;
  if (g == nullptr)
    return;
  g->status = GoroutineStatus::Yielded;
  goroutine_switch(&g->sched_sp, ts.g0_sp);
}

extern "C" void goroutine_run(void (*fn)(void *), void *arg) {
  init_runtime();
  ThreadState &ts = goroutine_thread_state;
  if (ts.g != nullptr)
    fatal("go::run called from a goroutine");
  ThreadSignalStack signal_stack; // signal handlers never run on goroutines
  Goroutine *g = goroutine_create(fn, arg);
  for (;;) {
    execute(ts, g);
    if (g->status == GoroutineStatus::Dead)
      break;
    stack_shrink(g); // a switched-out goroutine: a safe point
  }
  goroutine_destroy(g);
  // glibc reuses thread control blocks without clearing the limit slot; a
  // thread that stops running goroutines must leave it 0 (runtime.h, 1).
  set_stack_limit(0);
}

extern "C" uint64_t goroutine_id() {
  const Goroutine *g = goroutine_thread_state.g;
  return g != nullptr ? g->id : 0;
}

extern "C" size_t goroutine_stack_size() {
  const Goroutine *g = goroutine_thread_state.g;
  return g != nullptr ? g->stack.size() : 0;
}

extern "C" size_t goroutine_set_max_stack(size_t bytes) {
  size_t old = 0;
  on_system_stack([&] {
    init_settings();
    old = settings.maxstack;
    if (bytes < kStackMinAllowed || bytes > kStackMaxAllowed)
      fatal("go::set_max_stack(%zu): the limit must be between %zu and %zu "
            "bytes",
            bytes, kStackMinAllowed, kStackMaxAllowed);
    settings.maxstack = bytes;
  });
  return old;
}

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
}
