// proc.cpp: the M:N scheduler (Go's proc.go, G/M/P).
//
// G: a goroutine (runtime.h). M: an OS thread that runs goroutines. P: the
// right to run them, GOROUTINE_MAXPROCS of them, each with a local run queue.
// An M runs goroutines only while it holds a P; the thread that calls go::run
// is an M too, for as long as go::run runs.
//
//   schedule loop (on each M's own stack, g0):
//     g = find_runnable()      local runnext/run queue, every 61st tick the
//                              global queue first, then the global queue,
//                              due timers, stealing half of another P's queue;
//                              nothing: give the P back and sleep on a futex
//     prepare(g), enter(g)     its first stack, or its stack back from a
//                              compacted park; make it this thread's
//     goroutine_switch         run it (and whatever it switches to directly)
//                              until some goroutine switches back to g0
//     after_switch(out)        requeue (yield, preemption), run the park
//                              callback (unlock what the goroutine waits on)
//                              and then shrink or compact its stack, or
//                              recycle it (exit)
//
// Switching. A goroutine that yields or parks switches straight to the next
// goroutine of its P when there is one it can enter (switch_out); otherwise,
// and to exit, to be preempted, or every 61st switch (so that g0 looks at the
// global queue and timers), it switches to g0, which picks the next one. The
// invariant both paths keep: a goroutine is switched out completely (its
// context saved on its stack) before anybody else can see it as runnable. A
// parking goroutine keeps the lock that protects its wait queue across the
// switch, and whoever runs next on the thread releases it (park_after, Go's
// unlockf): the goroutine switched to, in finish_switch, or g0, in
// after_switch. Work that needs more than a few bytes of stack (adding a
// sleep timer, compacting a parked stack, freeing a finished goroutine) is
// always g0's.
//
// Waking idle Ms (Go's spinning Ms). ready() puts a goroutine on the current
// P's queue and calls wakep(): if a P is idle and no M is already looking for
// work ("spinning"), it starts one. A spinning M that finds work stops
// spinning and starts another spinner if it was the last, so work that appears
// while all Ms are busy is always found. An M that gives up its P rechecks
// every queue after it stopped spinning, so no wakeup is lost in between.
//
// Parking and compaction. A goroutine that parks through g0 while many
// goroutines exist may have its stack compacted (or shrunk) there. g0 first
// runs park_after, releasing the wait queue's lock, and only then moves the
// stack; a waker that finds the goroutine meanwhile leaves it to g0
// (Goroutine::park_state, ready). The lock order: lockrank.h.
//
// Deadlock. When the last M goes idle with no timer pending and no M in a
// blocking call while the main goroutine still waits, nothing can ever wake
// it: "all goroutines are asleep - deadlock!", as in Go.
//
// Lifetime. Worker Ms and sysmon are created on demand and live as long as
// the process. When the main goroutine returns, go::run returns; goroutines
// still alive stay where they are (Go would end the process here) and run
// again at the next go::run.
//
// Preemption, sysmon and stopping the world are in preempt.cpp; the C entry
// points (spawn, go::run, traces) in api.cpp. docs/design.md, sections 10
// and 11, gives the reasons.
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fcntl.h>
#include <mutex>
#include <sched.h>
#include <unistd.h>

#include <goroutine/goroutine.h>

#include "scheduler.h"
#include "signals.h"
#include "stack.h"
#include "trace.h"

constinit thread_local go::runtime::ThreadState goroutine_thread_state
    __attribute__((tls_model("initial-exec")));

