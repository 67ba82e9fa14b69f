// api.cpp: the scheduler's C entry points (goroutine.h): starting
// goroutines and their closures, go::run, and the queries and settings
// behind go::stack_trace, go::maxprocs and friends.
//
// Each entry point does its work on the system stack (on_system_stack): a
// goroutine calls them without a stack reserve (runtime.h, invariant 4). The
// mechanisms they drive live elsewhere: scheduling in proc.cpp, stopping the
// world in preempt.cpp. go::blocking's entry points stay in proc.cpp with the
// context switch they may need (Go's entersyscall and exitsyscall live in
// proc.go too).
#include <algorithm>
#include <cstdlib>
#include <mutex>
#include <sched.h>

#include <goroutine/goroutine.h>

#include "scheduler.h"
#include "signals.h"
#include "stack.h"
#include "trace.h"

using namespace go::runtime;

// The goroutine record a closure from goroutine_closure_alloc belongs to.
static Goroutine *closure_owner(void *closure) {
  return *reinterpret_cast<Goroutine **>(static_cast<char *>(closure) -
                                         sizeof(void *));
}

extern "C" uint64_t goroutine_spawn(void (*fn)(void *), void *arg) {
  const auto creator_pc =
      reinterpret_cast<uintptr_t>(__builtin_return_address(0));
  uint64_t id = 0;
  on_system_stack([&] {
    init_runtime();
    Goroutine *g = new_goroutine(fn, arg, creator_pc);
    id = g->id;
    ready(g);
  });
  return id;
}

// The closure goes in the goroutine record it reserves when it fits, else on
// the heap behind a header that names that record.
extern "C" void *goroutine_closure_alloc(size_t size, size_t align) {
  void *p = nullptr;
  on_system_stack([&] {
    init_runtime();
    Goroutine *g = reserve_goroutine();
    if (size <= sizeof g->closure_slot.buf && align <= 16) {
      p = g->closure_buf();
    } else {
      align = std::max<size_t>(align, 2 * sizeof(void *));
      auto *block = static_cast<char *>(std::aligned_alloc(
          align, (size + align + align - 1) / align * align));
      if (block == nullptr)
        fatal("out of memory for a goroutine closure of %zu bytes", size);
      // The closure starts `align` bytes in; the word before it names g.
      p = block + align;
      reinterpret_cast<Goroutine **>(p)[-1] = g;
      reinterpret_cast<char **>(p)[-2] = block;
    }
    g->closure = p;
  });
  return p;
}

extern "C" void goroutine_closure_free(void *closure) {
  on_system_stack([closure] {
    Goroutine *g = closure_owner(closure);
    free_closure(g);
    if (P *p = current_p()) {
      gfree_put(p, g);
    } else {
      std::lock_guard<AdaptiveMutex> lock(sched.lock);
      g->schedlink = sched.gfree;
      sched.gfree = g;
    }
  });
}

extern "C" uint64_t goroutine_spawn_closure(void (*fn)(void *), void *closure) {
  const auto creator_pc =
      reinterpret_cast<uintptr_t>(__builtin_return_address(0));
  uint64_t id = 0;
  on_system_stack([&] {
    Goroutine *g = closure_owner(closure);
    start_goroutine(g, fn, closure, creator_pc);
    id = g->id;
    ready(g);
  });
  return id;
}

extern "C" void goroutine_run(void (*fn)(void *),
                              void *GOROUTINE_NOESCAPE arg) {
  init_runtime();
  ThreadState &ts = goroutine_thread_state;
  if (ts.g != nullptr)
    fatal("go::run called from a goroutine");
  static thread_local M *main_m = nullptr;
  Goroutine *g = new_goroutine(fn, arg, 0);
  {
    std::lock_guard<AdaptiveMutex> lock(sched.lock);
    if (sched.running.load())
      fatal("go::run called while the runtime runs on another thread");
    if (main_m == nullptr)
      main_m = new_m_record();
    sched.running.store(true);
    sched.main_done.store(false);
    sched.main_g = g;
    sched.main_m = main_m;
    main_m->is_main = true;
    globrunq_put_batch(g, g, 1);
    if (P *p = pidle_get())
      acquirep(main_m, p);
  }
  register_thread(main_m);
  ThreadSignalStack signal_stack; // signal handlers never run on goroutines
  wakep(); // goroutines left from an earlier go::run may be runnable
  schedule(main_m);
  {
    std::lock_guard<AdaptiveMutex> lock(sched.lock);
    if (main_m->p != nullptr)
      drop_p(main_m);
    else if (main_m->spinning)
      stop_spinning(main_m);
    sched.main_m = nullptr;
    sched.running.store(false);
  }
  ts.m = nullptr;
  // glibc reuses thread control blocks without clearing the limit slot; a
  // thread that stops running goroutines must leave it 0 (runtime.h, 1).
  set_stack_limit(0);
}

extern "C" uint64_t goroutine_id() {
  const Goroutine *g = this_thread().g;
  return g != nullptr ? g->id : 0;
}

extern "C" uint64_t goroutine_num_goroutine() {
  return counters.num_goroutine.load(std::memory_order_relaxed);
}

extern "C" int goroutine_maxprocs() {
  on_system_stack([] { init_runtime(); });
  return sched.nprocs;
}

extern "C" size_t goroutine_stack_trace(char *GOROUTINE_NOESCAPE buf,
                                        size_t len, int all) {
  if (all) {
    // The holder of the stop waits for this goroutine's P: let it go.
    while (!stw_try_lock()) {
      if (this_thread().g != nullptr)
        goroutine_yield();
      else
        sched_yield();
    }
  }
  size_t n = 0;
  on_system_stack([&] {
    init_runtime();
    TraceWriter w(buf, len);
    const Goroutine *self = current_g();
    trace_print_current(w, self, "running",
                        reinterpret_cast<uintptr_t>(&goroutine_stack_trace),
                        Symbolize::Lines);
    if (all) {
      // No timeout: like Go's runtime.Stack, wait for every goroutine to
      // reach a function entry.
      stop_the_world(INT64_MAX / 2);
      print_goroutines(w, self);
      start_the_world();
    }
    n = w.total();
  });
  return n;
}

extern "C" size_t goroutine_stack_size() {
  const Goroutine *g = this_thread().g;
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
