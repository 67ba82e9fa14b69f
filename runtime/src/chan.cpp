// chan.cpp: channels and select (Go's chan.go and select.go).
//
// A channel is a ring buffer of `cap` elements plus two FIFO queues of
// waiting goroutines (sudogs), all under one spin lock. Values move directly
// between goroutines when one waits for the other: a sender that finds a
// waiting receiver moves its value straight into the receiver's slot (on the
// receiver's stack), and vice versa, so an unbuffered handoff is one move.
//
// Elements are moved with the channel's goroutine_elem_ops (a memcpy for
// trivially copyable types, T's move constructor otherwise). All of it runs
// on the system stack (goroutine_systemstack): moving a T can run any amount
// of code, and the runtime's entry points must use only a few bytes of the
// calling goroutine's stack.
//
// Pointers into goroutine stacks. sudog.elem points at the waiting
// goroutine's value or slot, on its stack. That stack moves only when the
// goroutine is switched out: at park time, on g0 after the channel lock was
// released, with the copy made holding the locks of every channel on
// Goroutine::waiting (chan_lock_waiting; a waker writes through elem only
// under its channel's lock), or when it runs again (stack_expand) after its
// waker has finished with it. stack.cpp relocates every sudog on
// Goroutine::waiting whenever it moves a stack.
//
// Select. All channels of a select are locked in address order; the cases
// are polled in a random order (a uniformly random ready case wins, as in
// Go); if none is ready, a sudog is queued on every channel and the goroutine
// parks until one wakes it. A waker claims a select with a CAS on
// g->select_done, so exactly one case wins; the others are dequeued when the
// goroutine runs again.
#include <algorithm>
#include <cstdlib>
#include <cstring>

#include <goroutine/goroutine.h>

#include "scheduler.h"
#include "trace.h"

namespace go::runtime {

struct Chan {
  std::atomic<uint64_t> refs{1};
  uint32_t lock = 0;
  bool closed = false;
  const goroutine_elem_ops *ops = nullptr;
  size_t cap = 0;
  size_t qcount = 0; // values in the buffer
  size_t sendx = 0;  // next slot to fill
  size_t recvx = 0;  // next slot to take
  unsigned char *buf = nullptr;
  struct Queue {
    Sudog *first = nullptr;
    Sudog *last = nullptr;
  } recvq, sendq;

