// time.cpp: timers, sleeping (Go's time.go, with per-P timer heaps).
//
// Every P has a binary min-heap of timers ordered by `when`, under its own
// spin lock; P::timer0_when mirrors the earliest for lock-free peeks. A timer
// is added to the heap of the P that creates it (any P when created from a
// thread without one) and runs on whichever M looks first:
//   - the M that owns the P, each time its g0 schedules (find_runnable; a
//     goroutine switching directly to another goes through g0 every 8th
//     switch while timers are pending);
//   - a spinning M, when it steals from that P;
//   - an idle M, which sleeps on its futex no longer than until the earliest
//     timer of all Ps, then takes an idle P to run it.
// Callbacks run on g0 with the timer's P lock released; they must not block
// (they ready a goroutine, or send on a channel without blocking).
//
// A sleeping goroutine parks first and is put on the heap by its g0 after
// the switch (park's `after`), so the timer can never fire before the
// goroutine is switched out.
#include <algorithm>
#include <cstdlib>
#include <ctime>

#include <goroutine/goroutine.h>

#include "scheduler.h"

namespace go::runtime {

enum class TimerState : uint8_t { Idle, Waiting, Running, Done };

struct Timer {
  int64_t when = 0;
  int64_t period = 0;
  void (*fn)(void *) = nullptr;
  void *arg = nullptr;
  std::atomic<P *> p{nullptr}; // whose heap it is on (or ran from)
  size_t index = 0;            // position in that heap
  std::atomic<TimerState> state{TimerState::Idle};
  bool stopping = false; // stop() waits for a running callback
  bool auto_free = false;
};

namespace {

bool earlier(const Timer *a, const Timer *b) { return a->when < b->when; }

void sift_up(std::vector<Timer *> &h, size_t i) {
  Timer *t = h[i];
  while (i > 0) {
    const size_t parent = (i - 1) / 2;
    if (!earlier(t, h[parent]))
      break;
    h[i] = h[parent];
    h[i]->index = i;
    i = parent;
  }
  h[i] = t;
  t->index = i;
}

void sift_down(std::vector<Timer *> &h, size_t i) {
  Timer *t = h[i];
  const size_t n = h.size();
  for (;;) {
    size_t child = 2 * i + 1;
    if (child >= n)
      break;
    if (child + 1 < n && earlier(h[child + 1], h[child]))
      ++child;
    if (!earlier(h[child], t))
      break;
    h[i] = h[child];
    h[i]->index = i;
    i = child;
  }
  h[i] = t;
  t->index = i;
}

void update_timer0(P *p) {
  p->timer0_when.store(p->timers.empty() ? 0 : p->timers[0]->when,
                       std::memory_order_release);
}

// Lock held.
void heap_push(P *p, Timer *t) {
  t->p.store(p, std::memory_order_relaxed);
  t->state.store(TimerState::Waiting, std::memory_order_relaxed);
  p->timers.push_back(t);
  sift_up(p->timers, p->timers.size() - 1);
  update_timer0(p);
}

// Lock held.
void heap_remove(P *p, Timer *t) {
  std::vector<Timer *> &h = p->timers;
  const size_t i = t->index;
  Timer *last = h.back();
  h.pop_back();
  if (last != t) {
    h[i] = last;
    last->index = i;
    sift_down(h, i);
    sift_up(h, last->index);
  }
  update_timer0(p);
}

void add_timer(Timer *t) {
  P *p = current_p();
  if (p == nullptr)
    p = first_p(); // a thread without a P: its M, or an idle one, runs it
  spin_lock(&p->timers_lock);
  heap_push(p, t);
  spin_unlock(&p->timers_lock);
  wake_for_timer();
}

} // namespace

int64_t run_timers(P *p, int64_t now) {
  int64_t next = p->timer0_when.load(std::memory_order_acquire);
  if (next == 0 || next > now)
    return next;
  spin_lock(&p->timers_lock);
  while (!p->timers.empty() && p->timers[0]->when <= now) {
    Timer *t = p->timers[0];
    heap_remove(p, t);
    t->state.store(TimerState::Running, std::memory_order_release);
    spin_unlock(&p->timers_lock);
    t->fn(t->arg);
    spin_lock(&p->timers_lock);
    if (t->period > 0 && !t->stopping) {
      t->when += t->period;
      if (t->when <= now) // fell behind: skip the missed ticks
        t->when = now + t->period;
      heap_push(p, t);
    } else if (t->auto_free) {
      delete t;
    } else {
      t->state.store(TimerState::Done, std::memory_order_release);
    }
  }
  next = p->timer0_when.load(std::memory_order_relaxed);
  spin_unlock(&p->timers_lock);
  return next;
}

} // namespace go::runtime

