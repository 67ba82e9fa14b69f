// sync.cpp: Go's sync primitives for goroutines (mutex, rwmutex, cond,
// wait group), built on one wait queue.
//
// goroutine_waitq is a FIFO of parked goroutines (linked through
// Goroutine::schedlink) under a spin lock. Blocking = enqueue under the lock,
// then park; g0 releases the lock after the switch (proc.cpp), so a waker
// that takes the lock always finds the goroutine fully switched out.
//
// go::mutex hands ownership directly to the goroutine it wakes (Go's
// starvation mode, always): strict FIFO, no barging, no lost wakeups. The
// uncontended paths are a single CAS.
//
// None of these records points into a goroutine stack: queues link the
// Goroutine objects themselves.
#include <goroutine/goroutine.h>

#include "scheduler.h"

namespace go::runtime {
namespace {

constexpr uint32_t kLocked = 1;
constexpr uint32_t kWaiters = 2;

void waitq_push(goroutine_waitq *q, Goroutine *g) {
  g->schedlink = nullptr;
  if (q->tail != nullptr)
    static_cast<Goroutine *>(q->tail)->schedlink = g;
  else
    q->head = g;
  q->tail = g;
}

Goroutine *waitq_pop(goroutine_waitq *q) {
  auto *g = static_cast<Goroutine *>(q->head);
  if (g != nullptr) {
    q->head = g->schedlink;
    if (q->head == nullptr)
      q->tail = nullptr;
    g->schedlink = nullptr;
  }
  return g;
}

// Wakes every goroutine taken off a queue (already unlinked, chained through
// schedlink).
void ready_all(Goroutine *list) {
  while (list != nullptr) {
    Goroutine *next = list->schedlink;
    list->schedlink = nullptr;
    ready(list);
    list = next;
  }
}

uint32_t load(const uint32_t *w) {
  return __atomic_load_n(w, __ATOMIC_ACQUIRE);
}
bool cas(uint32_t *w, uint32_t expected, uint32_t desired) {
  return __atomic_compare_exchange_n(w, &expected, desired, false,
                                     __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE);
}

// On the system stack: takes the mutex, or queues g and returns true with the
// queue locked (the caller parks).
bool mutex_lock_or_queue(goroutine_mutex *m, Goroutine *g) {
  spin_lock(&m->waiters.lock);
  for (;;) {
    const uint32_t s = load(&m->state);
    if ((s & kLocked) == 0) {
      if (cas(&m->state, s, s | kLocked)) {
        spin_unlock(&m->waiters.lock);
        return false;
      }
    } else if (cas(&m->state, s, s | kWaiters)) {
      waitq_push(&m->waiters, g);
      return true;
    }
  }
}

void mutex_unlock_slow(goroutine_mutex *m) {
  spin_lock(&m->waiters.lock);
  const uint32_t s = load(&m->state);
  if ((s & kLocked) == 0) {
    spin_unlock(&m->waiters.lock);
    fatal("sync: unlock of unlocked mutex");
  }
  Goroutine *next = waitq_pop(&m->waiters);
  // Handing over: the mutex stays locked for `next`.
  __atomic_store_n(&m->state,
                   next == nullptr              ? 0
                   : m->waiters.head == nullptr ? kLocked
                                                : kLocked | kWaiters,
                   __ATOMIC_RELEASE);
  spin_unlock(&m->waiters.lock);
  if (next != nullptr)
    ready(next);
}

// With m's lock held: takes a read lock if no writer holds or waits for m.
bool rlock_now(goroutine_rwmutex *m) {
  if (m->writer != 0 || m->waiting_writers != 0)
    return false;
  ++m->active_readers;
  return true;
}

// With m's lock held: takes the write lock if nobody holds m.
bool lock_now(goroutine_rwmutex *m) {
  if (m->writer != 0 || m->active_readers != 0)
    return false;
  m->writer = 1;
  return true;
}

void mutex_unlock(goroutine_mutex *m) {
  if (!cas(&m->state, kLocked, 0))
    mutex_unlock_slow(m);
}

} // namespace
} // namespace go::runtime