  unsigned char *slot(size_t i) const { return buf + i * ops->size; }
  void move(void *dst, void *src) const {
    if (ops->move != nullptr) {
      ops->move(dst, src);
      return;
    }
    switch (ops->size) { // the common sizes without a call to memcpy
    case 4:
      std::memcpy(dst, src, 4);
      break;
    case 8:
      std::memcpy(dst, src, 8);
      break;
    case 16:
      std::memcpy(dst, src, 16);
      break;
    default:
      std::memcpy(dst, src, ops->size);
    }
  }
  void destroy(void *p) const {
    if (ops->destroy != nullptr)
      ops->destroy(p);
  }
  // Moves the oldest buffered value to dst and frees its slot.
  void take(void *dst) {
    move(dst, slot(recvx));
    destroy(slot(recvx));
    recvx = recvx + 1 == cap ? 0 : recvx + 1;
    --qcount;
  }
  void put(void *src) {
    move(slot(sendx), src);
    sendx = sendx + 1 == cap ? 0 : sendx + 1;
    ++qcount;
  }
};

namespace {

void enqueue(Chan::Queue &q, Sudog *s) {
  s->next = nullptr;
  s->prev = q.last;
  if (q.last != nullptr)
    q.last->next = s;
  else
    q.first = s;
  q.last = s;
}

void unlink(Chan::Queue &q, Sudog *s) {
  (s->prev != nullptr ? s->prev->next : q.first) = s->next;
  (s->next != nullptr ? s->next->prev : q.last) = s->prev;
  s->next = s->prev = nullptr;
}

// The first waiter that can still be woken: a select whose other case won
// already is skipped (and dropped; its goroutine dequeues the rest itself).
Sudog *dequeue(Chan::Queue &q) {
  while (Sudog *s = q.first) {
    unlink(q, s);
    if (s->is_select) {
      uint32_t expected = 0;
      if (!s->g->select_done.compare_exchange_strong(expected, 1))
        continue;
    }
    return s;
  }
  return nullptr;
}

// Wakes the goroutine of a dequeued sudog (channel lock released).
void wake(Sudog *s, bool success) {
  s->success = success;
  s->g->param = s;
  ready(s->g);
}

// Locks every channel g is queued on (Goroutine::waiting is in lock order,
// duplicates adjacent).
void lock_waiting(Goroutine *g) {
  Chan *last = nullptr;
  for (Sudog *s = g->waiting; s != nullptr; s = s->waitlink)
    if (s->c != last)
      spin_lock(&(last = s->c)->lock);
}

// g0 side of a channel park: unlocks every channel the goroutine queued on.
void unlock_waiting(Goroutine *g, void *) {
  Chan *last = nullptr;
  for (Sudog *s = g->waiting; s != nullptr; s = s->waitlink)
    if (s->c != last)
      spin_unlock(&(last = s->c)->lock);
}

[[noreturn]] void block_forever(WaitReason reason) {
  park(reason, [](Goroutine *, void *) {}, nullptr, true);
  fatal("a goroutine blocked forever was woken");
}

// What a channel operation decided on the system stack.
enum class Outcome : uint8_t { Done, WouldBlock, Park };

struct SendOp {
  Chan *c;
  void *elem;
  bool block;
  Outcome outcome = Outcome::Done;
};

// With c locked and open: sends *elem now if a receiver waits (returned in
// *woken, to wake once c is unlocked) or the buffer has room.
bool send_now(Chan *c, void *elem, Sudog **woken) {
  if (Sudog *r = dequeue(c->recvq)) {
    c->move(r->elem, elem);
    *woken = r;
    return true;
  }
  if (c->qcount < c->cap) {
    c->put(elem);
    return true;
  }
  return false;
}

// With c locked: receives into elem now if a sender waits (returned in
// *woken), a value is buffered, or c is closed and drained (*received false).
bool recv_now(Chan *c, void *elem, bool *received, Sudog **woken) {
  *received = true;
  if (Sudog *s = dequeue(c->sendq)) {
    if (c->cap == 0) {
      c->move(elem, s->elem);
    } else {
      // Full buffer: take the head, put the sender's value at the tail
      // (the same slot), so FIFO order holds.
      c->take(elem);
      c->put(s->elem);
    }
    *woken = s;
    return true;
  }
  if (c->qcount > 0) {
    c->take(elem);
    return true;
  }
  *received = false;
  return c->closed;
}

// Queues g on q (c locked) with its own sudog; g is to park.
void wait_on(Chan::Queue &q, Chan *c, Goroutine *g, void *elem) {
  Sudog *s = &g->sudog;
  *s = Sudog{};
  s->g = g;
  s->c = c;
  s->elem = elem;
  g->waiting = s;
  g->param = nullptr;
  enqueue(q, s);
}

void send_locked(SendOp &op, Goroutine *g) {
  Chan *c = op.c;
  if (!op.block && !__atomic_load_n(&c->closed, __ATOMIC_RELAXED) &&
      __atomic_load_n(&c->qcount, __ATOMIC_RELAXED) == c->cap &&
      __atomic_load_n(&c->recvq.first, __ATOMIC_RELAXED) == nullptr)
    return void(op.outcome = Outcome::WouldBlock); // Go's lock-free check
  spin_lock(&c->lock);
  if (c->closed) {
    spin_unlock(&c->lock);
    panic_message("send on closed channel");
  }
  Sudog *woken = nullptr;
  if (send_now(c, op.elem, &woken)) {
    spin_unlock(&c->lock);
    if (woken != nullptr)
      wake(woken, true);
    return;
  }
  if (!op.block) {
    spin_unlock(&c->lock);
    return void(op.outcome = Outcome::WouldBlock);
  }
  if (g == nullptr)
    fatal("a blocking channel send outside a goroutine");
  wait_on(c->sendq, c, g, op.elem);
  op.outcome = Outcome::Park; // lock held: released after the switch
}

struct RecvOp {
  Chan *c;
  void *elem;
  bool block;
  bool received = false;
  Outcome outcome = Outcome::Done;
};

void recv_locked(RecvOp &op, Goroutine *g) {
  Chan *c = op.c;
  if (!op.block && !__atomic_load_n(&c->closed, __ATOMIC_RELAXED) &&
      __atomic_load_n(&c->qcount, __ATOMIC_RELAXED) == 0 &&
      __atomic_load_n(&c->sendq.first, __ATOMIC_RELAXED) == nullptr)
    return void(op.outcome = Outcome::WouldBlock);
  spin_lock(&c->lock);
  Sudog *woken = nullptr;
  if (recv_now(c, op.elem, &op.received, &woken)) {
    spin_unlock(&c->lock);
    if (woken != nullptr)
      wake(woken, true);
    return;
  }
  if (!op.block) {
    spin_unlock(&c->lock);
    return void(op.outcome = Outcome::WouldBlock);
  }
  if (g == nullptr)
    fatal("a blocking channel receive outside a goroutine");
  wait_on(c->recvq, c, g, op.elem);
  op.outcome = Outcome::Park;
}

// ---- select ------------------------------------------------------------

constexpr size_t kMaxSelectCases = 65536;

struct SelectOp {
  goroutine_select_case *cases;
  size_t n;
  bool block;
  long chosen = -1;
  Outcome outcome = Outcome::Done;
  uint16_t *order = nullptr; // poll order [0, n) then lock order [n, 2n)
};

Chan *chan_of(const goroutine_select_case &c) {
  return reinterpret_cast<Chan *>(c.chan);
}

// Cases by channel address: the order every select locks channels in.
void sort_lock_order(SelectOp &op) {
  uint16_t *lock = op.order + op.n;
  for (size_t i = 0; i < op.n; ++i)
    lock[i] = static_cast<uint16_t>(i);
  std::sort(lock, lock + op.n, [&](uint16_t a, uint16_t b) {
    return chan_of(op.cases[a]) < chan_of(op.cases[b]);
  });
}

void lock_all(const SelectOp &op) {
  Chan *last = nullptr;
  for (size_t i = 0; i < op.n; ++i) {
    Chan *c = chan_of(op.cases[op.order[op.n + i]]);
    if (c != nullptr && c != last)
      spin_lock(&(last = c)->lock);
  }
}

void unlock_all(const SelectOp &op) {
  Chan *last = nullptr;
  for (size_t i = 0; i < op.n; ++i) {
    Chan *c = chan_of(op.cases[op.order[op.n + i]]);
    if (c != nullptr && c != last)
      spin_unlock(&(last = c)->lock);
  }
}

// Passes 1 and 2 of Go's selectgo, on the system stack.
void select_begin(SelectOp &op, Goroutine *g) {
  const size_t n = op.n;
  uint16_t *poll = op.order;
  uint16_t *lock = op.order + n;
  for (size_t i = 0; i < n; ++i) { // random permutation (inside-out shuffle)
    const size_t j = fastrand() % (i + 1);
    if (j != i)
      poll[i] = poll[j];
    poll[j] = static_cast<uint16_t>(i);
  }
  sort_lock_order(op);
  lock_all(op);
  for (size_t k = 0; k < n; ++k) {
    const size_t i = poll[k];
    goroutine_select_case &sc = op.cases[i];
    Chan *c = chan_of(sc);
    if (c == nullptr)
      continue;
    Sudog *woken = nullptr;
    bool done;
    if (sc.dir == GOROUTINE_SELECT_SEND) {
      if (c->closed) {
        unlock_all(op);
        panic_message("send on closed channel");
      }
      done = send_now(c, sc.elem, &woken);
    } else {
      bool received = false;
      done = recv_now(c, sc.elem, &received, &woken);
      sc.received = received ? 1 : 0;
    }
    if (done) {
      unlock_all(op);
      if (woken != nullptr)
        wake(woken, true);
      return void(op.chosen = static_cast<long>(i));
    }
  }
  if (!op.block) {
    unlock_all(op);
    return;
  }
  if (g == nullptr)
    fatal("a blocking select outside a goroutine");
  // Pass 2: a sudog on every channel, linked in lock order.
  g->select_done.store(0, std::memory_order_relaxed);
  g->param = nullptr;
  Sudog **link = &g->waiting;
  for (size_t k = 0; k < n; ++k) {
    const size_t i = lock[k];
    goroutine_select_case &sc = op.cases[i];
    Chan *c = chan_of(sc);
    if (c == nullptr)
      continue;
    Sudog *s = acquire_sudog();
    s->g = g;
    s->c = c;
    s->elem = sc.elem;
    s->case_index = static_cast<uint32_t>(i);
    s->is_select = true;
    *link = s;
    link = &s->waitlink;
    enqueue(sc.dir == GOROUTINE_SELECT_SEND ? c->sendq : c->recvq, s);
  }
  *link = nullptr;
  op.outcome = Outcome::Park;
}

// Pass 3, after the wakeup: dequeue the losing sudogs, report the winner.
// The channels are the ones on g->waiting, already in lock order.
void select_end(SelectOp &op, Goroutine *g) {
  Sudog *won = g->param;
  lock_waiting(g);
  for (Sudog *s = g->waiting; s != nullptr; s = s->waitlink) {
    if (s == won)
      continue;
    goroutine_select_case &sc = op.cases[s->case_index];
    Chan::Queue &q =
        sc.dir == GOROUTINE_SELECT_SEND ? s->c->sendq : s->c->recvq;
    if (s->next != nullptr || s->prev != nullptr || q.first == s)
      unlink(q, s);
  }
  unlock_waiting(g, nullptr);
  Sudog *s = g->waiting;
  g->waiting = nullptr;
  while (s != nullptr) {
    Sudog *next = s->waitlink;
    if (s != won)
      release_sudog(s);
    s = next;
  }
  goroutine_select_case &sc = op.cases[won->case_index];
  op.chosen = won->case_index;
  const bool success = won->success;
  release_sudog(won);
  if (sc.dir == GOROUTINE_SELECT_SEND) {
    if (!success)
      panic_message("send on closed channel");
  } else {
    sc.received = success ? 1 : 0;
  }
}

} // namespace

void chan_lock_waiting(Goroutine *g) { lock_waiting(g); }
void chan_unlock_waiting(Goroutine *g) { unlock_waiting(g, nullptr); }

Sudog *acquire_sudog() {
  P *p = current_p();
  if (p != nullptr && !p->sudog_cache.empty()) {
    Sudog *s = p->sudog_cache.back();
    p->sudog_cache.pop_back();
    *s = Sudog{};
    return s;
  }
  return new Sudog;
}

void release_sudog(Sudog *s) {
  P *p = current_p();
  if (p != nullptr && p->sudog_cache.size() < 128)
    p->sudog_cache.push_back(s);
  else
    delete s;
}

} // namespace go::runtime