using namespace go::runtime;

extern "C" int64_t goroutine_nanotime() { return nanotime(); }

extern "C" GOROUTINE_PARK_PATH void goroutine_sleep_until(int64_t when) {
  Goroutine *g = current_g();
  if (g == nullptr) { // a plain thread just sleeps
    for (int64_t left; (left = when - nanotime()) > 0;) {
      timespec ts{left / 1'000'000'000, left % 1'000'000'000};
      nanosleep(&ts, nullptr);
    }
    return;
  }
  if (when <= nanotime())
    return;
  Timer *t = nullptr;
  on_system_stack([&] {
    t = new Timer;
    t->when = when;
    t->fn = [](void *arg) { ready(static_cast<Goroutine *>(arg)); };
    t->arg = g;
    t->auto_free = true; // the goroutine may run (elsewhere) before fn returns
  });
  park(
      WaitReason::Sleep,
      [](Goroutine *, void *timer) { add_timer(static_cast<Timer *>(timer)); },
      t);
}

extern "C" goroutine_timer *goroutine_timer_start(int64_t when, int64_t period,
                                                  void (*fn)(void *),
                                                  void *arg) {
  Timer *t = nullptr;
  on_system_stack([&] {
    t = new Timer;
    t->when = when;
    t->period = period;
    t->fn = fn;
    t->arg = arg;
    add_timer(t);
  });
  return reinterpret_cast<goroutine_timer *>(t);
}

extern "C" goroutine_timer *
goroutine_ticker_start(int64_t period, void (*fn)(void *), void *arg) {
  if (period <= 0) // Go's NewTicker panics alike
    on_system_stack(
        [] { panic_message("non-positive interval for go::ticker"); });
  return goroutine_timer_start(nanotime() + period, period, fn, arg);
}

extern "C" void goroutine_after_func(int64_t when, void (*fn)(void *),
                                     void *arg) {
  on_system_stack([&] {
    Timer *t = new Timer;
    t->when = when;
    t->fn = fn;
    t->arg = arg;
    t->auto_free = true;
    add_timer(t);
  });
}

extern "C" int goroutine_timer_stop(goroutine_timer *h) {
  Timer *t = reinterpret_cast<Timer *>(h);
  int stopped = 0;
  on_system_stack([&] {
    for (;;) {
      P *p = t->p.load(std::memory_order_acquire);
      spin_lock(&p->timers_lock);
      if (t->p.load(std::memory_order_relaxed) != p) { // moved meanwhile
        spin_unlock(&p->timers_lock);
        continue;
      }
      switch (t->state.load(std::memory_order_acquire)) {
      case TimerState::Waiting:
        heap_remove(p, t);
        spin_unlock(&p->timers_lock);
        stopped = 1;
        delete t;
        return;
      case TimerState::Running: // its callback runs now: wait for it
        t->stopping = true;
        spin_unlock(&p->timers_lock);
        while (t->state.load(std::memory_order_acquire) == TimerState::Running)
          sched_yield();
        continue;
      case TimerState::Done:
      case TimerState::Idle:
        spin_unlock(&p->timers_lock);
        stopped = t->period > 0 ? 1 : 0;
        delete t;
        return;
      }
    }
  });
  return stopped;
}