using namespace go::runtime;

// ---- mutex ------------------------------------------------------------------

extern "C" GOROUTINE_PARK_PATH void goroutine_mutex_lock(goroutine_mutex *m) {
  if (cas(&m->state, 0, kLocked))
    return;
  bool queued = false;
  on_system_stack([&] {
    queued = mutex_lock_or_queue(m, waiting_goroutine("go::mutex::lock"));
  });
  if (queued)
    park_unlock(WaitReason::MutexLock, &m->waiters.lock); // woken as owner
}

extern "C" int goroutine_mutex_trylock(goroutine_mutex *m) {
  for (;;) {
    const uint32_t s = load(&m->state);
    if ((s & kLocked) != 0)
      return 0;
    if (cas(&m->state, s, s | kLocked))
      return 1;
  }
}

extern "C" void goroutine_mutex_unlock(goroutine_mutex *m) {
  if (cas(&m->state, kLocked, 0))
    return;
  on_system_stack([m] { mutex_unlock_slow(m); });
}

// ---- rwmutex: every field under readers.lock --------------------------------

extern "C" GOROUTINE_PARK_PATH void
goroutine_rwmutex_rlock(goroutine_rwmutex *m) {
  bool queued = false;
  on_system_stack([&] {
    spin_lock(&m->readers.lock);
    if (rlock_now(m)) {
      spin_unlock(&m->readers.lock);
      return;
    }
    waitq_push(&m->readers, waiting_goroutine("go::rwmutex::lock_shared"));
    queued = true;
  });
  if (queued)
    park_unlock(WaitReason::RWMutexRLock, &m->readers.lock);
}

extern "C" int goroutine_rwmutex_tryrlock(goroutine_rwmutex *m) {
  int ok = 0;
  on_system_stack([&] {
    spin_lock(&m->readers.lock);
    ok = rlock_now(m) ? 1 : 0;
    spin_unlock(&m->readers.lock);
  });
  return ok;
}

extern "C" void goroutine_rwmutex_runlock(goroutine_rwmutex *m) {
  on_system_stack([m] {
    spin_lock(&m->readers.lock);
    if (m->active_readers <= 0) {
      spin_unlock(&m->readers.lock);
      fatal("sync: RUnlock of unlocked RWMutex");
    }
    Goroutine *next =
        --m->active_readers == 0 ? waitq_pop(&m->writers) : nullptr;
    if (next != nullptr) {
      --m->waiting_writers;
      m->writer = 1; // handed to the writer
    }
    spin_unlock(&m->readers.lock);
    if (next != nullptr)
      ready(next);
  });
}

extern "C" GOROUTINE_PARK_PATH void
goroutine_rwmutex_lock(goroutine_rwmutex *m) {
  bool queued = false;
  on_system_stack([&] {
    spin_lock(&m->readers.lock);
    if (lock_now(m)) {
      spin_unlock(&m->readers.lock);
      return;
    }
    ++m->waiting_writers; // holds off new readers
    waitq_push(&m->writers, waiting_goroutine("go::rwmutex::lock"));
    queued = true;
  });
  if (queued)
    park_unlock(WaitReason::RWMutexLock, &m->readers.lock);
}

extern "C" int goroutine_rwmutex_trylock(goroutine_rwmutex *m) {
  int ok = 0;
  on_system_stack([&] {
    spin_lock(&m->readers.lock);
    ok = lock_now(m) ? 1 : 0;
    spin_unlock(&m->readers.lock);
  });
  return ok;
}