namespace go::runtime {

std::vector<Goroutine *> &allgs = *new std::vector<Goroutine *>;
uint32_t allgs_lock = 0;
Sched &sched = *new Sched;

static constexpr int kGfreeLocalMax = 64; // dead goroutines kept per P

static std::atomic<uint64_t> next_goroutine_id{1};
static std::atomic<uint64_t> next_m_id{1};

// ---- Run queues (Go's runqput/runqget/runqsteal) -------------------------

bool runq_empty(const P *p) {
  return p->runq_head.load(std::memory_order_acquire) ==
             p->runq_tail.load(std::memory_order_acquire) &&
         p->runnext.load(std::memory_order_acquire) == nullptr;
}

void globrunq_put_batch(Goroutine *head, Goroutine *tail, int n) {
  tail->schedlink = nullptr;
  if (sched.runq_tail != nullptr)
    sched.runq_tail->schedlink = head;
  else
    sched.runq_head = head;
  sched.runq_tail = tail;
  sched.runq_size.fetch_add(n, std::memory_order_release);
}

void globrunq_put(Goroutine *g) {
  std::lock_guard<AdaptiveMutex> lock(sched.lock);
  globrunq_put_batch(g, g, 1);
}

// Puts g at the tail of p's ring if there is room (only p's owner puts):
// no call, no locked instruction, so the direct switch can use it on a
// goroutine's stack (finish_switch).
__attribute__((always_inline)) static inline bool runq_put_tail(P *p,
                                                                Goroutine *g) {
  const uint32_t tail = p->runq_tail.load(std::memory_order_relaxed);
  if (tail - p->runq_head.load(std::memory_order_acquire) >= P::kRunQueueSize)
    return false;
  p->runq[tail % P::kRunQueueSize].store(g, std::memory_order_relaxed);
  p->runq_tail.store(tail + 1, std::memory_order_release);
  return true;
}

// The local queue is full: moves half of it and g to the global queue.
// Returns false if a thief made room meanwhile.
static bool runq_put_slow(P *p, Goroutine *g) {
  constexpr uint32_t n = P::kRunQueueSize / 2;
  uint32_t head = p->runq_head.load(std::memory_order_acquire);
  const uint32_t tail = p->runq_tail.load(std::memory_order_relaxed);
  if (tail - head != P::kRunQueueSize)
    return false;
  Goroutine *batch[n + 1];
  for (uint32_t i = 0; i < n; ++i)
    batch[i] =
        p->runq[(head + i) % P::kRunQueueSize].load(std::memory_order_relaxed);
  if (!p->runq_head.compare_exchange_strong(head, head + n,
                                            std::memory_order_release))
    return false;
  batch[n] = g;
  for (uint32_t i = 0; i < n; ++i)
    batch[i]->schedlink = batch[i + 1];
  std::lock_guard<AdaptiveMutex> lock(sched.lock);
  globrunq_put_batch(batch[0], batch[n], n + 1);
  return true;
}

// Puts g on p's queue; with next, in runnext (it runs next, like a goroutine
// just created or woken by the running one).
void runq_put(P *p, Goroutine *g, bool next) {
  if (next) {
    g = p->runnext.exchange(g, std::memory_order_acq_rel);
    if (g == nullptr)
      return;
  }
  while (!runq_put_tail(p, g) && !runq_put_slow(p, g)) {
  }
}

// Takes the next goroutine of p's queue; *inherit says it came from runnext
// (it inherits the current time slice, so a pair of goroutines handing off to
// each other still gets preempted after 10 ms, as in Go).
Goroutine *runq_get(P *p, bool *inherit) {
  Goroutine *next = p->runnext.load(std::memory_order_relaxed);
  *inherit = true;
  if (next != nullptr && p->runnext.compare_exchange_strong(
                             next, nullptr, std::memory_order_acq_rel))
    return next;
  *inherit = false;
  for (;;) {
    uint32_t head = p->runq_head.load(std::memory_order_acquire);
    const uint32_t tail = p->runq_tail.load(std::memory_order_relaxed);
    if (tail == head)
      return nullptr;
    Goroutine *g =
        p->runq[head % P::kRunQueueSize].load(std::memory_order_relaxed);
    if (p->runq_head.compare_exchange_strong(head, head + 1,
                                             std::memory_order_release))
      return g;
  }
}

// Takes half of victim's queue into p's (whose queue is empty); returns one
// of them to run, or null.
Goroutine *runq_steal(P *p, P *victim, bool take_runnext) {
  const uint32_t tail = p->runq_tail.load(std::memory_order_relaxed);
  for (;;) {
    uint32_t head = victim->runq_head.load(std::memory_order_acquire);
    const uint32_t vtail = victim->runq_tail.load(std::memory_order_acquire);
    uint32_t n = vtail - head;
    n -= n / 2;
    if (n == 0) {
      if (!take_runnext)
        return nullptr;
      Goroutine *next = victim->runnext.load(std::memory_order_acquire);
      if (next != nullptr && victim->runnext.compare_exchange_strong(
                                 next, nullptr, std::memory_order_acq_rel))
        return next;
      return nullptr;
    }
    if (n > P::kRunQueueSize / 2)
      continue; // read an inconsistent head/tail pair
    for (uint32_t i = 0; i < n; ++i)
      p->runq[(tail + i) % P::kRunQueueSize].store(
          victim->runq[(head + i) % P::kRunQueueSize].load(
              std::memory_order_relaxed),
          std::memory_order_relaxed);
    if (!victim->runq_head.compare_exchange_strong(head, head + n,
                                                   std::memory_order_release))
      continue;
    // Keep the last one to run now, publish the rest.
    Goroutine *g = p->runq[(tail + n - 1) % P::kRunQueueSize].load(
        std::memory_order_relaxed);
    if (n > 1)
      p->runq_tail.store(tail + n - 1, std::memory_order_release);
    return g;
  }
}

// Takes a fair share of the global queue (lock held): one to run, some more
// onto p's queue.
static Goroutine *globrunq_get(P *p, int max) {
  const int size = sched.runq_size.load(std::memory_order_relaxed);
  if (size == 0)
    return nullptr;
  int n = size / sched.nprocs + 1;
  n = std::min(n, size);
  if (max > 0)
    n = std::min(n, max);
  n = std::min(n, static_cast<int>(P::kRunQueueSize / 2));
  sched.runq_size.fetch_sub(n, std::memory_order_relaxed);
  Goroutine *g = sched.runq_head;
  sched.runq_head = g->schedlink;
  for (int i = 1; i < n; ++i) {
    Goroutine *more = sched.runq_head;
    sched.runq_head = more->schedlink;
    runq_put(p, more, false);
  }
  if (sched.runq_head == nullptr)
    sched.runq_tail = nullptr;
  return g;
}

// ---- Ps and Ms -------------------------------------------------------------

void pidle_put(P *p) { // lock held
  if (sched.world_stopping.load(std::memory_order_relaxed)) {
    stop_p(p); // the world is stopping: no P goes idle meanwhile
    return;
  }
  p->status.store(PStatus::Idle, std::memory_order_release);
  p->m = nullptr;
  p->link = sched.pidle;
  sched.pidle = p;
  sched.npidle.fetch_add(1, std::memory_order_release);
}

P *pidle_get() { // lock held
  P *p = sched.pidle;
  if (p != nullptr) {
    sched.pidle = p->link;
    sched.npidle.fetch_sub(1, std::memory_order_release);
  }
  return p;
}

void midle_put(M *m) { // lock held
  m->link = sched.midle;
  sched.midle = m;
  ++sched.nmidle;
}

static M *midle_get() { // lock held
  M *m = sched.midle;
  if (m != nullptr) {
    sched.midle = m->link;
    --sched.nmidle;
  }
  return m;
}

static bool midle_remove(M *m) { // lock held
  for (M **link = &sched.midle; *link != nullptr; link = &(*link)->link)
    if (*link == m) {
      *link = m->link;
      --sched.nmidle;
      return true;
    }
  return false;
}

void acquirep(M *m, P *p) {
  m->p = p;
  p->m = m;
  p->status.store(PStatus::Running, std::memory_order_release);
}

void releasep(M *m) { m->p = nullptr; }

void register_thread(M *m) {
  goroutine_thread_state.m = m;
  m->thread = pthread_self();
  m->fastrand = m->id * 0x9e3779b97f4a7c15ULL + 1;
}

static void *mstart(void *arg);

M *new_m_record() { // lock held
  M *m = new M;
  m->id = next_m_id.fetch_add(1, std::memory_order_relaxed);
  ++sched.mcount;
  return m;
}

// Starts an M (an idle one, or a new thread) to run p, or an idle P if p is
// null. With spinning, the caller has counted it in nmspinning.
void startm(P *p, bool spinning) {
  M *m;
  {
    std::lock_guard<AdaptiveMutex> lock(sched.lock);
    if (p == nullptr) {
      p = pidle_get();
      if (p == nullptr) {
        if (spinning)
          sched.nmspinning.fetch_sub(1, std::memory_order_release);
        return;
      }
    }
    m = midle_get();
    if (m != nullptr) {
      // Under the lock, so that an M timing out of its sleep sees either
      // itself still idle or its new P (stopm).
      m->spinning = spinning;
      m->nextp = p;
    } else {
      m = new_m_record();
      m->spinning = spinning;
      m->nextp = p;
      pthread_attr_t attr;
      pthread_attr_init(&attr);
      pthread_attr_setstacksize(&attr, size_t{8} << 20);
      pthread_t thread;
      const int rc = pthread_create(&thread, &attr, mstart, m);
      pthread_attr_destroy(&attr);
      if (rc != 0)
        fatal("cannot create a thread for the scheduler: %s",
              std::strerror(rc));
      pthread_detach(thread);
      return;
    }
  }
  m->park.wakeup();
}

// Starts a spinning M if there is an idle P and nobody is looking for work.
void wakep() {
  if (sched.npidle.load(std::memory_order_acquire) == 0)
    return;
  int expected = 0;
  if (sched.nmspinning.load(std::memory_order_relaxed) != 0 ||
      !sched.nmspinning.compare_exchange_strong(expected, 1))
    return;
  startm(nullptr, true);
}

// Sequentially consistent: an M that stops spinning then rechecks the run
// queues, and whoever queues work then checks nmspinning (find_runnable).
static void start_spinning(M *m) {
  m->spinning = true;
  sched.nmspinning.fetch_add(1);
}

// Returns true if m was the last spinning M.
bool stop_spinning(M *m) {
  m->spinning = false;
  return sched.nmspinning.fetch_sub(1) == 1;
}

static void reset_spinning(M *m) {
  if (stop_spinning(m))
    wakep(); // we were the last spinner: make sure someone looks
}

// m gives its P back to the idle list and stops spinning (lock held).
void drop_p(M *m) {
  if (m->spinning)
    stop_spinning(m);
  pidle_put(m->p);
  releasep(m);
}

// ---- Goroutines -------------------------------------------------------------

// Traces of every goroutine but skip, each after a blank line (Go's
// tracebackothers). The world is stopped (or, for the deadlock report, every
// goroutine waits): only goroutines in go::blocking run, and their stacks
// are not walked.
void print_goroutines(TraceWriter &w, const Goroutine *skip) {
  spin_lock(&allgs_lock);
  for (const Goroutine *g : allgs) {
    const GoroutineStatus status = g->status.load(std::memory_order_acquire);
    if (g == skip || status == GoroutineStatus::Dead ||
        status == GoroutineStatus::Idle)
      continue;
    w.write("\n", 1);
    trace_print_stopped(w, g);
  }
  spin_unlock(&allgs_lock);
}

// Threads in this process (/proc/self/stat, field 20), or -1.
// Called under the scheduler lock only when every M is idle: blocking in
// read() there holds up nothing.
// NOLINTBEGIN(clang-analyzer-unix.BlockInCriticalSection)
static long process_threads() {
  char buf[1024];
  const int fd = open("/proc/self/stat", O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return -1;
  const ssize_t n = read(fd, buf, sizeof buf - 1);
  close(fd);
  if (n <= 0)
    return -1;
  buf[n] = '\0';
  const char *p = std::strrchr(buf, ')'); // the name may contain spaces
  for (int field = 2; p != nullptr && field < 20; ++field)
    p = std::strchr(p + 1, ' ');
  return p != nullptr ? std::strtol(p + 1, nullptr, 10) : -1;
}
// NOLINTEND(clang-analyzer-unix.BlockInCriticalSection)

// The last M is going idle (lock held): if nothing can ever run again, the
// main goroutine waits forever. Like Go's checkdead, which cgo callbacks turn
// off, it holds back when threads other than the runtime's exist: they may
// still spawn goroutines or close channels.
static void check_dead() {
  if (!sched.running.load() || sched.main_done.load() ||
      sched.world_stopping.load())
    return;
  if (sched.mcount - sched.nmidle > 0)
    return; // an M runs or is in a blocking call
  if (sched.runq_size.load() > 0)
    return;
  for (P *p : sched.allp)
    if (!runq_empty(p) || p->timer0_when.load() != 0)
      return;
  if (process_threads() != sched.mcount + 1) // the Ms and sysmon
    return;
  TraceWriter w(STDERR_FILENO);
  w.printf("fatal error: all goroutines are asleep - deadlock!\n");
  print_goroutines(w, nullptr); // every one is parked
  _exit(2);
}

void gfree_put(P *p, Goroutine *g) {
  g->schedlink = p->gfree;
  p->gfree = g;
  if (++p->ngfree > kGfreeLocalMax) {
    std::lock_guard<AdaptiveMutex> lock(sched.lock);
    while (p->ngfree > kGfreeLocalMax / 2) {
      Goroutine *dead = p->gfree;
      p->gfree = dead->schedlink;
      --p->ngfree;
      dead->schedlink = sched.gfree;
      sched.gfree = dead;
    }
  }
}

static Goroutine *gfree_get(P *p) {
  if (p != nullptr && p->gfree == nullptr && sched.gfree != nullptr) {
    std::lock_guard<AdaptiveMutex> lock(sched.lock);
    while (p->ngfree < kGfreeLocalMax / 2 && sched.gfree != nullptr) {
      Goroutine *dead = sched.gfree;
      sched.gfree = dead->schedlink;
      dead->schedlink = p->gfree;
      p->gfree = dead;
      ++p->ngfree;
    }
  }
  if (p == nullptr || p->gfree == nullptr)
    return nullptr;
  Goroutine *g = p->gfree;
  p->gfree = g->schedlink;
  --p->ngfree;
  return g;
}

// A goroutine record, recycled or new, not yet started.
Goroutine *reserve_goroutine() {
  Goroutine *g = gfree_get(current_p());
  if (g == nullptr) {
    g = new Goroutine;
    spin_lock(&allgs_lock);
    allgs.push_back(g);
    spin_unlock(&allgs_lock);
  }
  return g;
}

// creator_pc: the return address of the spawn call (0 for go::run's).
void start_goroutine(Goroutine *g, void (*fn)(void *), void *arg,
                     uintptr_t creator_pc) {
  g->id = next_goroutine_id.fetch_add(1, std::memory_order_relaxed);
  g->entry = fn;
  g->entry_arg = arg;
  g->creator_pc = creator_pc;
  const Goroutine *creator = current_g();
  g->creator_id = creator_pc != 0 && creator != nullptr ? creator->id : 0;
  g->wait_reason = WaitReason::None;
  g->status.store(GoroutineStatus::Runnable, std::memory_order_relaxed);
  counters.num_goroutine.fetch_add(1, std::memory_order_relaxed);
}

Goroutine *new_goroutine(void (*fn)(void *), void *arg, uintptr_t creator_pc) {
  Goroutine *g = reserve_goroutine();
  start_goroutine(g, fn, arg, creator_pc);
  return g;
}

// Frees a closure that did not fit in its goroutine.
void free_closure(Goroutine *g) {
  if (g->closure != nullptr && g->closure != g->closure_buf())
    std::free(static_cast<char **>(g->closure)[-2]); // the block's start
  g->closure = nullptr;
}

// g has finished (on g0): recycle it.
static void goroutine_exit(M *m, Goroutine *g) {
  free_closure(g);
  locals_destroy(g);
  g->side.release();
  // Its stack goes back to the per-thread cache rather than staying with the
  // dead goroutine: goroutines waiting for their first run hold no stack
  // (execute allocates it), so a burst of spawns costs no stack memory.
  stack_free(g->stack);
  g->stack = Stack{};
  counters.num_goroutine.fetch_sub(1, std::memory_order_relaxed);
  const bool was_main = g == sched.main_g;
  g->status.store(GoroutineStatus::Dead, std::memory_order_release);
  gfree_put(m->p, g);
  if (was_main) {
    std::lock_guard<AdaptiveMutex> lock(sched.lock);
    sched.main_g = nullptr;
    sched.main_done.store(true);
    M *main_m = sched.main_m;
    if (main_m != nullptr && main_m != m && midle_remove(main_m))
      main_m->park.wakeup();
  }
}

// Gets g ready to be switched into (on g0): its first stack, or its stack
// back from a compacted park.
static void prepare(Goroutine *g) {
  if (g->stack.lo == 0) { // first run: stacks are allocated late
    g->stack = stack_alloc(settings.stackmin);
    g->stackguard = g->stack.lo + kStackGuard;
    stack_init_context(g);
  } else if (g->home.lo != 0) {
    stack_expand(g);
  }
}

static bool enterable(const Goroutine *g) {
  return g->stack.lo != 0 && g->home.lo == 0;
}

// Makes g the goroutine of this thread (before switching into it).
static inline void enter(ThreadState &ts, M *m, Goroutine *g, bool inherit) {
  if (!inherit) { // only the owner writes it: no locked instruction needed
    std::atomic<uint64_t> &tick = m->p->schedtick;
    tick.store(tick.load(std::memory_order_relaxed) + 1,
               std::memory_order_relaxed);
  }
  g->status.store(GoroutineStatus::Running, std::memory_order_relaxed);
  g->preempt.store(false, std::memory_order_relaxed);
  ts.g = g;
  m->curg.store(g, std::memory_order_release);
  if (ts.torture_countdown == 0)
    ts.torture_countdown = settings.stackmove; // 0 (off) stays 0
}

static void make_runnable(Goroutine *g);

// g has switched out to this M's g0 for ts.switch_reason.
static void after_switch(ThreadState &ts, M *m, Goroutine *g) {
  switch (ts.switch_reason) {
  case SwitchReason::Yield:
    stack_shrink(g); // a switched-out goroutine: a safe point
    g->status.store(GoroutineStatus::Runnable, std::memory_order_relaxed);
    // With work waiting globally (a preempted goroutine), queue behind it,
    // as Go's Gosched does: when the local queue is empty (the usual reason
    // a yield comes to g0), g would otherwise run again at once.
    if (sched.runq_size.load(std::memory_order_relaxed) > 0)
      globrunq_put(g);
    else
      runq_put(m->p, g, false);
    break;
  case SwitchReason::Preempt:
    // No shrinking: the function whose prologue trapped resumes past its
    // check, and the frame it was promised must still fit.
    g->status.store(GoroutineStatus::Runnable, std::memory_order_relaxed);
    globrunq_put(g); // behind everything else, as in Go
    break;
  case SwitchReason::Park: {
    // Release what g waits on first: moving its stack below takes the
    // arena's lock, mmap and the unwinder, which no wait-queue lock may be
    // held across (lockrank.h). A waker that finds g before its stack is in
    // place leaves it for this g0 to queue (ready).
    g->park_state.store(ParkState::Finishing, std::memory_order_relaxed);
    auto after = g->park_after;
    g->park_after = nullptr;
    after(g, g->park_arg);
    if (!stack_compact(g,
                       counters.num_goroutine.load(std::memory_order_relaxed)))
      stack_shrink(g);
    ParkState finishing = ParkState::Finishing;
    if (!g->park_state.compare_exchange_strong(finishing, ParkState::None,
                                               std::memory_order_acq_rel)) {
      g->park_state.store(ParkState::None, std::memory_order_relaxed);
      make_runnable(g); // woken meanwhile
    }
    break;
  }
  case SwitchReason::Exit:
    goroutine_exit(m, g);
    break;
  case SwitchReason::Requeue: // left a blocking call and found no P
    g->status.store(GoroutineStatus::Runnable, std::memory_order_relaxed);
    globrunq_put(g);
    break;
  }
}

// Sleeps until startm hands this M a P (or the timeout for the next timer
// passes, or go::run's main goroutine is done). Returns with m->p set, or null.
void stopm(M *m, int64_t timeout_ns) {
  m->park.sleep(timeout_ns);
  std::lock_guard<AdaptiveMutex> lock(sched.lock);
  if (m->nextp != nullptr) {
    acquirep(m, m->nextp);
    m->nextp = nullptr;
    return;
  }
  midle_remove(m); // timed out or told to stop: still on the idle list
}

// The earliest timer of all Ps (0: none).
static int64_t earliest_timer() {
  int64_t earliest = 0;
  for (P *q : sched.allp) {
    const int64_t w = q->timer0_when.load(std::memory_order_relaxed);
    if (w != 0 && (earliest == 0 || w < earliest))
      earliest = w;
  }
  return earliest;
}

// Looks for a goroutine to run; returns null only to go::run's M once the
// main goroutine is done.
static Goroutine *find_runnable(M *m, bool *inherit) {
  *inherit = false;
  for (;;) {
    if (m->is_main && sched.main_done.load(std::memory_order_acquire))
      return nullptr;
    if (sched.world_stopping.load(std::memory_order_acquire)) {
      stopm_for_world(m);
      continue;
    }
    P *p = m->p;
    if (p == nullptr) { // gave it up, lost it in a blocking call, or new
      // Take an idle P only for work that is there now (a due timer, the
      // global queue); otherwise sleep until startm hands one over or the
      // earliest timer is due.
      const int64_t now = nanotime();
      const int64_t timer = earliest_timer();
      const bool work =
          sched.runq_size.load() > 0 || (timer != 0 && timer <= now);
      {
        std::lock_guard<AdaptiveMutex> lock(sched.lock);
        // goroutine_exit sets main_done under this lock: checked here, the
        // wakeup it sends cannot be missed.
        if (m->is_main && sched.main_done.load())
          return nullptr;
        if (sched.running.load() && work)
          p = pidle_get();
        if (p != nullptr) {
          acquirep(m, p);
        } else {
          midle_put(m);
          check_dead();
        }
      }
      if (p == nullptr) {
        stopm(m, timer != 0 && sched.running.load()
                     ? std::max<int64_t>(timer - now, 0)
                     : -1);
        continue;
      }
    }
    if (!sched.running.load(std::memory_order_acquire) && !m->is_main) {
      std::lock_guard<AdaptiveMutex> lock(sched.lock);
      drop_p(m);
      continue;
    }
    if (p->timer0_when.load(std::memory_order_relaxed) != 0)
      run_timers(p, nanotime());
    if (p->schedtick.load(std::memory_order_relaxed) % 61 == 0 &&
        sched.runq_size.load() > 0) {
      std::lock_guard<AdaptiveMutex> lock(sched.lock);
      if (Goroutine *g = globrunq_get(p, 1))
        return g;
    }
    if (Goroutine *g = runq_get(p, inherit))
      return g;
    *inherit = false;
    if (sched.runq_size.load(std::memory_order_acquire) > 0) {
      std::lock_guard<AdaptiveMutex> lock(sched.lock);
      if (Goroutine *g = globrunq_get(p, 0))
        return g;
    }
    // Steal, with at most half of the busy Ps spinning (Go's limit).
    const int busy = sched.nprocs - sched.npidle.load();
    if (!m->spinning && 2 * sched.nmspinning.load() < busy)
      start_spinning(m);
    if (m->spinning) {
      for (int round = 0; round < 4; ++round) {
        const uint32_t start = fastrand();
        for (int i = 0; i < sched.nprocs; ++i) {
          P *victim = sched.allp[(start + i) % sched.nprocs];
          if (victim == p)
            continue;
          if (round == 3)
            run_timers(victim, nanotime());
          if (Goroutine *g = runq_steal(p, victim, round == 3))
            return g;
        }
      }
      if (Goroutine *g = runq_get(p, inherit)) // a timer readied something
        return g;
      *inherit = false;
    }
    // Nothing: give the P back.
    {
      std::lock_guard<AdaptiveMutex> lock(sched.lock);
      if (Goroutine *g = globrunq_get(p, 0))
        return g;
      pidle_put(p);
      releasep(m);
    }
    if (m->spinning) {
      stop_spinning(m);
      // Work may have been queued after we looked and before we stopped
      // spinning, by someone who saw us spinning and did not wake anyone.
      for (P *q : sched.allp) {
        if (runq_empty(q) && sched.runq_size.load() == 0)
          continue;
        std::lock_guard<AdaptiveMutex> lock(sched.lock);
        if (P *idle = pidle_get()) {
          acquirep(m, idle);
          start_spinning(m);
        }
        break;
      }
    }
    // Loop: with m->p null this sleeps (or takes an idle P if one is there).
  }
}

// The scheduler loop of an M. Returns only on go::run's M.
void schedule(M *m) {
  ThreadState &ts = goroutine_thread_state; // g0 never changes threads
  for (;;) {
    Goroutine *g = m->handoff;
    bool inherit = m->handoff_inherit;
    m->handoff = nullptr;
    if (g == nullptr)
      g = find_runnable(m, &inherit);
    if (g == nullptr)
      return;
    if (m->spinning)
      reset_spinning(m);
    prepare(g);
    enter(ts, m, g, inherit);
    side_stack_switch(&m->thread_side, &g->side);
    enter_stack_limit(ts, stack_limit_for(g));
    goroutine_switch(&ts.g0_sp, g->sched_sp);
    // Back on g0: some goroutine (g, or one g switched to) switched out.
    Goroutine *out = ts.g;
    enter_stack_limit(ts, 0);
    side_stack_switch(&out->side, &m->thread_side);
    m->curg.store(nullptr, std::memory_order_release);
    ts.g = nullptr;
    m->switched_out = nullptr;
    after_switch(ts, m, out);
  }
}

static void *mstart(void *arg) {
  M *m = static_cast<M *>(arg);
  register_thread(m);
  ThreadSignalStack signal_stack; // signal handlers never run on goroutines
  {
    std::lock_guard<AdaptiveMutex> lock(sched.lock);
    acquirep(m, m->nextp);
    m->nextp = nullptr;
  }
  schedule(m);
  return nullptr;
}

// ---- Start-up ---------------------------------------------------------------

static int default_procs() {
  // As with Go's GOMAXPROCS, an empty value means unset.
  const char *env = std::getenv("GOROUTINE_MAXPROCS");
  if (env != nullptr && *env != '\0')
    return static_cast<int>(
        parse_setting("", "GOROUTINE_MAXPROCS", env, 1, 1024));
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof set, &set) == 0)
    return std::max(1, CPU_COUNT(&set));
  return static_cast<int>(std::max(1L, sysconf(_SC_NPROCESSORS_ONLN)));
}