using namespace go::runtime;

extern "C" goroutine_chan *goroutine_chan_make(const goroutine_elem_ops *ops,
                                               size_t cap) {
  Chan *c = nullptr;
  on_system_stack([&] {
    if (ops == nullptr || (ops->size == 0 && ops->align == 0))
      fatal("makechan: no element type");
    if (cap > (size_t{1} << 40) / std::max<size_t>(ops->size, 1))
      panic_message("makechan: size out of range");
    c = new Chan;
    c->ops = ops;
    c->cap = cap;
    if (cap > 0 && ops->size > 0) {
      const size_t align = std::max<size_t>(ops->align, alignof(void *));
      const size_t bytes = (cap * ops->size + align - 1) / align * align;
      c->buf = static_cast<unsigned char *>(std::aligned_alloc(align, bytes));
      if (c->buf == nullptr)
        fatal("out of memory for a channel buffer of %zu bytes", bytes);
    }
  });
  return reinterpret_cast<goroutine_chan *>(c);
}

extern "C" void goroutine_chan_retain(goroutine_chan *h) {
  if (h != nullptr)
    reinterpret_cast<Chan *>(h)->refs.fetch_add(1, std::memory_order_relaxed);
}

extern "C" void goroutine_chan_release(goroutine_chan *h) {
  Chan *c = reinterpret_cast<Chan *>(h);
  if (c == nullptr || c->refs.fetch_sub(1, std::memory_order_acq_rel) != 1)
    return;
  on_system_stack([c] {
    while (c->qcount > 0) { // values nobody received
      c->destroy(c->slot(c->recvx));
      c->recvx = c->recvx + 1 == c->cap ? 0 : c->recvx + 1;
      --c->qcount;
    }
    std::free(c->buf);
    delete c;
  });
}