extern "C" void goroutine_rwmutex_unlock(goroutine_rwmutex *m) {
  on_system_stack([m] {
    spin_lock(&m->readers.lock);
    if (m->writer == 0) {
      spin_unlock(&m->readers.lock);
      fatal("sync: Unlock of unlocked RWMutex");
    }
    m->writer = 0;
    // Readers that queued behind this writer go first, all together; else
    // the next writer.
    Goroutine *woken = nullptr, **tail = &woken;
    while (Goroutine *r = waitq_pop(&m->readers)) {
      ++m->active_readers;
      *tail = r;
      tail = &r->schedlink;
    }
    if (woken == nullptr) {
      woken = waitq_pop(&m->writers);
      if (woken != nullptr) {
        --m->waiting_writers;
        m->writer = 1; // handed to the next writer
      }
    }
    spin_unlock(&m->readers.lock);
    ready_all(woken);
  });
}

// ---- cond -------------------------------------------------------------------

extern "C" GOROUTINE_PARK_PATH void goroutine_cond_wait(goroutine_cond *c,
                                                        goroutine_mutex *m) {
  // Queue first, then unlock: a signal after the unlock finds us queued.
  on_system_stack([&] {
    spin_lock(&c->waiters.lock);
    waitq_push(&c->waiters, waiting_goroutine("go::cond::wait"));
    mutex_unlock(m);
  });
  park_unlock(WaitReason::CondWait, &c->waiters.lock);
  goroutine_mutex_lock(m);
}

extern "C" void goroutine_cond_signal(goroutine_cond *c) {
  on_system_stack([c] {
    spin_lock(&c->waiters.lock);
    Goroutine *g = waitq_pop(&c->waiters);
    spin_unlock(&c->waiters.lock);
    if (g != nullptr)
      ready(g);
  });
}

extern "C" void goroutine_cond_broadcast(goroutine_cond *c) {
  on_system_stack([c] {
    spin_lock(&c->waiters.lock);
    auto *all = static_cast<Goroutine *>(c->waiters.head);
    c->waiters.head = c->waiters.tail = nullptr;
    spin_unlock(&c->waiters.lock);
    ready_all(all);
  });
}

// ---- wait group: counter in the high half of state, waiters in the low ----

extern "C" void goroutine_waitgroup_add(goroutine_waitgroup *wg,
                                        int64_t delta) {
  const uint64_t v = __atomic_add_fetch(
      &wg->state, static_cast<uint64_t>(delta) << 32, __ATOMIC_ACQ_REL);
  const auto counter = static_cast<int32_t>(v >> 32);
  const auto waiters = static_cast<uint32_t>(v);
  if (counter < 0)
    on_system_stack([] { panic_message("sync: negative WaitGroup counter"); });
  if (counter > 0 || waiters == 0)
    return;
  // Zero with waiters: wake them all.
  on_system_stack([wg] {
    spin_lock(&wg->waiters.lock);
    __atomic_store_n(&wg->state, 0, __ATOMIC_RELEASE);
    auto *all = static_cast<Goroutine *>(wg->waiters.head);
    wg->waiters.head = wg->waiters.tail = nullptr;
    spin_unlock(&wg->waiters.lock);
    ready_all(all);
  });
}

extern "C" GOROUTINE_PARK_PATH void
goroutine_waitgroup_wait(goroutine_waitgroup *wg) {
  if (__atomic_load_n(&wg->state, __ATOMIC_ACQUIRE) >> 32 == 0)
    return;
  bool queued = false;
  on_system_stack([&] {
    spin_lock(&wg->waiters.lock);
    if (__atomic_load_n(&wg->state, __ATOMIC_ACQUIRE) >> 32 == 0) {
      spin_unlock(&wg->waiters.lock);
      return;
    }
    __atomic_add_fetch(&wg->state, 1, __ATOMIC_ACQ_REL);
    waitq_push(&wg->waiters, waiting_goroutine("go::wait_group::wait"));
    queued = true;
  });
  if (queued)
    park_unlock(WaitReason::WaitGroupWait, &wg->waiters.lock);
}