void init_runtime() {
  static std::once_flag once;
  std::call_once(once, [] {
    init_settings();
    stack_init_cpu();
    signals_init();
    panic_init();
    sched.nprocs = settings.maxprocs = default_procs();
    for (int i = 0; i < sched.nprocs; ++i) {
      P *p = new P;
      p->id = i;
      sched.allp.push_back(p);
    }
    for (int i = sched.nprocs - 1; i >= 0; --i)
      pidle_put(sched.allp[i]);
    preempt_init();
  });
}

int64_t nanotime() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
}

uint32_t fastrand() {
  M *m = current_m();
  static thread_local uint64_t fallback = 0x2545F4914F6CDD1DULL;
  uint64_t &s = m != nullptr ? m->fastrand : fallback;
  s ^= s << 13; // xorshift64
  s ^= s >> 7;
  s ^= s << 17;
  return static_cast<uint32_t>(s >> 32);
}

// Queues g to run next on the current P (the global queue on a thread
// without one) and wakes an M for it.
static void make_runnable(Goroutine *g) {
  g->status.store(GoroutineStatus::Runnable, std::memory_order_release);
  if (P *p = current_p())
    runq_put(p, g, true);
  else
    globrunq_put(g);
  if (sched.running.load(std::memory_order_acquire))
    wakep(); // (after go::run returns, Ms do not run goroutines)
}

