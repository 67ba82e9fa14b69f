// sync.hpp: Go's sync package for goroutines.
//
// These park the goroutine, never the OS thread: a std::mutex held across a
// blocking point stops every goroutine queued on that thread's P, which is
// the pitfall these types exist for (docs/guide.md, "Sync").
//
//   go::mutex mu;          std::lock_guard<go::mutex> lock(mu);
//   go::rwmutex rw;        std::shared_lock<go::rwmutex> read(rw);
//   go::cond cv;           cv.wait(lock);  cv.signal();  cv.broadcast();
//   go::wait_group wg;     wg.add(1); ... wg.done(); wg.wait();
//   go::once once;         once.call([] { init(); });
#ifndef GOROUTINE_SYNC_HPP
#define GOROUTINE_SYNC_HPP

#include <atomic>
#include <cstdint>
#include <mutex>
#include <utility>

#include <goroutine/goroutine.h>

namespace go {

// Go's sync.Mutex. Lockable, so std::lock_guard and std::unique_lock work.
// Unlocking an unlocked mutex is a fatal error.
class mutex {
public:
  mutex() = default;
  mutex(const mutex &) = delete;
  mutex &operator=(const mutex &) = delete;

  void lock() { goroutine_mutex_lock(&m_); }
  bool try_lock() { return goroutine_mutex_trylock(&m_) != 0; }
  void unlock() { goroutine_mutex_unlock(&m_); }

  goroutine_mutex *native_handle() { return &m_; }

private:
  goroutine_mutex m_{};
};

// Go's sync.RWMutex: many readers or one writer; a waiting writer holds off
// new readers. SharedLockable, so std::shared_lock works.
class rwmutex {
public:
  rwmutex() = default;
  rwmutex(const rwmutex &) = delete;
  rwmutex &operator=(const rwmutex &) = delete;

  void lock() { goroutine_rwmutex_lock(&m_); }
  bool try_lock() { return goroutine_rwmutex_trylock(&m_) != 0; }
  void unlock() { goroutine_rwmutex_unlock(&m_); }
  void lock_shared() { goroutine_rwmutex_rlock(&m_); }
  bool try_lock_shared() { return goroutine_rwmutex_tryrlock(&m_) != 0; }
  void unlock_shared() { goroutine_rwmutex_runlock(&m_); }

private:
  goroutine_rwmutex m_{};
};

// Go's sync.Cond over a go::mutex.
class cond {
public:
  cond() = default;
  cond(const cond &) = delete;
  cond &operator=(const cond &) = delete;

  // Atomically unlocks the mutex and waits; locks it again before returning.
  void wait(std::unique_lock<mutex> &lock) {
    goroutine_cond_wait(&c_, lock.mutex()->native_handle());
  }
  template <class Pred> void wait(std::unique_lock<mutex> &lock, Pred pred) {
    while (!pred())
      wait(lock);
  }
  // Wakes one waiter (Go's Signal) / all of them (Go's Broadcast).
  void signal() { goroutine_cond_signal(&c_); }
  void broadcast() { goroutine_cond_broadcast(&c_); }
  void notify_one() { signal(); }
  void notify_all() { broadcast(); }

private:
  goroutine_cond c_{};
};

// Go's sync.WaitGroup. A negative counter is a fatal error.
class wait_group {
public:
  wait_group() = default;
  wait_group(const wait_group &) = delete;
  wait_group &operator=(const wait_group &) = delete;

  void add(int64_t delta) { goroutine_waitgroup_add(&wg_, delta); }
  void done() { goroutine_waitgroup_add(&wg_, -1); }
  // Blocks until the counter is zero.
  void wait() { goroutine_waitgroup_wait(&wg_); }

private:
  goroutine_waitgroup wg_{};
};

// Go's sync.Once: call(f) runs f exactly once; concurrent callers wait for it
// to finish.
class once {
public:
  template <class F> void call(F &&f) {
    if (done_.load(std::memory_order_acquire))
      return;
    std::lock_guard<mutex> lock(mu_);
    if (!done_.load(std::memory_order_relaxed)) {
      std::forward<F>(f)();
      done_.store(true, std::memory_order_release);
    }
  }

private:
  std::atomic<bool> done_{false};
  mutex mu_;
};

} // namespace go

#endif // GOROUTINE_SYNC_HPP
