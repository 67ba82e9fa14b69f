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
//                              callback (unlock what the goroutine waits on),
//                              or recycle (exit)
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
// Preemption (sysmon). A monitor thread looks at every P every millisecond. A
// goroutine that has run for 10 ms without switching gets SIGURG on its
// thread; the handler, if the thread is really executing that goroutine on
// its stack, sets g->preempt and poisons the split-stack limit, so the next
// instrumented prologue traps into morestack, which switches it out
// (morestack.S, goroutine_preempt_stub). Blocking calls: a P whose M is in
// goroutine_enter_blocking for a sysmon tick while there is other work is
// handed to another M (Go's retake/handoffp).
//
// Deadlock. When the last M goes idle with no timer pending and no M in a
// blocking call while the main goroutine still waits, nothing can ever wake
// it: "all goroutines are asleep - deadlock!", as in Go.
//
// Lifetime. Worker Ms and sysmon are created on demand and live as long as
// the process. When the main goroutine returns, go::run returns; goroutines
// still alive stay where they are (Go would end the process here) and run
// again at the next go::run.
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fcntl.h>
#include <linux/futex.h>
#include <malloc.h>
#include <mutex>
#include <new>
#include <sys/syscall.h>
#include <ucontext.h>
#include <unistd.h>

#include <goroutine/goroutine.h>

#include "scheduler.h"
#include "signals.h"
#include "stack.h"
#include "trace.h"

extern "C" int __sigaction(int sig, const struct sigaction *act,
                           struct sigaction *old) noexcept;

constinit thread_local go::runtime::ThreadState goroutine_thread_state
    __attribute__((tls_model("initial-exec")));

// Functions that can be on a goroutine's stack while it is switched out; see
// trace.cpp. Small frames only, and no calls other than goroutine_switch.
#define GOROUTINE_PARK_PATH                                                    \
  __attribute__((section("goroutine_park_text"), noinline))