void ready(Goroutine *g) {
  // g's g0 may still be moving its stack after releasing the lock the waker
  // found it under (after_switch): leave queuing it to that g0.
  ParkState finishing = ParkState::Finishing;
  if (g->park_state.load(std::memory_order_acquire) != ParkState::None &&
      g->park_state.compare_exchange_strong(finishing, ParkState::Woken,
                                            std::memory_order_acq_rel))
    return;
  make_runnable(g);
}

P *first_p() { return sched.allp[0]; }

void wake_for_timer() {
  // An idle M sleeps until the earliest timer it saw; one added since may be
  // earlier. Wake an idle P's M to look again (it goes back to sleep if not).
  wakep();
}

// The next goroutine of this P, to switch to directly instead of through g0;
// null when g0 should decide (every 61st switch, for the global queue, and
// every 8th while timers are pending, as find_runnable would).
static __attribute__((always_inline)) inline Goroutine *
direct_next(M *m, bool *inherit) {
  P *p = m->p;
  if (!sched.running.load(std::memory_order_relaxed) ||
      sched.world_stopping.load(std::memory_order_relaxed))
    return nullptr; // go::run has returned, or the world is stopping: g0
  const uint32_t n = ++m->switches;
  if (n % 61 == 0 ||
      (n % 8 == 0 && p->timer0_when.load(std::memory_order_relaxed) != 0))
    return nullptr;
  Goroutine *next = runq_get(p, inherit);
  if (next != nullptr && !enterable(next)) { // needs g0's help first
    m->handoff = next;
    m->handoff_inherit = *inherit;
    return nullptr;
  }
  return next;
}

