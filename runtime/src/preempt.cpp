// preempt.cpp: sysmon, preemption and stopping the world (Go's preempt.go,
// with sysmon and retake from proc.go and the SIGURG half of signal_unix.go).
//
// sysmon is a thread of its own that looks at every P every millisecond
// (retake):
//  - a goroutine that has run for settings.preempt_ns (10 ms) without
//    switching gets SIGURG on its thread. The handler, if the thread is
//    really executing that goroutine on its stack, sets g->preempt and
//    poisons the split-stack limit: the next instrumented prologue traps into
//    morestack, which switches it out (morestack.S, goroutine_preempt_stub).
//    Threads inside go::blocking are never signalled: SA_RESTART does not
//    restart sleeps and polls, which would return EINTR.
//  - a P whose M has been in a blocking call (goroutine_enter_blocking) for a
//    tick while there is other work is handed to another M (Go's handoffp).
//    The P and the returning goroutine race for it with one exchange on
//    P::blocked_by (take_blocked_p, goroutine_exit_blocking).
//
// Stopping the world (stop_the_world, for traces of every goroutine and the
// SIGQUIT dump): idle and lent-out Ps are stopped at once, running ones at
// their goroutine's next scheduling point, which preemption brings soon.
// While Sched::world_stopping is set no P goes idle and every M that looks
// for work stops instead (stopm_for_world).
//
// docs/design.md, sections 13 and 19, has the reasons and the limits.
#include <csignal>
#include <ctime>
#include <ucontext.h>
#include <unistd.h>

#include "scheduler.h"
#include "stack.h"
#include "trace.h"

extern "C" int __sigaction(int sig, const struct sigaction *act,
                           struct sigaction *old) noexcept;

namespace go::runtime {
namespace {

constexpr int64_t kSysmonTickNs = 1'000'000;
constexpr int kPreemptSignal = SIGURG;

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

void stop_p(P *p) {
  p->status.store(PStatus::Stopped, std::memory_order_release);
  p->m = nullptr;
  if (--sched.stopwait == 0)
    sched.stopnote.wakeup();
}

void stopm_for_world(M *m) {
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

bool stw_try_lock() {
  bool expected = false;
  return sched.stw_held.compare_exchange_strong(expected, true);
}

bool stop_the_world(int64_t timeout_ns) {
  P *own = current_p(); // a goroutine's own P stays with it
  {
    std::lock_guard<AdaptiveMutex> lock(sched.lock);
    sched.world_stopping.store(true);
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
    sched.world_stopping.store(false);
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

void preempt_init() {
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
}

} // namespace go::runtime