extern "C" GOROUTINE_PARK_PATH int goroutine_chan_send(goroutine_chan *h,
                                                       void *elem, int block) {
  Chan *c = reinterpret_cast<Chan *>(h);
  if (c == nullptr) {
    if (!block)
      return 0;
    block_forever(WaitReason::ChanSendNil);
  }
  SendOp op{c, elem, block != 0};
  on_system_stack([&op] { send_locked(op, current_g()); });
  if (op.outcome == Outcome::WouldBlock)
    return 0;
  if (op.outcome == Outcome::Park) {
    park(WaitReason::ChanSend, unlock_waiting, nullptr, true);
    Goroutine *g = current_g();
    g->waiting = nullptr;
    if (!g->sudog.success)
      panic_message("send on closed channel");
  }
  return 1;
}

extern "C" GOROUTINE_PARK_PATH int
goroutine_chan_recv(goroutine_chan *h, void *elem, int block, int *received) {
  Chan *c = reinterpret_cast<Chan *>(h);
  *received = 0;
  if (c == nullptr) {
    if (!block)
      return 0;
    block_forever(WaitReason::ChanReceiveNil);
  }
  RecvOp op{c, elem, block != 0};
  on_system_stack([&op] { recv_locked(op, current_g()); });
  if (op.outcome == Outcome::WouldBlock)
    return 0;
  if (op.outcome == Outcome::Park) {
    park(WaitReason::ChanReceive, unlock_waiting, nullptr, true);
    Goroutine *g = current_g();
    g->waiting = nullptr;
    op.received = g->sudog.success;
  }
  *received = op.received ? 1 : 0;
  return 1;
}