// Finishes a direct switch on the goroutine switched to: the one that
// switched out is saved now, so it can be requeued or its park completed.
static __attribute__((always_inline)) inline void finish_switch() {
  ThreadState &ts = this_thread();
  M *m = ts.m;
  Goroutine *prev = m->switched_out;
  if (prev == nullptr)
    return; // came from g0, which did it
  m->switched_out = nullptr;
  if (ts.switch_reason == SwitchReason::Yield) {
    prev->status.store(GoroutineStatus::Runnable, std::memory_order_relaxed);
    P *p = m->p;
    if (!runq_put_tail(p, prev))
      on_system_stack([&] { runq_put(p, prev, false); });
  } else { // Park with a light callback
    prev->park_after(prev, prev->park_arg);
  }
}

// Switches the calling goroutine g out for `why`, directly to the next
// goroutine of its P when `direct` allows and there is one, else to g0.
// Returns when g runs again (possibly on another thread).
static __attribute__((always_inline)) inline void
switch_out(Goroutine *g, SwitchReason why, bool direct) {
  // A handler runs on the thread's signal stack, over whatever it
  // interrupted: a goroutine switched out there could never be resumed.
  if (on_signal_stack(reinterpret_cast<uintptr_t>(__builtin_frame_address(0))))
    fatal("go::yield or a blocking operation in a signal handler: a signal "
          "handler may not switch goroutines");
  ThreadState &ts = this_thread();
  M *m = ts.m;
  ts.switch_reason = why;
  m->switched_out = g;
  bool inherit = false;
  Goroutine *next = direct ? direct_next(m, &inherit) : nullptr;
  if (next != nullptr) {
    enter(ts, m, next, inherit);
    side_stack_switch(&g->side, &next->side);
    enter_stack_limit(ts, stack_limit_for(next));
    goroutine_switch(&g->sched_sp, next->sched_sp);
  } else {
    goroutine_switch(&g->sched_sp, ts.g0_sp);
  }
  finish_switch();
}

