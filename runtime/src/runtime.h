// The runtime's core records: goroutines (Go's g), per-thread state (Go's m
// and its TLS), and the register frame the morestack entry points build.
//
// Invariants every file relies on:
//  1. The split-stack limit slot %fs:0x70 is 0 on every thread that is not
//     executing goroutine code, including a runtime thread while it runs on
//     its own system stack (g0). Only code running on a goroutine stack ever
//     sees a non-zero limit.
//  2. While thread T runs goroutine G: ThreadState::g == G, %fs:0x70 is
//     G->stackguard (or kStackPoison when the next prologue must trap), and
//     ThreadState::g0_sp is where T's system stack was suspended. Everything
//     below g0_sp on the system stack is free for morestack to use.
//  3. All the stacks a goroutine ever has end at the same address modulo
//     4 GiB, so every move shifts addresses by a multiple of 4 GiB (see
//     stack.cpp for why that matters).
//  4. The runtime is not instrumented, and the plugin lets goroutines call its
//     exported functions (goroutine_*, go::*) without a reserve. Each such
//     function either uses a few dozen bytes of stack or does its work on the
//     system stack (on_system_stack below).
#ifndef GOROUTINE_RUNTIME_H
#define GOROUTINE_RUNTIME_H

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <pthread.h>
#include <type_traits>

#include <goroutine/abi.h>
#include <goroutine/goroutine.h>

#include "side_stack.h"

