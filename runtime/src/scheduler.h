// The scheduler's records (Go's m, p and schedt) and the operations the rest
// of the runtime uses: park a goroutine, make one runnable, take locks that
// are safe on any stack. See proc.cpp for the design.
#ifndef GOROUTINE_SCHEDULER_H
#define GOROUTINE_SCHEDULER_H

#include <atomic>
#include <cstdint>
#include <pthread.h>
#include <vector>

#include "runtime.h"

namespace go::runtime {

// A test-and-test-and-set lock for the runtime's short critical sections
// (channels, wait queues, timers). Never held across a context switch except
// by a parking goroutine, whose g0 releases it right after the switch.
class SpinLock {
public:
  explicit SpinLock(uint32_t *word) : w_(word) {}
  void lock() {
    while (__atomic_exchange_n(w_, 1, __ATOMIC_ACQUIRE) != 0)
      wait();
  }
  void unlock() { __atomic_store_n(w_, 0, __ATOMIC_RELEASE); }

private:
  void wait();
  uint32_t *w_;
};
void spin_lock(uint32_t *word);
void spin_unlock(uint32_t *word);

// A one-shot wakeup for a sleeping thread (Go's note), on a futex.
struct Note {
  std::atomic<uint32_t> key{0};
  void wakeup();
  // Sleeps until wakeup() or, with timeout_ns >= 0, that many ns. Returns
  // whether it was woken; clears the note either way.
  bool sleep(int64_t timeout_ns = -1);
};

struct Timer;

// Stopped: taken by stop_the_world until start_the_world.
enum class PStatus : uint8_t { Idle, Running, Blocking, Stopped };

// A P: the right to run goroutines, with a local run queue (Go's p).
struct P {
  static constexpr uint32_t kRunQueueSize = 256;

  int id = 0;
  std::atomic<PStatus> status{PStatus::Idle};
  M *m = nullptr;                       // owner while Running or Blocking
  P *link = nullptr;                    // idle list
  std::atomic<uint64_t> schedtick{0};   // goroutines executed
  std::atomic<M *> blocked_by{nullptr}; // the M in a blocking call, if any
  std::atomic<uint64_t> syscalltick{0}; // blocking calls entered
  // Lock-free ring: the owner puts at tail; anyone takes at head (Go's runq).
  std::atomic<uint32_t> runq_head{0};
  std::atomic<uint32_t> runq_tail{0};
  std::atomic<Goroutine *> runq[kRunQueueSize] = {};
  std::atomic<Goroutine *> runnext{nullptr};
  // Dead goroutines kept with their stacks for reuse.
  Goroutine *gfree = nullptr;
  int ngfree = 0;
  // Timers (time.cpp): a min-heap on `when`, under timers_lock.
  uint32_t timers_lock = 0;
  std::vector<Timer *> timers;
  std::atomic<int64_t> timer0_when{0}; // earliest `when`, 0 if none
  // sysmon's view (Go's sysmontick).
  uint64_t sysmon_schedtick = 0;
  int64_t sysmon_schedwhen = 0;
  uint64_t sysmon_syscalltick = 0;
  int64_t sysmon_syscallwhen = 0;
  // Sudogs for selects, reused.
  std::vector<Sudog *> sudog_cache;
};

// An M: an OS thread that runs goroutines (Go's m).
struct M {
  uint64_t id = 0;
  P *p = nullptr;     // held while running goroutines
  P *nextp = nullptr; // handed over by startm
  M *link = nullptr;  // idle list
  Note park;
  bool spinning = false; // looking for work with a P and nothing to run
  uint32_t blocking = 0; // goroutine_enter_blocking depth
  bool is_main = false;  // the thread that called go::run
  std::atomic<Goroutine *> curg{nullptr};
  SideStack thread_side; // the side stack of code outside goroutines
  // Set by a goroutine switching out: g0, or the goroutine it switches to
  // directly, finishes the switch (requeue it, run its park callback).
  Goroutine *switched_out = nullptr;
  // A goroutine a direct switch took from the queue but could not enter
  // (no stack yet, or compacted): g0 runs it next.
  Goroutine *handoff = nullptr;
  bool handoff_inherit = false;
  uint32_t switches = 0; // direct switches, to send every Nth through g0
  uintptr_t *limit_slot = nullptr; // this thread's %fs:0x70
  uint64_t fastrand = 0;
  pthread_t thread{};
};

// The current thread's M, or nullptr outside the scheduler.
inline M *current_m() { return this_thread().m; }
inline Goroutine *current_g() { return this_thread().g; }

// Makes g runnable on the current P (or the global queue) and wakes an idle
// P if there is one. Any thread, any stack.
void ready(Goroutine *g);

// Parks the calling goroutine (must run on its own stack, in the park path):
// switches out, and whoever runs next on its thread (g0, or another goroutine
// switched to directly) calls after(g, arg) once its context is saved.
// Returns when ready(g) has been called and g runs again. A `light` after
// (a few dozen bytes of stack, no libc) may run on the next goroutine's
// stack; anything else runs on g0.
void park(WaitReason reason, void (*after)(Goroutine *, void *), void *arg,
          bool light = false);
// park() whose `after` releases the spin lock at *word.
void park_unlock(WaitReason reason, uint32_t *word);

// nanotime() in ns (CLOCK_MONOTONIC).
int64_t nanotime();
// A per-thread pseudo-random number (Go's fastrand).
uint32_t fastrand();

// The P of the calling thread, if it holds one (not while in a blocking call:
// sysmon may have handed it to another M).
inline P *current_p() {
  M *m = current_m();
  return m != nullptr && m->blocking == 0 ? m->p : nullptr;
}

// The calling goroutine, which is about to wait in `what`; a fatal error on a
// thread that runs no goroutine (only goroutines can park).
Goroutine *waiting_goroutine(const char *what);

// The first P (timers created by threads that hold none go there).
P *first_p();

// time.cpp, for the scheduler.
// Runs p's timers that are due at `now`; returns the earliest `when` left
// (0: none).
int64_t run_timers(P *p, int64_t now);
// Wakes an idle M when a timer earlier than everything they wait for appears.
void wake_for_timer();

// sudog cache (chan.cpp).
Sudog *acquire_sudog();
void release_sudog(Sudog *s);

// local.cpp: runs the destructors of g's goroutine-local values.
void locals_destroy(Goroutine *g);

// Stops every P but the caller's (Go's stopTheWorld): afterwards no goroutine
// runs or changes state, except those inside go::blocking, which keep
// running on their own threads without a P. Running goroutines are preempted
// at their next function entry. Returns false if some P has not stopped
// after timeout_ns (a goroutine in a loop without calls); the world must be
// restarted either way. Call on the system stack, holding no runtime lock,
// after stw_try_lock succeeded; start_the_world releases it.
bool stop_the_world(int64_t timeout_ns);
void start_the_world();
// One stop at a time. A goroutine that fails must yield before it retries:
// the holder is waiting for its P.
bool stw_try_lock();

// All goroutines ever created (dead ones are reused), for traces and the
// deadlock report. Lock with allgs_lock.
extern std::vector<Goroutine *> &allgs;
extern uint32_t allgs_lock;

} // namespace go::runtime

#endif // GOROUTINE_SCHEDULER_H