namespace go::runtime {

std::vector<Goroutine *> &allgs = *new std::vector<Goroutine *>;
uint32_t allgs_lock = 0;

namespace {

constexpr int kGfreeLocalMax = 64; // dead goroutines kept per P
constexpr int64_t kSysmonTickNs = 1'000'000;
constexpr int kPreemptSignal = SIGURG;

// The global state (Go's schedt). `lock` guards every non-atomic field.
struct Sched {
  AdaptiveMutex lock;
  Goroutine *runq_head = nullptr, *runq_tail = nullptr;
  std::atomic<int> runq_size{0};
  P *pidle = nullptr;
  std::atomic<int> npidle{0};
  M *midle = nullptr;
  int nmidle = 0;
  int mcount = 0;
  std::atomic<int> nmspinning{0};
  std::vector<P *> allp;
  int nprocs = 0;
  Goroutine *gfree = nullptr;       // dead goroutines beyond the per-P lists
  std::atomic<bool> running{false}; // go::run is active
  Goroutine *main_g = nullptr;
  std::atomic<bool> main_done{false};
  M *main_m = nullptr;
  // stop_the_world: set while stopping or stopped; stopwait counts the Ps
  // still to stop (under lock), and the last one to stop wakes stopnote.
  int stopwait = 0;
  Note stopnote;
  std::atomic<bool> gcwaiting{false};
  std::atomic<bool> stw_held{false}; // stw_try_lock
};
// Never destroyed: worker threads may still be looking at it while the
// process exits.
Sched &sched = *new Sched;

std::atomic<uint64_t> next_goroutine_id{1};
std::atomic<uint64_t> next_m_id{1};

void futex_wait(std::atomic<uint32_t> *addr, uint32_t val, int64_t ns) {
  timespec ts{}, *tsp = nullptr;
  if (ns >= 0) {
    ts.tv_sec = ns / 1'000'000'000;
    ts.tv_nsec = ns % 1'000'000'000;
    tsp = &ts;
  }
  syscall(SYS_futex, reinterpret_cast<uint32_t *>(addr), FUTEX_WAIT_PRIVATE,
          val, tsp, nullptr, 0);
}

void futex_wake(std::atomic<uint32_t> *addr) {
  syscall(SYS_futex, reinterpret_cast<uint32_t *>(addr), FUTEX_WAKE_PRIVATE, 1,
          nullptr, nullptr, 0);
}

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

// The local queue is full: moves half of it and g to the global queue.
bool runq_put_slow(P *p, Goroutine *g, uint32_t head, uint32_t tail) {
  constexpr uint32_t n = P::kRunQueueSize / 2;
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
  for (;;) {
    uint32_t head = p->runq_head.load(std::memory_order_acquire);
    const uint32_t tail = p->runq_tail.load(std::memory_order_relaxed);
    if (tail - head < P::kRunQueueSize) {
      p->runq[tail % P::kRunQueueSize].store(g, std::memory_order_relaxed);
      p->runq_tail.store(tail + 1, std::memory_order_release);
      return;
    }
    if (runq_put_slow(p, g, head, tail))
      return;
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
Goroutine *globrunq_get(P *p, int max) {
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

// p stops for stop_the_world (lock held).
void stop_p(P *p) {
  p->status.store(PStatus::Stopped, std::memory_order_release);
  p->m = nullptr;
  if (--sched.stopwait == 0)
    sched.stopnote.wakeup();
}

void pidle_put(P *p) { // lock held
  if (sched.gcwaiting.load(std::memory_order_relaxed)) {
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

M *midle_get() { // lock held
  M *m = sched.midle;
  if (m != nullptr) {
    sched.midle = m->link;
    --sched.nmidle;
  }
  return m;
}

bool midle_remove(M *m) { // lock held
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
  uintptr_t tcb;
  asm volatile("movq %%fs:0, %0" : "=r"(tcb));
  m->limit_slot = reinterpret_cast<uintptr_t *>(tcb + GOROUTINE_TCB_STACK_LIMIT);
  m->thread = pthread_self();
  m->fastrand = m->id * 0x9e3779b97f4a7c15ULL + 1;
}

void *mstart(void *arg);

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
void start_spinning(M *m) {
  m->spinning = true;
  sched.nmspinning.fetch_add(1);
}

// Returns true if m was the last spinning M.
bool stop_spinning(M *m) {
  m->spinning = false;
  return sched.nmspinning.fetch_sub(1) == 1;
}

void reset_spinning(M *m) {
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
long process_threads() {
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
void check_dead() {
  if (!sched.running.load() || sched.main_done.load() || sched.gcwaiting.load())
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

Goroutine *gfree_get(P *p) {
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
void goroutine_exit(M *m, Goroutine *g) {
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
void prepare(Goroutine *g) {
  if (g->stack.lo == 0) { // first run: stacks are allocated late
    g->stack = stack_alloc(settings.stackmin);
    g->stackguard = g->stack.lo + kStackGuard;
    stack_init_context(g);
  } else if (g->home.lo != 0) {
    stack_expand(g);
  }
}

bool enterable(const Goroutine *g) {
  return g->stack.lo != 0 && g->home.lo == 0;
}

// Makes g the goroutine of this thread (before switching into it).
inline void enter(ThreadState &ts, M *m, Goroutine *g, bool inherit) {
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

// g has switched out to this M's g0 for ts.switch_reason.
void after_switch(ThreadState &ts, M *m, Goroutine *g) {
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
    // Nobody can wake g until park_after runs: its stack can still move.
    if (!stack_compact(g,
                       counters.num_goroutine.load(std::memory_order_relaxed)))
      stack_shrink(g);
    auto after = g->park_after;
    g->park_after = nullptr;
    after(g, g->park_arg);
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
int64_t earliest_timer() {
  int64_t earliest = 0;
  for (P *q : sched.allp) {
    const int64_t w = q->timer0_when.load(std::memory_order_relaxed);
    if (w != 0 && (earliest == 0 || w < earliest))
      earliest = w;
  }
  return earliest;
}

// The world is stopping: m stops its P and sleeps until start_the_world
// (or anyone) hands it one again.
void gcstopm(M *m) {
  {
    std::lock_guard<AdaptiveMutex> lock(sched.lock);
    if (m->spinning)
      stop_spinning(m);
    if (P *p = m->p) {
      releasep(m);
      stop_p(p);
    }
    midle_put(m);
  }
  stopm(m, -1);
}

// Looks for a goroutine to run; returns null only to go::run's M once the
// main goroutine is done.
Goroutine *find_runnable(M *m, bool *inherit) {
  *inherit = false;
  for (;;) {
    if (m->is_main && sched.main_done.load(std::memory_order_acquire))
      return nullptr;
    if (sched.gcwaiting.load(std::memory_order_acquire)) {
      gcstopm(m);
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

void *mstart(void *arg) {
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

// ---- sysmon ---------------------------------------------------------------

// SIGURG handler: preempts the goroutine this thread runs, if it is running
// its own code on its own stack.
void on_preempt_signal(int, siginfo_t *, void *uc_void) {
  ThreadState &ts = goroutine_thread_state;
  Goroutine *g = ts.g;
  M *m = ts.m;
  if (g == nullptr || m == nullptr || m->blocking)
    return;
  auto *uc = static_cast<ucontext_t *>(uc_void);
  const auto sp = static_cast<uintptr_t>(uc->uc_mcontext.gregs[REG_RSP]);
  if (!g->stack.contains(sp) || stack_limit() != ts.stack_limit) {
    // On the system stack (morestack, a runtime call), or the limit is
    // someone else's now: the limit must stay. In torture mode every
    // function entry traps anyway, and such a goroutine spends most of its
    // time in morestack: the flag alone stops it at its next entry.
    if (settings.stackmove != 0)
      g->preempt.store(true, std::memory_order_relaxed);
    return;
  }
  g->preempt.store(true, std::memory_order_relaxed);
  set_stack_limit(kStackPoison);
}

// Takes p from the M whose goroutine lent it out in a blocking call; false
// if that call has already returned (goroutine_exit_blocking keeps its P by
// the same exchange). The caller decides what p does next.
bool take_blocked_p(P *p) {
  M *owner = p->m;
  return owner != nullptr &&
         p->blocked_by.compare_exchange_strong(owner, nullptr);
}

void preemptone(P *p) {
  M *m = p->m;
  if (m == nullptr || m->curg.load() == nullptr)
    return;
  pthread_kill(m->thread, kPreemptSignal);
}

// Gives a P retaken from a blocking call to an M, or back to the idle list.
void handoffp(P *p) {
  if (!runq_empty(p) || sched.runq_size.load() > 0 ||
      p->timer0_when.load() != 0) {
    startm(p, false);
    return;
  }
  int expected = 0;
  if (sched.nmspinning.load() + sched.npidle.load() == 0 &&
      sched.nmspinning.compare_exchange_strong(expected, 1)) {
    startm(p, true);
    return;
  }
  std::lock_guard<AdaptiveMutex> lock(sched.lock);
  pidle_put(p);
}

void retake(int64_t now) {
  for (P *p : sched.allp) {
    const PStatus s = p->status.load(std::memory_order_acquire);
    if (s == PStatus::Running) {
      const uint64_t tick = p->schedtick.load(std::memory_order_relaxed);
      if (p->sysmon_schedtick != tick) {
        p->sysmon_schedtick = tick;
        p->sysmon_schedwhen = now;
      } else if (now - p->sysmon_schedwhen >= settings.preempt_ns) {
        preemptone(p);
        p->sysmon_schedwhen = now;
      }
    } else if (s == PStatus::Blocking) {
      const uint64_t t = p->syscalltick.load();
      if (p->sysmon_syscalltick != t) {
        p->sysmon_syscalltick = t;
        p->sysmon_syscallwhen = now;
        continue;
      }
      // Nothing else to run and someone free to run it: let it be, for a
      // while (Go's 10 ms).
      if (runq_empty(p) && sched.runq_size.load() == 0 &&
          sched.nmspinning.load() + sched.npidle.load() > 0 &&
          now - p->sysmon_syscallwhen < 10'000'000)
        continue;
      if (!take_blocked_p(p))
        continue;
      p->status.store(PStatus::Idle, std::memory_order_release);
      p->m = nullptr;
      handoffp(p);
    }
  }
}

// SIGQUIT: the handler only raises the flag; sysmon, which holds no lock of
// anybody's, stops the world and prints every goroutine (quit_dump).
std::atomic<bool> quit_requested{false};

void on_quit_signal(int) { quit_requested.store(true); }

[[noreturn]] void quit_dump() {
  while (!stw_try_lock())
    usleep(1000);
  // A goroutine that never calls a function cannot be stopped: after a
  // second, print what can be printed anyway.
  const bool stopped = stop_the_world(1'000'000'000);
  TraceWriter w(STDERR_FILENO);
  w.printf("SIGQUIT: quit\n");
  if (!stopped)
    w.printf("runtime: some goroutines did not stop within 1s; the traces "
             "of parked ones may be inconsistent\n");
  print_goroutines(w, nullptr);
  _exit(2);
}

void *sysmon(void *) {
  for (;;) {
    timespec ts{0, kSysmonTickNs};
    nanosleep(&ts, nullptr);
    if (quit_requested.load(std::memory_order_relaxed))
      quit_dump();
    if (!sched.running.load(std::memory_order_acquire))
      continue;
    retake(nanotime());
  }
  return nullptr;
}

// ---- Stopping the world -------------------------------------------------

// Calls f for every P still running goroutines, other than own.
template <class F> void for_each_running_p(P *own, F f) {
  for (P *p : sched.allp)
    if (p != own &&
        p->status.load(std::memory_order_acquire) == PStatus::Running)
      f(p);
}

// Stops the Ps lent out by goroutines in blocking calls, as sysmon's retake
// takes them: each goroutine finds its P gone when it returns (lock held).
void stop_blocking_ps() {
  for (P *p : sched.allp)
    if (p->status.load() == PStatus::Blocking && take_blocked_p(p))
      stop_p(p);
}

} // namespace

bool stw_try_lock() {
  bool expected = false;
  return sched.stw_held.compare_exchange_strong(expected, true);
}

bool stop_the_world(int64_t timeout_ns) {
  P *own = current_p(); // a goroutine's own P stays with it
  {
    std::lock_guard<AdaptiveMutex> lock(sched.lock);
    sched.gcwaiting.store(true);
    sched.stopwait = sched.nprocs - (own != nullptr ? 1 : 0);
    while (P *p = pidle_get())
      stop_p(p);
    stop_blocking_ps();
    if (sched.stopwait == 0)
      return true;
  }
  const int64_t deadline = nanotime() + timeout_ns;
  for (;;) {
    // Running Ps stop at their goroutine's next scheduling point; preempt
    // it so that one comes soon (again each round: it may have been on the
    // system stack when the signal came).
    for_each_running_p(own, preemptone);
    sched.stopnote.sleep(kSysmonTickNs);
    std::lock_guard<AdaptiveMutex> lock(sched.lock);
    stop_blocking_ps(); // a goroutine may have entered one since
    if (sched.stopwait == 0)
      return true;
    if (nanotime() > deadline)
      return false;
  }
}

void start_the_world() {
  std::vector<P *> work;
  {
    std::lock_guard<AdaptiveMutex> lock(sched.lock);
    sched.gcwaiting.store(false);
    for (P *p : sched.allp) {
      if (p->status.load() != PStatus::Stopped)
        continue;
      if (!runq_empty(p) || p->timer0_when.load() != 0)
        work.push_back(p);
      else
        pidle_put(p);
    }
  }
  for (P *p : work)
    startm(p, false);
  wakep(); // the global queue
  sched.stw_held.store(false);
}

namespace {

// ---- Start-up ---------------------------------------------------------------

int default_procs() {
  if (const char *env = std::getenv("GOROUTINE_MAXPROCS")) {
    char *end = nullptr;
    const long n = std::strtol(env, &end, 10);
    if (end == env || *end != '\0' || n < 1 || n > 1024)
      fatal("GOROUTINE_MAXPROCS=%s must be a number from 1 to 1024", env);
    return static_cast<int>(n);
  }
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
    struct sigaction sa{};
    sa.sa_sigaction = on_preempt_signal;
    sa.sa_flags = SA_SIGINFO | SA_RESTART | SA_ONSTACK;
    sigemptyset(&sa.sa_mask);
    // glibc's own sigaction: the interposed one (signals.cpp) would run the
    // handler with the limit cleared.
    __sigaction(kPreemptSignal, &sa, nullptr);
    // SIGQUIT prints every goroutine, as in Go, unless the program chose
    // what it does.
    struct sigaction quit{};
    if (__sigaction(SIGQUIT, nullptr, &quit) == 0 &&
        !(quit.sa_flags & SA_SIGINFO) && quit.sa_handler == SIG_DFL) {
      quit.sa_handler = on_quit_signal;
      quit.sa_flags = SA_RESTART | SA_ONSTACK;
      sigemptyset(&quit.sa_mask);
      __sigaction(SIGQUIT, &quit, nullptr);
    }
    pthread_t t;
    if (pthread_create(&t, nullptr, sysmon, nullptr) != 0)
      fatal("cannot start the scheduler's monitor thread");
    pthread_detach(t);
  });
}

} // namespace

// ---- Used by the rest of the runtime --------------------------------------

void SpinLock::wait() {
  for (int i = 0; __atomic_load_n(w_, __ATOMIC_RELAXED) != 0; ++i) {
    if (i < 64)
      __builtin_ia32_pause();
    else
      sched_yield();
  }
}
void spin_lock(uint32_t *word) { SpinLock(word).lock(); }
void spin_unlock(uint32_t *word) { SpinLock(word).unlock(); }

void Note::wakeup() {
  key.store(1, std::memory_order_release);
  futex_wake(&key);
}

bool Note::sleep(int64_t timeout_ns) {
  const int64_t deadline = timeout_ns >= 0 ? nanotime() + timeout_ns : -1;
  while (key.load(std::memory_order_acquire) == 0) {
    const int64_t left = deadline >= 0 ? deadline - nanotime() : -1;
    if (deadline >= 0 && left <= 0)
      break;
    futex_wait(&key, 0, left);
  }
  return key.exchange(0, std::memory_order_acq_rel) != 0;
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

void ready(Goroutine *g) {
  g->status.store(GoroutineStatus::Runnable, std::memory_order_release);
  if (P *p = current_p()) {
    runq_put(p, g, true);
  } else {
    globrunq_put(g);
  }
  wakep();
}

P *first_p() { return sched.allp[0]; }

void wake_for_timer() {
  // An idle M sleeps until the earliest timer it saw; one added since may be
  // earlier. Wake an idle P's M to look again (it goes back to sleep if not).
  wakep();
}

namespace {

// The next goroutine of this P, to switch to directly instead of through g0;
// null when g0 should decide (every 61st switch, for the global queue, and
// every 8th while timers are pending, as find_runnable would).
__attribute__((always_inline)) inline Goroutine *direct_next(M *m,
                                                             bool *inherit) {
  P *p = m->p;
  if (!sched.running.load(std::memory_order_relaxed) ||
      sched.gcwaiting.load(std::memory_order_relaxed))
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
__attribute__((always_inline)) inline void finish_switch() {
  ThreadState &ts = this_thread();
  M *m = ts.m;
  Goroutine *prev = m->switched_out;
  if (prev == nullptr)
    return; // came from g0, which did it
  m->switched_out = nullptr;
  if (ts.switch_reason == SwitchReason::Yield) {
    prev->status.store(GoroutineStatus::Runnable, std::memory_order_relaxed);
    P *p = m->p;
    const uint32_t tail = p->runq_tail.load(std::memory_order_relaxed);
    if (tail - p->runq_head.load(std::memory_order_acquire) <
        P::kRunQueueSize) {
      p->runq[tail % P::kRunQueueSize].store(prev, std::memory_order_relaxed);
      p->runq_tail.store(tail + 1, std::memory_order_release);
    } else {
      on_system_stack([&] { runq_put(p, prev, false); });
    }
  } else { // Park with a light callback
    prev->park_after(prev, prev->park_arg);
  }
}

// Switches the calling goroutine g out for `why`, directly to the next
// goroutine of its P when `direct` allows and there is one, else to g0.
// Returns when g runs again (possibly on another thread).
__attribute__((always_inline)) inline void
switch_out(Goroutine *g, SwitchReason why, bool direct) {
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

} // namespace

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

namespace {
// Queues g (started) to run.
void submit(Goroutine *g) {
  if (P *p = current_p())
    runq_put(p, g, true);
  else
    globrunq_put(g);
  if (sched.running.load(std::memory_order_acquire))
    wakep();
}

Goroutine *closure_owner(void *closure) {
  return *reinterpret_cast<Goroutine **>(static_cast<char *>(closure) -
                                         sizeof(void *));
}
} // namespace

extern "C" uint64_t goroutine_spawn(void (*fn)(void *), void *arg) {
  const auto creator_pc =
      reinterpret_cast<uintptr_t>(__builtin_return_address(0));
  uint64_t id = 0;
  on_system_stack([&] {
    init_runtime();
    Goroutine *g = new_goroutine(fn, arg, creator_pc);
    id = g->id;
    submit(g);
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
    submit(g);
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