namespace go::runtime {

// [lo, hi) of a goroutine stack. The stack grows down from hi.
struct Stack {
  uintptr_t lo = 0;
  uintptr_t hi = 0;
  size_t size() const { return hi - lo; }
  bool contains(uintptr_t p) const { return p >= lo && p < hi; }
};

enum class GoroutineStatus : uint8_t {
  Idle,     // created, never run (no stack yet)
  Runnable, // in a run queue
  Running,  // on a thread
  Waiting,  // parked: on a channel, a sync object or a timer
  Dead,     // finished; kept for reuse (Go's gfree list)
};

// Why a parked goroutine waits: shown in stack traces, like Go's waitReason.
enum class WaitReason : uint8_t {
  None,
  ChanReceive,
  ChanSend,
  ChanReceiveNil,
  ChanSendNil,
  Select,
  SelectNoCases,
  MutexLock,
  RWMutexLock,
  RWMutexRLock,
  CondWait,
  WaitGroupWait,
  Sleep,
};
const char *wait_reason_string(WaitReason r);

// A parked goroutine whose g0 has released the lock it waits under but is
// still moving its stack (compaction, shrinking) is Finishing: a waker then
// only marks it Woken, and that g0 queues it once the stack is in place
// (Go's parkingOnChan, and the _Gscan bit that holds off goready).
enum class ParkState : uint8_t { None, Finishing, Woken };

struct Goroutine;
struct Chan;
struct M;
struct P;

// A goroutine waiting on a channel (Go's sudog). A plain send or receive uses
// the one inside its Goroutine; a select takes one per case from a cache.
// elem points into the goroutine's stack: whoever moves that stack relocates
// it (stack.cpp walks Goroutine::waiting).
struct Sudog {
  Goroutine *g = nullptr;
  Sudog *next = nullptr; // in the channel's queue
  Sudog *prev = nullptr;
  Sudog *waitlink = nullptr; // Goroutine::waiting, in channel lock order
  Chan *c = nullptr;
  void *elem = nullptr; // the value to send, or where to receive
  uint32_t case_index = 0;
  bool is_select = false;
  bool success = false; // woken by a value (false: by close)
};

struct Goroutine {
  Stack stack;                      // must stay first: the assembly reads lo/hi
  uintptr_t stackguard = 0;         // stack.lo + kStackGuard: the real limit
  uintptr_t sched_sp = 0;           // saved %rsp while not running (context.S)
  std::atomic<bool> preempt{false}; // asked to yield at its next check
  std::atomic<GoroutineStatus> status{GoroutineStatus::Idle};
  WaitReason wait_reason = WaitReason::None;
  std::atomic<uint32_t> select_done{0}; // a select case has won
  uint64_t id = 0;
  void (*entry)(void *) = nullptr;
  void *entry_arg = nullptr;
  // Where the go statement that started it was, for traces' "created by":
  // the return address of the spawn call, and the spawning goroutine (0:
  // none, a plain thread or go::run).
  uintptr_t creator_pc = 0;
  uint64_t creator_id = 0;
  void *closure = nullptr; // freed when it ends (goroutine_spawn_closure)
  Goroutine *schedlink = nullptr; // run queue, wait queue or free list
  Sudog *waiting = nullptr;       // sudogs of the channel operation it waits in
  Sudog *param = nullptr;         // the sudog that woke it
  // Called on g0 once the goroutine has switched out to park (Go's unlockf):
  // releases the lock that kept wakers away until its context was saved.
  void (*park_after)(Goroutine *, void *) = nullptr;
  void *park_arg = nullptr;
  std::atomic<ParkState> park_state{ParkState::None};
  // Stable stack coordinate of stack.hi, fixed for its life (stack.cpp).
  uintptr_t stable_hi = 0;
  Stack home;              // while parked compacted: its own stack, kept for it
  void **locals = nullptr; // goroutine-local storage (local.cpp)
  size_t num_locals = 0;
  SideStack side; // frames of its locals whose address escapes
  Sudog sudog;
  // A small closure lives here rather than on the heap
  // (goroutine_closure_alloc). The word before any closure names its
  // goroutine.
  struct alignas(16) ClosureSlot {
    uint64_t unused = 0;
    Goroutine *owner = nullptr;
    unsigned char buf[48];
  } closure_slot;
  unsigned char *closure_buf() { return closure_slot.buf; }
  Goroutine() { closure_slot.owner = this; }
};
static_assert(offsetof(Goroutine::ClosureSlot, buf) ==
                  offsetof(Goroutine::ClosureSlot, owner) + sizeof(void *),
              "goroutine_closure_alloc finds the goroutine before a closure");

// Why a goroutine switched out, to g0 or directly to another goroutine
// (ThreadState::switch_reason).
enum class SwitchReason : uint8_t { Yield, Park, Preempt, Exit, Requeue };

// Per-thread state, reached from assembly through %fs. One per OS thread;
// zero (no goroutine) on threads that never ran go::run.
struct ThreadState {
  uintptr_t g0_sp = 0;
  uintptr_t morestack_sp = 0;
  Goroutine *g = nullptr;
  // What the limit slot holds while g's code runs (g->stackguard, or
  // kStackPoison). Handlers of signals clear the slot while they run;
  // longjmp back into the goroutine restores it from here.
  uintptr_t stack_limit = 0;
  // Torture mode (stackmove=N): traps left before the next move. morestack.S
  // counts down on its fast path and leaves the move to the slow path.
  uint64_t torture_countdown = 0;
  M *m = nullptr; // the scheduler's thread record (scheduler.h)
  SwitchReason switch_reason = SwitchReason::Yield;
};

// What morestack.S stores on g0's stack (<goroutine/abi.h>). Pointers into
// the moving stack in any of its registers are relocated when the stack moves.
using RegisterFrame = goroutine_morestack_frame;

// The offsets the assembly uses into ThreadState, Goroutine and RegisterFrame
// are generated from these definitions (arch/x86_64/asm_offsets.cpp).

// A mutex that spins briefly before sleeping (glibc's adaptive mutex), for
// the runtime's short critical sections shared between threads (scheduler,
// stack arena): a futex sleep and wakeup costs far more than the wait.
class AdaptiveMutex {
public:
  void lock() { pthread_mutex_lock(&m_); }
  bool try_lock() { return pthread_mutex_trylock(&m_) == 0; }
  void unlock() { pthread_mutex_unlock(&m_); }

private:
  pthread_mutex_t m_ = PTHREAD_ADAPTIVE_MUTEX_INITIALIZER_NP;
};

// Debug and tuning settings from GOROUTINE_DEBUG (debug.cpp).
struct Settings {
  uint64_t stackmove = 0;   // move the stack at every Nth trap (0: off)
  bool guardpages = false;  // PROT_NONE page below every stack
  bool stacktrace = false;  // log every growth and shrink
  bool stackpoison = false; // freed stacks stay inaccessible for a while
  size_t stackmin = 2048;   // initial stack size
  size_t maxstack = size_t{1} << 30;
  // With at least this many goroutines, a parking goroutine that uses
  // little stack is moved to a 512-byte stack until it runs again (0: never).
  uint64_t compactpark = 10000;
  int64_t preempt_ns = 10'000'000; // sysmon preempts after this long
  int maxprocs = 0;                // GOROUTINE_MAXPROCS (0: the CPUs)
};
extern Settings settings;

// Counters behind go::read_mem_stats().
struct Counters {
  std::atomic<uint64_t> stack_inuse{0};
  std::atomic<uint64_t> stack_sys{0};
  std::atomic<uint64_t> num_stack_grow{0};
  std::atomic<uint64_t> num_stack_shrink{0};
  std::atomic<uint64_t> num_stack_move{0};
  std::atomic<uint64_t> stack_bytes_copied{0};
  std::atomic<uint64_t> num_goroutine{0};
  std::atomic<uint64_t> side_stack_sys{0};
  // Stacks handed out, by size class (512 << k bytes; stack_alloc.cpp).
  std::atomic<uint64_t> stacks_by_size[GOROUTINE_NUM_STACK_SIZES] = {};
};
extern Counters counters;

// Reads GOROUTINE_DEBUG once; later calls return at once.
void init_settings();
// The value of setting `name` (reported as prefix + name=value): decimal
// digits only, from min to max; anything else is a fatal error naming it.
uint64_t parse_setting(const char *prefix, const char *name, const char *value,
                       uint64_t min, uint64_t max);
// Makes uncaught exceptions in goroutines print like Go panics (panic.cpp).
void panic_init();

// The split-stack limit slot of the calling thread.
inline void set_stack_limit(uintptr_t limit) {
  asm volatile("movq %0, %%fs:%c1" ::"r"(limit),
               "i"(GOROUTINE_TCB_STACK_LIMIT));
}
// Sets the limit for the goroutine code about to run on this thread.
inline void enter_stack_limit(ThreadState &ts, uintptr_t limit) {
  ts.stack_limit = limit;
  set_stack_limit(limit);
}
inline uintptr_t stack_limit() {
  uintptr_t v;
  asm volatile("movq %%fs:%c1, %0" : "=r"(v) : "i"(GOROUTINE_TCB_STACK_LIMIT));
  return v;
}

// Prints "fatal error: <msg>" like Go's runtime, then the goroutine's stack
// trace, and exits with status 2.
[[noreturn]] void fatal(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));
// Prints "panic: <msg>" like Go's runtime, then the goroutine's stack trace,
// and exits with status 2.
[[noreturn]] void panic_message(const char *msg);
// Prints "runtime: <msg>" to stderr without stopping.
void print(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

} // namespace go::runtime