GOROUTINE_PARK_PATH void park(WaitReason reason,
                              void (*after)(Goroutine *, void *), void *arg,
                              bool light) {
  ThreadState &ts = this_thread();
  Goroutine *g = ts.g;
  if (g == nullptr)
    fatal("a blocking operation outside a goroutine (use it from a "
          "goroutine, or a non-blocking form)");
  if (ts.m->blocking)
    fatal("a goroutine blocked (channel, sync, sleep) inside go::blocking");
  g->wait_reason = reason;
  g->park_after = after;
  g->park_arg = arg;
  g->status.store(GoroutineStatus::Waiting, std::memory_order_relaxed);
  // Compacting the parked stack (many goroutines) is g0's work.
  const bool direct =
      light && (settings.compactpark == 0 ||
                counters.num_goroutine.load(std::memory_order_relaxed) <
                    settings.compactpark);
  switch_out(g, SwitchReason::Park, direct);
}

void park_unlock(WaitReason reason, uint32_t *word) {
  park(
      reason,
      [](Goroutine *, void *w) { spin_unlock(static_cast<uint32_t *>(w)); },
      word, true);
}

Goroutine *waiting_goroutine(const char *what) {
  Goroutine *g = current_g();
  if (g == nullptr)
    fatal("%s would block a thread that runs no goroutine (only goroutines "
          "can wait on the runtime's channels and sync types)",
          what);
  return g;
}

