// lock_futex.cpp: the runtime's own locks and sleeps (Go's lock_futex.go).
//
// SpinLock guards the short critical sections of channels, wait queues,
// timers and the list of goroutines: a word, test-and-test-and-set, no
// syscall on the way in or out, so it works on any stack and may be held
// across a park (released by the next code on the thread, proc.cpp). Note is
// a one-shot wakeup for a sleeping M on a futex (Go's note).
//
// Which lock may be taken under which: lockrank.h.
#include <ctime>
#include <linux/futex.h>
#include <sched.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "scheduler.h"

namespace go::runtime {
namespace {

// Sleeps while *addr == val, for at most ns (forever if negative).
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

} // namespace

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

} // namespace go::runtime