// context.S.
extern "C" {
// Saves the callee-saved context on the current stack, stores %rsp in
// *save_sp and resumes the context saved at new_sp.
void goroutine_switch(uintptr_t *save_sp, uintptr_t new_sp);
// Runs fn(arg) on the thread's system stack (Go's systemstack).
void goroutine_systemstack(void (*fn)(void *), void *arg);
}

namespace go::runtime {
// Runs f() on the thread's system stack when called on a goroutine's stack
// (Go's systemstack); otherwise just calls it.
template <class F> void on_system_stack(F &&f) {
  goroutine_systemstack(
      [](void *p) { (*static_cast<std::remove_reference_t<F> *>(p))(); },
      static_cast<void *>(&f));
}
} // namespace go::runtime

// The per-thread block. initial-exec TLS: the assembly reaches it with one
// %fs-relative access, and it never needs __tls_get_addr (which could run on a
// goroutine stack).
extern "C" constinit thread_local go::runtime::ThreadState
    goroutine_thread_state __attribute__((tls_model("initial-exec")));

namespace go::runtime {
// The calling thread's ThreadState, read afresh. Code on a goroutine's stack
// must use this after anything that can switch goroutines: the goroutine may
// resume on another thread, and the compiler treats the address of a
// thread_local as constant within a function (it would reuse the old
// thread's).
inline ThreadState &this_thread() {
  ThreadState *p;
  asm volatile("movq %%fs:0, %0\n\t"
               "addq goroutine_thread_state@gottpoff(%%rip), %0"
               : "=r"(p));
  return *p;
}
} // namespace go::runtime

#endif // GOROUTINE_RUNTIME_H