const char *wait_reason_string(WaitReason r) {
  switch (r) {
  case WaitReason::None:
    return "runnable";
  case WaitReason::ChanReceive:
    return "chan receive";
  case WaitReason::ChanSend:
    return "chan send";
  case WaitReason::ChanReceiveNil:
    return "chan receive (nil chan)";
  case WaitReason::ChanSendNil:
    return "chan send (nil chan)";
  case WaitReason::Select:
    return "select";
  case WaitReason::SelectNoCases:
    return "select (no cases)";
  case WaitReason::MutexLock:
    return "sync.Mutex.Lock";
  case WaitReason::RWMutexLock:
    return "sync.RWMutex.Lock";
  case WaitReason::RWMutexRLock:
    return "sync.RWMutex.RLock";
  case WaitReason::CondWait:
    return "sync.Cond.Wait";
  case WaitReason::WaitGroupWait:
    return "sync.WaitGroup.Wait";
  case WaitReason::Sleep:
    return "sleep";
  }
  return "waiting";
}

} // namespace go::runtime

using namespace go::runtime;

// The bottom frame of every goroutine, entered from goroutine_trampoline.
extern "C" GOROUTINE_PARK_PATH [[noreturn]] void goroutine_main(Goroutine *g) {
  finish_switch(); // a goroutine switched to this one directly
  g->entry(g->entry_arg);
  switch_out(g, SwitchReason::Exit, false);
  __builtin_trap(); // a dead goroutine is never resumed
}