extern "C" void goroutine_chan_close(goroutine_chan *h) {
  Chan *c = reinterpret_cast<Chan *>(h);
  on_system_stack([c] {
    if (c == nullptr)
      panic_message("close of nil channel");
    spin_lock(&c->lock);
    if (c->closed) {
      spin_unlock(&c->lock);
      panic_message("close of closed channel");
    }
    c->closed = true;
    // Everyone waiting wakes: receivers see "closed", senders panic.
    Sudog *woken = nullptr;
    for (Chan::Queue *q : {&c->recvq, &c->sendq})
      while (Sudog *s = dequeue(*q)) {
        s->next = woken;
        woken = s;
      }
    spin_unlock(&c->lock);
    while (woken != nullptr) {
      Sudog *s = woken;
      woken = s->next;
      s->next = nullptr;
      wake(s, false);
    }
  });
}

extern "C" size_t goroutine_chan_len(const goroutine_chan *h) {
  const Chan *c = reinterpret_cast<const Chan *>(h);
  return c != nullptr ? __atomic_load_n(&c->qcount, __ATOMIC_RELAXED) : 0;
}

extern "C" size_t goroutine_chan_cap(const goroutine_chan *h) {
  const Chan *c = reinterpret_cast<const Chan *>(h);
  return c != nullptr ? c->cap : 0;
}

extern "C" GOROUTINE_PARK_PATH long
goroutine_select(goroutine_select_case *cases, size_t n, int block) {
  if (n > kMaxSelectCases)
    fatal("select with %zu cases (at most %zu)", n, kMaxSelectCases);
  bool any = false;
  for (size_t i = 0; i < n; ++i)
    any |= cases[i].chan != nullptr;
  if (!any) { // no cases, or only nil channels
    if (!block)
      return -1;
    block_forever(WaitReason::SelectNoCases);
  }
  SelectOp op{cases, n, block != 0};
  // The work, and the poll and lock orders it needs, live on the system
  // stack; after the park, Goroutine::waiting holds the lock order.
  on_system_stack([&op] {
    uint16_t small[64];
    op.order =
        op.n <= 32
            ? small
            : static_cast<uint16_t *>(std::malloc(2 * op.n * sizeof(uint16_t)));
    select_begin(op, current_g());
    if (op.order != small)
      std::free(op.order);
  });
  if (op.outcome != Outcome::Park)
    return op.chosen;
  park(WaitReason::Select, unlock_waiting, nullptr, true);
  on_system_stack([&op] { select_end(op, current_g()); });
  return op.chosen;
}
