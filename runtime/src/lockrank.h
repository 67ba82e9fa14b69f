// The runtime's lock order (Go's lockrank.go), in one place.
//
// Every lock of the runtime, outermost first. A thread may take a lock while
// it holds only locks listed above it; locks on the same line are never held
// together, except where noted.
//
//   0. one-time initialization    the once flags of init_runtime (proc.cpp),
//                                  init_settings (debug.cpp) and libunwind's
//                                  loading (trace.cpp): held while they run,
//                                  which takes any lock below.
//   1. stop-the-world token        Sched::stw_held (stw_try_lock). Held
//                                  while stopping the world and printing
//                                  every goroutine (preempt.cpp, api.cpp).
//   2. wait-queue locks            Chan::lock (chan.cpp) and
//                                  goroutine_waitq::lock (sync.cpp), spin
//                                  locks. Several channel locks are taken
//                                  in ascending address order (select). A
//                                  cond's lock is held while it unlocks its
//                                  mutex, which takes that mutex's lock.
//   3. Sched::lock                 the scheduler (proc.cpp).
//   4. allgs_lock                  the list of goroutines (proc.cpp).
//   5. the symbolizer's mutex      symbolize.cpp (traces, under 3 and 4
//                                  when the deadlock report prints).
//   6. P::timers_lock              a P's timer heap (time.cpp).
//      stack arena locks           Arena::mu_, the quarantine's and the
//                                  parked homes' (stack_alloc.cpp).
//      signal handler table        signals.cpp.
// Below all of them: glibc's malloc and the kernel (mmap, futex).
//
// What the rules are for:
//  - A wait-queue lock can be held across a context switch: a parking
//    goroutine keeps it until it is switched out, and whoever runs next on
//    its thread releases it at once (park_after, proc.cpp). Under it the
//    runtime only moves values (a T's move constructor), links sudogs and
//    calls malloc; it readies goroutines after releasing it (ready takes
//    Sched::lock), except in the cond's case above.
//  - Work that takes a lock of another subsystem (the stack arena, mmap,
//    the unwinder) never runs under a wait-queue lock. A parking goroutine's
//    stack is compacted or shrunk by g0 after the lock is released (Go's
//    parkingOnChan): wakers that find it meanwhile leave it for g0 to queue
//    (Goroutine::park_state), and the copy of a stack that channel waiters
//    point into, with their relocation, is done holding those channels'
//    locks and nothing else (stack.cpp).
//  - Code that may run in a signal handler or on the way to a crash (fault
//    reports, the stack poison check) only try-locks.
#ifndef GOROUTINE_LOCKRANK_H
#define GOROUTINE_LOCKRANK_H
#endif // GOROUTINE_LOCKRANK_H
