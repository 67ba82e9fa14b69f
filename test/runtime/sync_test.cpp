// go::mutex, go::rwmutex, go::cond, go::wait_group and go::once between
// goroutines that yield and sleep inside their critical sections.
#include <catch2/catch.hpp>

#include "test_helpers.h"

#include <atomic>
#include <deque>
#include <mutex>
#include <shared_mutex>
#include <vector>

namespace {

using namespace std::chrono_literals;

// Raises `max` to at least `v`.
void raise_to(std::atomic<int> &max, int v) {
  int m = max.load();
  while (v > m && !max.compare_exchange_weak(m, v)) {
  }
}

TEST_CASE("go::mutex makes a yielding read-modify-write atomic", "[sync]") {
  // Each increment reads, yields (other goroutines run, on this P or the
  // other) and writes back: without mutual exclusion, updates get lost.
  constexpr int kGoroutines = 8, kIncrements = 300;
  struct Result {
    int counter = 0, max_inside = 0;
    bool ended = false;
  };
  const Result r = test::in_goroutine([] {
    Result res;
    go::mutex mu;
    int counter = 0;
    std::atomic<int> inside{0}, max_inside{0};
    go::wait_group wg;
    wg.add(kGoroutines);
    for (int g = 0; g < kGoroutines; ++g)
      go::spawn([&] {
        for (int i = 0; i < kIncrements; ++i) {
          std::lock_guard<go::mutex> lock(mu);
          raise_to(max_inside, ++inside);
          const int v = counter;
          go::yield();
          counter = v + 1;
          --inside;
        }
        wg.done();
      });
    wg.wait();
    res.counter = counter;
    res.max_inside = max_inside.load();
    res.ended = test::all_others_ended();
    return res;
  });
  CHECK(r.counter == kGoroutines * kIncrements);
  CHECK(r.max_inside == 1);
  CHECK(r.ended);
}

TEST_CASE("go::mutex::try_lock fails while it is held; lock waits for "
          "unlock",
          "[sync]") {
  struct Result {
    bool own_try = true, other_try = true, acquired_early = true;
    bool acquired = false, try_after = false;
    bool ended = false;
  };
  const Result r = test::in_goroutine([] {
    Result res;
    go::mutex mu;
    mu.lock();
    res.own_try = mu.try_lock(); // not recursive
    std::atomic<bool> tried{false}, acquired{false};
    std::atomic<bool> other_try{true};
    go::wait_group wg;
    wg.add(1);
    go::spawn([&] {
      other_try = mu.try_lock();
      tried = true;
      mu.lock();
      acquired = true;
      mu.unlock();
      wg.done();
    });
    test::wait_until([&] { return tried.load(); });
    go::sleep_for(20ms);
    res.acquired_early = acquired.load();
    mu.unlock();
    wg.wait();
    res.other_try = other_try.load();
    res.acquired = acquired.load();
    res.try_after = mu.try_lock();
    if (res.try_after)
      mu.unlock();
    res.ended = test::all_others_ended();
    return res;
  });
  CHECK_FALSE(r.own_try);
  CHECK_FALSE(r.other_try);
  CHECK_FALSE(r.acquired_early);
  CHECK(r.acquired);
  CHECK(r.try_after);
  CHECK(r.ended);
}

TEST_CASE("go::rwmutex lets several readers hold it at once", "[sync]") {
  // Every reader takes the read lock and keeps it until all have arrived
  // and main has looked: they can all arrive only if they hold it together.
  constexpr int kReaders = 5;
  struct Result {
    bool all_arrived = false;
    bool writer_try = true, reader_try = false;
    bool ended = false;
  };
  const Result r = test::in_goroutine([] {
    Result res;
    go::rwmutex rw;
    std::atomic<int> arrived{0};
    std::atomic<bool> release{false};
    go::wait_group wg;
    wg.add(kReaders);
    for (int i = 0; i < kReaders; ++i)
      go::spawn([&] {
        std::shared_lock<go::rwmutex> lock(rw);
        ++arrived;
        test::wait_until([&] { return release.load(); });
        wg.done();
      });
    res.all_arrived = test::wait_until([&] { return arrived == kReaders; });
    res.writer_try = rw.try_lock();
    if (res.writer_try)
      rw.unlock();
    res.reader_try = rw.try_lock_shared();
    if (res.reader_try)
      rw.unlock_shared();
    release = true;
    wg.wait();
    res.ended = test::all_others_ended();
    return res;
  });
  CHECK(r.all_arrived);
  CHECK_FALSE(r.writer_try);
  CHECK(r.reader_try);
  CHECK(r.ended);
}

TEST_CASE("a go::rwmutex writer excludes readers and other writers", "[sync]") {
  constexpr int kWriters = 3, kReaders = 5, kRounds = 150;
  struct Result {
    int violations = 0, torn = 0, writes = 0;
    bool writer_waited = false, writer_got_it = false;
    bool ended = false;
  };
  const Result r = test::in_goroutine([] {
    Result res;
    go::rwmutex rw;
    std::atomic<int> readers_in{0}, writers_in{0}, violations{0}, torn{0};
    int first = 0, second = 0; // a writer sets both, with a yield between
    go::wait_group wg;
    wg.add(kWriters + kReaders);
    for (int w = 0; w < kWriters; ++w)
      go::spawn([&] {
        for (int i = 0; i < kRounds; ++i) {
          std::lock_guard<go::rwmutex> lock(rw);
          if (++writers_in != 1 || readers_in != 0)
            ++violations;
          ++first;
          go::yield();
          ++second;
          --writers_in;
        }
        wg.done();
      });
    for (int g = 0; g < kReaders; ++g)
      go::spawn([&] {
        for (int i = 0; i < kRounds; ++i) {
          std::shared_lock<go::rwmutex> lock(rw);
          ++readers_in;
          if (writers_in != 0)
            ++violations;
          const int a = first;
          go::yield();
          if (a != first || first != second)
            ++torn;
          --readers_in;
        }
        wg.done();
      });
    wg.wait();
    res.violations = violations.load();
    res.torn = torn.load();
    res.writes = first;
    // A writer waits for a reader that holds the lock.
    rw.lock_shared();
    std::atomic<bool> trying{false}, got{false};
    wg.add(1);
    go::spawn([&] {
      trying = true;
      std::lock_guard<go::rwmutex> lock(rw);
      got = true;
      wg.done();
    });
    test::wait_until([&] { return trying.load(); });
    go::sleep_for(20ms);
    res.writer_waited = !got.load();
    rw.unlock_shared();
    wg.wait();
    res.writer_got_it = got.load();
    res.ended = test::all_others_ended();
    return res;
  });
  CHECK(r.violations == 0);
  CHECK(r.torn == 0);
  CHECK(r.writes == kWriters * kRounds);
  CHECK(r.writer_waited);
  CHECK(r.writer_got_it);
  CHECK(r.ended);
}

TEST_CASE("go::cond: signal wakes one waiter, broadcast wakes all", "[sync]") {
  // A waiter counts itself under the mutex before waiting, and wait()
  // releases the mutex atomically: once main holds the mutex and sees all
  // of them counted, all are parked in wait().
  constexpr int kWaiters = 4;
  struct Result {
    bool all_waiting = false;
    int finished_after_signal = 0, wakeups_after_signal = 0;
    int finished_after_broadcast = 0;
    bool ended = false;
  };
  const Result r = test::in_goroutine([] {
    Result res;
    go::mutex mu;
    go::cond cv;
    int waiting = 0, tokens = 0, wakeups = 0, finished = 0;
    bool open = false;
    go::wait_group wg;
    wg.add(kWaiters);
    for (int i = 0; i < kWaiters; ++i)
      go::spawn([&] {
        std::unique_lock<go::mutex> lock(mu);
        ++waiting;
        while (tokens == 0 && !open) {
          cv.wait(lock);
          ++wakeups;
        }
        if (!open)
          --tokens;
        ++finished;
        wg.done();
      });
    auto locked = [&](auto f) {
      std::lock_guard<go::mutex> lock(mu);
      return f();
    };
    res.all_waiting = test::wait_until(
        [&] { return locked([&] { return waiting == kWaiters; }); });
    // One token and one signal: exactly one waiter wakes and takes it.
    locked([&] {
      tokens = 1;
      cv.signal();
      return 0;
    });
    test::wait_until([&] { return locked([&] { return finished == 1; }); });
    go::sleep_for(10ms); // a second wakeup would show by now
    locked([&] {
      res.finished_after_signal = finished;
      res.wakeups_after_signal = wakeups;
      open = true;
      cv.broadcast();
      return 0;
    });
    wg.wait();
    res.finished_after_broadcast = finished;
    res.ended = test::all_others_ended();
    return res;
  });
  CHECK(r.all_waiting);
  CHECK(r.finished_after_signal == 1);
  CHECK(r.wakeups_after_signal == 1);
  CHECK(r.finished_after_broadcast == kWaiters);
  CHECK(r.ended);
}

TEST_CASE("go::cond with predicates makes a bounded queue", "[sync]") {
  constexpr int kItems = 3000, kConsumers = 3;
  constexpr size_t kBound = 4;
  struct Result {
    long sum = 0;
    int count = 0;
    size_t max_size = 0;
    bool ended = false;
  };
  const Result r = test::in_goroutine([] {
    Result res;
    go::mutex mu;
    go::cond not_full, not_empty;
    std::deque<int> queue;
    bool done = false;
    go::wait_group wg;
    wg.add(1 + kConsumers);
    go::spawn([&] {
      for (int i = 1; i <= kItems; ++i) {
        std::unique_lock<go::mutex> lock(mu);
        not_full.wait(lock, [&] { return queue.size() < kBound; });
        queue.push_back(i);
        res.max_size = std::max(res.max_size, queue.size());
        not_empty.signal();
      }
      std::lock_guard<go::mutex> lock(mu);
      done = true;
      not_empty.broadcast();
      wg.done();
    });
    for (int c = 0; c < kConsumers; ++c)
      go::spawn([&] {
        for (;;) {
          std::unique_lock<go::mutex> lock(mu);
          not_empty.wait(lock, [&] { return !queue.empty() || done; });
          if (queue.empty())
            break;
          res.sum += queue.front();
          ++res.count;
          queue.pop_front();
          not_full.signal();
        }
        wg.done();
      });
    wg.wait();
    res.ended = test::all_others_ended();
    return res;
  });
  CHECK(r.count == kItems);
  CHECK(r.sum == long{kItems} * (kItems + 1) / 2);
  CHECK(r.max_size <= kBound);
  CHECK(r.ended);
}

TEST_CASE("a go::wait_group can be reused and waited on by many", "[sync]") {
  constexpr int kRounds = 5, kPerRound = 200, kWaiters = 4;
  struct Result {
    std::vector<int> after_round;
    bool released_early = true;
    int released = 0;
    bool ended = false;
  };
  const Result r = test::in_goroutine([] {
    Result res;
    go::wait_group wg;
    wg.wait(); // zero: returns at once
    std::atomic<int> counter{0};
    for (int round = 0; round < kRounds; ++round) {
      wg.add(kPerRound);
      for (int i = 0; i < kPerRound; ++i)
        go::spawn([&] {
          go::yield();
          ++counter;
          wg.done();
        });
      wg.wait();
      res.after_round.push_back(counter.load());
    }
    // Several goroutines wait on one group; one done() releases them all.
    go::wait_group gate, waiters;
    gate.add(1);
    std::atomic<int> released{0}, started{0};
    waiters.add(kWaiters);
    for (int i = 0; i < kWaiters; ++i)
      go::spawn([&] {
        ++started;
        gate.wait();
        ++released;
        waiters.done();
      });
    test::wait_until([&] { return started == kWaiters; });
    go::sleep_for(20ms);
    res.released_early = released != 0;
    gate.done();
    waiters.wait();
    res.released = released.load();
    res.ended = test::all_others_ended();
    return res;
  });
  std::vector<int> expected;
  for (int round = 1; round <= kRounds; ++round)
    expected.push_back(round * kPerRound);
  CHECK(r.after_round == expected);
  CHECK_FALSE(r.released_early);
  CHECK(r.released == kWaiters);
  CHECK(r.ended);
}

TEST_CASE("go::once runs its function once, and every caller waits for it",
          "[sync]") {
  constexpr int kCallers = 50;
  struct Result {
    int calls = 0, saw_unset = 0;
    bool ended = false;
  };
  const Result r = test::in_goroutine([] {
    Result res;
    go::once once;
    std::atomic<int> calls{0}, saw_unset{0}, value{0};
    go::wait_group wg;
    wg.add(kCallers);
    for (int i = 0; i < kCallers; ++i)
      go::spawn([&] {
        once.call([&] {
          ++calls;
          go::sleep_for(10ms); // the others arrive meanwhile
          value = 42;
        });
        saw_unset += value != 42;
        wg.done();
      });
    wg.wait();
    once.call([&] { ++calls; });
    res.calls = calls.load();
    res.saw_unset = saw_unset.load();
    res.ended = test::all_others_ended();
    return res;
  });
  CHECK(r.calls == 1);
  CHECK(r.saw_unset == 0);
  CHECK(r.ended);
}

} // namespace
