// The scheduler's records (Go's m, p and schedt) and the operations the rest
// of the runtime uses: park a goroutine, make one runnable, take locks that
// are safe on any stack. The scheduler is split by mechanism:
//   proc.cpp        G/M/P scheduling: run queues, find_runnable, schedule,
//                   switching, park and ready (the design is described there)
//   preempt.cpp     sysmon, preemption by signal, stopping the world
//   lock_futex.cpp  SpinLock and Note
//   api.cpp         the C entry points: spawn, closures, go::run, traces
//   mstats.cpp      memory statistics
// The lock order of the whole runtime is in lockrank.h.
#ifndef GOROUTINE_SCHEDULER_H
#define GOROUTINE_SCHEDULER_H

#include <atomic>
#include <cstdint>
#include <pthread.h>
#include <vector>

#include "lockrank.h"
#include "runtime.h"

// Functions that can be on a goroutine's stack while it is switched out; see
// trace.cpp. Small frames only, and no calls other than goroutine_switch.
#define GOROUTINE_PARK_PATH                                                    \
  __attribute__((section("goroutine_park_text"), noinline))

namespace go::runtime {

class TraceWriter;

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
  uint64_t fastrand = 0;
  pthread_t thread{};
};

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
  // stop_the_world: world_stopping is set while stopping or stopped;
  // stopwait counts the Ps still to stop (under lock), and the last one to
  // stop wakes stopnote.
  int stopwait = 0;
  Note stopnote;
  std::atomic<bool> world_stopping{false};
  std::atomic<bool> stw_held{false}; // stw_try_lock
};
// Never destroyed: worker threads may still be looking at it while the
// process exits.
extern Sched &sched;

// The current thread's M, or nullptr outside the scheduler.
inline M *current_m() { return this_thread().m; }
inline Goroutine *current_g() { return this_thread().g; }

// Makes g runnable on the current P (or the global queue) and wakes an idle
// P if there is one: a goroutine just started, or one its waker took off a
// wait queue. Any thread, the system stack. A goroutine whose g0 is still
// finishing its park (Goroutine::park_state) is queued by that g0 instead.
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
// Lock and unlock every channel on g->waiting, in lock order (chan.cpp): a
// parked goroutine's stack is copied under them (stack.cpp).
void chan_lock_waiting(Goroutine *g);
void chan_unlock_waiting(Goroutine *g);

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

// ---- Shared by the scheduler's files (proc.cpp unless noted) --------------

// Run queues (Go's runqput, runqget, runqsteal, globrunqput, globrunqget).
// Puts g on p's queue; with next, in runnext. Only p's owner puts.
void runq_put(P *p, Goroutine *g, bool next);
// Takes the next goroutine of p's queue; *inherit says it came from runnext.
Goroutine *runq_get(P *p, bool *inherit);
// Takes half of victim's queue into p's (empty) queue; returns one to run.
Goroutine *runq_steal(P *p, P *victim, bool take_runnext);
bool runq_empty(const P *p);
void globrunq_put(Goroutine *g);
// Appends the goroutines head..tail (n of them, chained through schedlink)
// to the global queue (lock held).
void globrunq_put_batch(Goroutine *head, Goroutine *tail, int n);

// Ps and Ms (lock held where noted).
void pidle_put(P *p); // lock held
P *pidle_get();       // lock held
void midle_put(M *m); // lock held
void acquirep(M *m, P *p);
void releasep(M *m);
void drop_p(M *m); // lock held
M *new_m_record(); // lock held
void register_thread(M *m);
// Starts an M to run p (an idle P if null); with spinning, counted already.
void startm(P *p, bool spinning);
// Starts a spinning M if a P is idle and nobody looks for work.
void wakep();
bool stop_spinning(M *m);
// Sleeps until startm hands m a P or timeout_ns passes.
void stopm(M *m, int64_t timeout_ns);
// The scheduler loop of an M. Returns only on go::run's M.
void schedule(M *m);
// Sets up the Ps, signals and sysmon once.
void init_runtime();

// Goroutine records.
Goroutine *reserve_goroutine();
void start_goroutine(Goroutine *g, void (*fn)(void *), void *arg,
                     uintptr_t creator_pc);
Goroutine *new_goroutine(void (*fn)(void *), void *arg, uintptr_t creator_pc);
void free_closure(Goroutine *g);
void gfree_put(P *p, Goroutine *g);
// Traces of every goroutine but skip (Go's tracebackothers).
void print_goroutines(TraceWriter &w, const Goroutine *skip);

// preempt.cpp.
// Installs the preemption and SIGQUIT handlers and starts sysmon.
void preempt_init();
// p stops for stop_the_world (lock held).
void stop_p(P *p);
// The world is stopping: m stops its P and sleeps until it gets one again.
void stopm_for_world(M *m);

} // namespace go::runtime

#endif // GOROUTINE_SCHEDULER_H