extern "C" GOROUTINE_PARK_PATH void goroutine_yield() {
  ThreadState &ts = this_thread();
  Goroutine *g = ts.g;
  if (g == nullptr || ts.m->blocking)
    return;
  switch_out(g, SwitchReason::Yield, true);
}

// Called by goroutine_preempt_stub (context.S) on the goroutine's stack, with
// every register of the interrupted code saved below it.
extern "C" GOROUTINE_PARK_PATH void goroutine_preempt_park() {
  switch_out(this_thread().g, SwitchReason::Preempt, false);
}

extern "C" GOROUTINE_PARK_PATH void goroutine_enter_blocking() {
  ThreadState &ts = this_thread();
  M *m = ts.m;
  if (ts.g == nullptr || m == nullptr || m->blocking++ != 0)
    return; // not a goroutine, or nested
  P *p = m->p;
  p->syscalltick.fetch_add(1, std::memory_order_relaxed);
  p->blocked_by.store(m, std::memory_order_relaxed);
  p->status.store(PStatus::Blocking, std::memory_order_release);
}

extern "C" GOROUTINE_PARK_PATH void goroutine_exit_blocking() {
  ThreadState &ts = this_thread();
  M *m = ts.m;
  if (ts.g == nullptr || m == nullptr || m->blocking == 0)
    return; // not a goroutine
  --m->blocking;
  if (m->blocking != 0)
    return; // nested
  P *p = m->p;
  M *expected = m;
  if (p->blocked_by.compare_exchange_strong(expected, nullptr)) {
    p->status.store(PStatus::Running, std::memory_order_release);
    return; // still ours
  }
  // sysmon handed our P to another M meanwhile.
  releasep(m);
  bool got = false;
  on_system_stack([&] {
    std::lock_guard<AdaptiveMutex> lock(sched.lock);
    if (P *idle = pidle_get()) {
      acquirep(m, idle);
      got = true;
    }
  });
  if (!got)
    switch_out(ts.g, SwitchReason::Requeue, false);
}
