// The scheduler: go::spawn's forms, ids, goroutine counts, a million
// goroutines, pipelines, several Ps, spawning from other threads. [sched]
// runs with GOROUTINE_MAXPROCS=2; [sched1p] (preemption, yield, blocking
// calls on a single P) with GOROUTINE_MAXPROCS=1.
#include <catch2/catch.hpp>

#include "test_helpers.h"

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <unistd.h>
#include <vector>

namespace {

using namespace std::chrono_literals;

// One step of CPU-bound work. It has a frame, so its prologue (the point at
// which the runtime can preempt a goroutine) runs at every call.
__attribute__((noinline)) uint64_t spin_step(uint64_t x) {
  volatile uint64_t cell[4];
  cell[x & 3] = x;
  return cell[x & 3] * 6364136223846793005ULL + 1442695040888963407ULL;
}

void add_to(std::atomic<int> *sum, int n, go::wait_group *wg) {
  sum->fetch_add(n);
  wg->done();
}

// Counts its copies: go::spawn copies an lvalue argument once, into the
// goroutine, and moves everything else.
struct CopyCounted {
  static inline std::atomic<int> copies{0};
  int value;
  explicit CopyCounted(int v) : value(v) {}
  CopyCounted(const CopyCounted &o) : value(o.value) { ++copies; }
  CopyCounted(CopyCounted &&o) noexcept : value(o.value) { o.value = -1; }
};

// A move-only callable that can only be called as an rvalue, once.
struct OneShot {
  std::unique_ptr<int> payload;
  std::atomic<int> *out;
  go::wait_group *wg;
  void operator()() && {
    out->store(*payload);
    wg->done();
  }
};

// A move-only argument that counts its live instances.
struct MoveOnly {
  static inline std::atomic<int> live{0};
  int value;
  explicit MoveOnly(int v) : value(v) { ++live; }
  MoveOnly(MoveOnly &&o) noexcept : value(o.value) { ++live; }
  MoveOnly(const MoveOnly &) = delete;
  ~MoveOnly() { --live; }
};

TEST_CASE("go::spawn takes lambdas, function pointers, move-only arguments "
          "and std::ref",
          "[sched]") {
  struct Result {
    int sum = 0;
    int unique_value = 0;
    int move_only_value = 0;
    int by_ref = 0;
    std::string by_value;
    bool args_destroyed = false;
    bool ended = false;
  };
  MoveOnly::live = 0;
  const Result r = test::in_goroutine([] {
    Result res;
    go::wait_group wg;
    std::atomic<int> sum{0};
    std::atomic<int> unique_value{0}, move_only_value{0};
    wg.add(7);
    int captured = 1;
    go::spawn([captured, &sum, &wg] {
      sum.fetch_add(captured);
      wg.done();
    });
    go::spawn(&add_to, &sum, 10, &wg);
    go::spawn(add_to, &sum, 100, &wg);
    // Arguments are moved into the goroutine, then into the call.
    go::spawn(
        [&](std::unique_ptr<int> p) {
          unique_value = *p;
          wg.done();
        },
        std::make_unique<int>(42));
    go::spawn(
        [&](MoveOnly m) {
          move_only_value = m.value;
          wg.done();
        },
        MoveOnly(17));
    // std::ref passes by reference; without it the argument is a copy (and
    // f cannot take it as a non-const lvalue reference, as with std::thread).
    int by_ref = 0;
    go::spawn(
        [](int &x, go::wait_group &w) {
          x = 7;
          w.done();
        },
        std::ref(by_ref), std::ref(wg));
    std::string original = "unchanged";
    std::string seen;
    go::spawn(
        [&seen, &wg](std::string copy) {
          copy += " (copy)";
          seen = copy;
          wg.done();
        },
        original);
    wg.wait();
    res.sum = sum.load();
    res.unique_value = unique_value.load();
    res.move_only_value = move_only_value.load();
    res.by_ref = by_ref;
    res.by_value = original + " / " + seen;
    // The goroutines' copies of their arguments die with them.
    res.args_destroyed = test::wait_until([] { return MoveOnly::live == 0; });
    res.ended = test::all_others_ended();
    return res;
  });
  CHECK(r.sum == 111);
  CHECK(r.unique_value == 42);
  CHECK(r.move_only_value == 17);
  CHECK(r.by_ref == 7);
  CHECK(r.by_value == "unchanged / unchanged (copy)");
  CHECK(r.args_destroyed);
  CHECK(r.ended);
}

TEST_CASE("go::spawn forwards like std::thread: move-only callables, "
          "move-only arguments, rvalues into the call",
          "[sched]") {
  struct Result {
    int lambda = 0, with_arg = 0, one_shot = 0, rvalue_ref = 0;
    int from_lvalue = 0, from_rvalue = 0, copies = -1;
    int lvalue_after = 0;
  };
  CopyCounted::copies = 0;
  const Result r = test::in_goroutine([] {
    Result res;
    std::atomic<int> lambda{0}, with_arg{0}, one_shot{0}, rvalue_ref{0};
    std::atomic<int> from_lvalue{0}, from_rvalue{0};
    go::wait_group wg;
    wg.add(6);
    // A move-only callable without arguments.
    go::spawn([p = std::make_unique<int>(1), &lambda, &wg] {
      lambda = *p;
      wg.done();
    });
    // A move-only callable with a move-only argument taken by value: the
    // example std::thread accepts.
    go::spawn(
        [q = std::make_unique<int>(2), &with_arg, &wg](std::unique_ptr<int> p) {
          with_arg = *q + *p;
          wg.done();
        },
        std::make_unique<int>(40));
    // An rvalue-qualified callable is invoked as an rvalue.
    go::spawn(OneShot{std::make_unique<int>(3), &one_shot, &wg});
    // An rvalue-reference parameter binds to the goroutine's own copy.
    go::spawn(
        [&](std::unique_ptr<int> &&p) {
          rvalue_ref = *p;
          wg.done();
        },
        std::make_unique<int>(4));
    // An lvalue argument is copied once, into the goroutine, then moved into
    // the call; an rvalue is never copied.
    CopyCounted lvalue(5);
    go::spawn(
        [&](CopyCounted c) {
          from_lvalue = c.value;
          wg.done();
        },
        lvalue);
    go::spawn(
        [&](CopyCounted c) {
          from_rvalue = c.value;
          wg.done();
        },
        CopyCounted(6));
    wg.wait();
    res.lambda = lambda;
    res.with_arg = with_arg;
    res.one_shot = one_shot;
    res.rvalue_ref = rvalue_ref;
    res.from_lvalue = from_lvalue;
    res.from_rvalue = from_rvalue;
    res.copies = CopyCounted::copies;
    res.lvalue_after = lvalue.value;
    return res;
  });
  CHECK(r.lambda == 1);
  CHECK(r.with_arg == 42);
  CHECK(r.one_shot == 3);
  CHECK(r.rvalue_ref == 4);
  CHECK(r.from_lvalue == 5);
  CHECK(r.from_rvalue == 6);
  CHECK(r.copies == 1);
  CHECK(r.lvalue_after == 5); // the caller's lvalue is left as it was
}

struct IdArg {
  uint64_t *seen;
  go::wait_group *wg;
};

void record_id(void *p) {
  std::unique_ptr<IdArg> arg(static_cast<IdArg *>(p));
  *arg->seen = go::goroutine_id();
  arg->wg->done();
}

TEST_CASE("goroutine ids are nonzero, distinct, and what goroutine_spawn "
          "returns",
          "[sched]") {
  constexpr int kN = 200;
  struct Result {
    uint64_t main_id = 0;
    std::vector<uint64_t> returned, seen;
    bool ended = false;
  };
  uint64_t outside_thread = 1;
  std::thread([&] { outside_thread = go::goroutine_id(); }).join();
  const uint64_t outside_before = go::goroutine_id();
  const Result r = test::in_goroutine([] {
    Result res;
    res.main_id = go::goroutine_id();
    res.seen.assign(kN, 0);
    go::wait_group wg;
    wg.add(kN);
    for (int i = 0; i < kN; ++i)
      res.returned.push_back(goroutine_spawn(
          &record_id, new IdArg{&res.seen[static_cast<size_t>(i)], &wg}));
    wg.wait();
    res.ended = test::all_others_ended();
    return res;
  });
  CHECK(outside_before == 0);
  CHECK(outside_thread == 0);
  CHECK(go::goroutine_id() == 0);
  CHECK(r.main_id != 0);
  REQUIRE(r.returned.size() == kN);
  std::set<uint64_t> distinct;
  int mismatches = 0, zero = 0;
  for (size_t i = 0; i < kN; ++i) {
    zero += r.seen[i] == 0;
    mismatches += r.seen[i] != r.returned[i];
    distinct.insert(r.seen[i]);
  }
  distinct.insert(r.main_id);
  CHECK(zero == 0);
  CHECK(mismatches == 0);
  CHECK(distinct.size() == kN + 1); // all different, and none is main's
  CHECK(r.ended);
}

TEST_CASE("go::num_goroutine rises with spawns and falls as they end",
          "[sched]") {
  constexpr uint64_t kN = 300;
  struct Result {
    uint64_t base = 0, during = 0, after = 0, stats_during = 0;
    bool fell = false;
  };
  const Result r = test::in_goroutine([] {
    Result res;
    test::all_others_ended(); // goroutines of earlier tests may still be ending
    res.base = go::num_goroutine();
    go::chan<int> release;
    go::wait_group wg;
    wg.add(static_cast<int64_t>(kN));
    for (uint64_t i = 0; i < kN; ++i)
      go::spawn([release, &wg] {
        release.recv(); // blocked until closed: still exists
        wg.done();
      });
    res.during = go::num_goroutine();
    res.stats_during = go::read_mem_stats().num_goroutine;
    release.close();
    wg.wait();
    res.fell =
        test::wait_until([&] { return go::num_goroutine() == res.base; });
    res.after = go::num_goroutine();
    return res;
  });
  CHECK(r.base == 1); // the main goroutine alone
  CHECK(r.during == r.base + kN);
  CHECK(r.stats_during == r.base + kN);
  CHECK(r.fell);
  CHECK(r.after == r.base);
}

TEST_CASE("a million goroutines run and are joined with a wait_group",
          "[sched]") {
  // In batches: with guardpages=1 every live stack is its own mapping, and
  // Linux allows 65530 mappings per process.
  constexpr int kTotal = 1'000'000;
  constexpr int kBatch = 10'000;
  struct Result {
    int counter = 0;
    int short_batches = 0; // wait() returned before its batch had run
    bool ended = false;
  };
  const Result r = test::in_goroutine([] {
    Result res;
    std::atomic<int> counter{0};
    go::wait_group wg; // reused for every batch
    for (int b = 0; b < kTotal / kBatch; ++b) {
      wg.add(kBatch);
      for (int i = 0; i < kBatch; ++i)
        go::spawn([&counter, &wg] {
          counter.fetch_add(1, std::memory_order_relaxed);
          wg.done();
        });
      wg.wait();
      res.short_batches += counter.load() != (b + 1) * kBatch;
    }
    res.counter = counter.load();
    res.ended = test::all_others_ended();
    return res;
  });
  CHECK(r.counter == kTotal);
  CHECK(r.short_batches == 0);
  CHECK(r.ended);
}

TEST_CASE("a fan-out/fan-in pipeline over channels delivers every value",
          "[sched]") {
  constexpr int64_t kN = 20'000;
  constexpr int kWorkers = 8;
  struct Result {
    int64_t sum = 0, count = 0;
    std::set<uint64_t> worker_ids;
    bool ended = false;
  };
  const Result r = test::in_goroutine([] {
    Result res;
    go::chan<int64_t> jobs(16), results(16);
    go::chan<uint64_t> ids(kWorkers);
    go::spawn([jobs] {
      for (int64_t i = 1; i <= kN; ++i)
        jobs.send(i);
      jobs.close();
    });
    go::wait_group workers;
    workers.add(kWorkers);
    for (int w = 0; w < kWorkers; ++w)
      go::spawn([jobs, results, ids, &workers] {
        ids.send(go::goroutine_id());
        for (int64_t v : jobs)
          results.send(v * v);
        workers.done();
      });
    go::spawn([results, &workers] {
      workers.wait();
      results.close();
    });
    for (int64_t v : results) {
      res.sum += v;
      ++res.count;
    }
    for (int w = 0; w < kWorkers; ++w)
      res.worker_ids.insert(*ids.recv());
    res.ended = test::all_others_ended();
    return res;
  });
  CHECK(r.count == kN);
  CHECK(r.sum == kN * (kN + 1) * (2 * kN + 1) / 6);
  CHECK(r.worker_ids.size() == kWorkers);
  CHECK(r.ended);
}

TEST_CASE("go::maxprocs follows GOROUTINE_MAXPROCS", "[sched]") {
  const char *env = std::getenv("GOROUTINE_MAXPROCS");
  const int procs = go::maxprocs();
  if (env != nullptr && *env != '\0')
    CHECK(procs == std::atoi(env));
  else
    CHECK((procs >= 1 &&
           procs <= static_cast<int>(std::thread::hardware_concurrency())));
  CHECK(test::in_goroutine([] { return go::maxprocs(); }) == procs);
}

TEST_CASE("CPU-bound goroutines spread over the Ps' threads", "[sched]") {
  // Workers compute (calling a function with a prologue, so preemption can
  // move them too) and note their thread as they go. With two Ps they stop
  // as soon as two threads have been seen (at the latest after 3 s, so a
  // loaded machine has time to schedule the second thread); with one P after
  // 20 ms, and then every worker must still have had its turn.
  constexpr int kWorkers = 8;
  struct Result {
    int procs = 0;
    std::set<pid_t> threads;
    bool ended = false;
  };
  const Result r = test::in_goroutine([] {
    Result res;
    res.procs = go::maxprocs();
    const go::clock::time_point until =
        go::clock::now() + (res.procs >= 2 ? 3000ms : 20ms);
    std::vector<pid_t> tids(kWorkers, 0);
    std::atomic<pid_t> first_tid{0};
    std::atomic<bool> two_seen{false};
    std::atomic<uint64_t> sink{0};
    go::wait_group wg;
    wg.add(kWorkers);
    for (int w = 0; w < kWorkers; ++w)
      go::spawn([&, w] {
        const size_t i = static_cast<size_t>(w);
        uint64_t x = i;
        while (!two_seen.load() && go::clock::now() < until) {
          const pid_t tid = gettid();
          pid_t first = 0;
          if (!first_tid.compare_exchange_strong(first, tid) && first != tid) {
            tids[i] = tid; // a thread other than the first one seen
            two_seen = true;
          }
          for (int k = 0; k < 64; ++k)
            x = spin_step(x);
        }
        if (tids[i] == 0)
          tids[i] = gettid();
        sink += x;
        wg.done();
      });
    wg.wait();
    res.threads.insert(first_tid.load());
    res.threads.insert(tids.begin(), tids.end());
    res.ended = test::all_others_ended();
    return res;
  });
  CHECK(r.threads.count(0) == 0); // every worker ran
  // With two Ps (ctest sets GOROUTINE_MAXPROCS=2), on two threads.
  CHECK(r.procs >= 1);
  CHECK(static_cast<int>(r.threads.size()) >= std::min(r.procs, 2));
  CHECK(r.ended);
}

TEST_CASE("go::yield lets two goroutines take turns", "[sched]") {
  // A ping-pong in which waiting is nothing but yielding: it finishes only
  // if yield lets the other goroutine run.
  constexpr int kRounds = 2000;
  struct Result {
    int a = 0, b = 0;
    bool ended = false;
  };
  const Result r = test::in_goroutine([] {
    Result res;
    std::atomic<int> turn{0}, a{0}, b{0};
    go::wait_group wg;
    wg.add(2);
    go::spawn([&] {
      for (int i = 0; i < kRounds; ++i) {
        while (turn.load() != 0)
          go::yield();
        ++a;
        turn = 1;
      }
      wg.done();
    });
    go::spawn([&] {
      for (int i = 0; i < kRounds; ++i) {
        while (turn.load() != 1)
          go::yield();
        ++b;
        turn = 0;
      }
      wg.done();
    });
    wg.wait();
    res.a = a.load();
    res.b = b.load();
    res.ended = test::all_others_ended();
    return res;
  });
  CHECK(r.a == kRounds);
  CHECK(r.b == kRounds);
  CHECK(r.ended);
}

TEST_CASE("go::blocking returns its function's result", "[sched]") {
  struct Result {
    int value = 0;
    std::string text;
  };
  const Result r = test::in_goroutine([] {
    Result res;
    res.value = go::blocking([] {
      std::this_thread::sleep_for(5ms);
      return 42;
    });
    res.text = go::blocking([] { return std::string("from a blocking call"); });
    return res;
  });
  CHECK(r.value == 42);
  CHECK(r.text == "from a blocking call");
}

TEST_CASE("goroutines can be spawned from a thread outside the runtime",
          "[sched]") {
  constexpr int kN = 1000;
  struct Result {
    int counter = 0;
    int outside_ids = 0;
    bool ended = false;
  };
  const Result r = test::in_goroutine([] {
    Result res;
    std::atomic<int> counter{0}, outside_ids{0};
    go::wait_group wg;
    wg.add(kN);
    std::thread spawner([&] {
      // Late, so the main goroutine is already parked in wait(): a goroutine
      // still to come from outside means this is no deadlock.
      std::this_thread::sleep_for(20ms);
      for (int i = 0; i < kN; ++i)
        go::spawn([&] {
          counter.fetch_add(1);
          wg.done();
        });
      outside_ids = static_cast<int>(go::goroutine_id()); // 0: not a goroutine
    });
    wg.wait();
    go::blocking([&] { spawner.join(); });
    res.counter = counter.load();
    res.outside_ids = outside_ids.load();
    res.ended = test::all_others_ended();
    return res;
  });
  CHECK(r.counter == kN);
  CHECK(r.outside_ids == 0);
  CHECK(r.ended);
}

// ---------------------------------------------------------------------------
// One P (GOROUTINE_MAXPROCS=1 under ctest).

TEST_CASE("a CPU-bound goroutine is preempted so others get its P",
          "[sched1p]") {
  // One spinner per P keeps every P busy; the main goroutine's timers fire,
  // but it runs again only if the runtime preempts a spinner (~10 ms). Each
  // spinner gives up after 10 s so that a failure ends the test.
  constexpr auto kGiveUp = 10s;
  struct Result {
    int procs = 0;
    bool all_started = false;
    int gave_up = 0;
    double elapsed_ms = 0;
    uint64_t sink = 0;
    bool ended = false;
  };
  const Result r = test::in_goroutine([&] {
    Result res;
    res.procs = go::maxprocs();
    const go::clock::time_point start = go::clock::now();
    std::atomic<bool> stop{false};
    std::atomic<int> started{0}, gave_up{0};
    std::atomic<uint64_t> sink{0};
    go::wait_group wg;
    wg.add(res.procs);
    for (int p = 0; p < res.procs; ++p)
      go::spawn([&, p] {
        ++started;
        uint64_t x = static_cast<uint64_t>(p);
        for (uint64_t i = 0; !stop.load(std::memory_order_relaxed); ++i) {
          x = spin_step(x);
          if ((i & 0x3ff) == 0 && go::clock::now() - start > kGiveUp) {
            ++gave_up;
            break;
          }
        }
        sink += x;
        wg.done();
      });
    res.all_started = test::wait_until([&] { return started == res.procs; });
    for (int i = 0; i < 5; ++i) {
      go::sleep_for(1ms);
      go::yield();
    }
    stop = true;
    wg.wait();
    res.elapsed_ms = test::ms_since(start);
    res.gave_up = gave_up.load();
    res.sink = sink.load();
    res.ended = test::all_others_ended();
    return res;
  });
  CHECK(r.all_started);
  CHECK(r.gave_up == 0);
  CHECK(r.elapsed_ms < 5000);
  CHECK(r.ended);
}

TEST_CASE("go::yield runs the other goroutines of the P", "[sched1p]") {
  // Nothing but yields: the spawned goroutine must get the P within a few.
  struct Result {
    bool ran = false;
    int yields = 0;
    bool ended = false;
  };
  const Result r = test::in_goroutine([] {
    Result res;
    std::atomic<bool> ran{false};
    go::spawn([&] { ran = true; });
    while (!ran.load() && res.yields < 1'000'000) {
      go::yield();
      ++res.yields;
    }
    res.ran = ran.load();
    res.ended = test::all_others_ended();
    return res;
  });
  CHECK(r.ran);
  CHECK(r.yields <= 100);
  CHECK(r.ended);
}

TEST_CASE("goroutines that yield interleave on one P", "[sched1p]") {
  // Two goroutines log their name and yield, five times each. With yield
  // working they alternate; were it a no-op, each would log five in a row.
  struct Result {
    std::string log;
    bool ended = false;
  };
  const Result r = test::in_goroutine([] {
    Result res;
    go::mutex mu;
    go::wait_group wg;
    wg.add(2);
    for (char name : {'a', 'b'})
      go::spawn([&, name] {
        for (int i = 0; i < 5; ++i) {
          {
            std::lock_guard<go::mutex> lock(mu);
            res.log += name;
          }
          go::yield();
        }
        wg.done();
      });
    wg.wait();
    res.ended = test::all_others_ended();
    return res;
  });
  REQUIRE(r.log.size() == 10);
  CHECK(std::count(r.log.begin(), r.log.end(), 'a') == 5);
  int switches = 0;
  for (size_t i = 1; i < r.log.size(); ++i)
    switches += r.log[i] != r.log[i - 1];
  CHECK(switches >= 4);
  CHECK(r.ended);
}

TEST_CASE("go::blocking hands the P to other goroutines meanwhile",
          "[sched1p]") {
  // A goroutine blocks its thread until the main goroutine has made
  // progress; on one P that is possible only if go::blocking lent the P.
  // The blocked call gives up after 5 s so that a failure ends the test.
  struct Result {
    bool entered = false;
    bool progressed_in_time = false;
    int result = 0;
    bool ended = false;
  };
  const Result r = test::in_goroutine([] {
    Result res;
    std::atomic<bool> entered{false}, progressed{false}, timed_out{false};
    std::atomic<int> result{0};
    go::wait_group wg;
    wg.add(1);
    go::spawn([&] {
      result = go::blocking([&] {
        entered = true;
        const auto deadline = std::chrono::steady_clock::now() + 5s;
        while (!progressed.load()) {
          if (std::chrono::steady_clock::now() > deadline) {
            timed_out = true;
            break;
          }
          std::this_thread::sleep_for(1ms);
        }
        return 7;
      });
      wg.done();
    });
    res.entered = test::wait_until([&] { return entered.load(); });
    for (int i = 0; i < 10; ++i) {
      go::sleep_for(1ms);
      go::yield();
    }
    progressed = true;
    wg.wait();
    res.progressed_in_time = !timed_out.load();
    res.result = result.load();
    res.ended = test::all_others_ended();
    return res;
  });
  CHECK(r.entered);
  CHECK(r.progressed_in_time);
  CHECK(r.result == 7);
  CHECK(r.ended);
}

} // namespace

TEST_CASE("go::blocking nests, and goroutines spawned inside it run",
          "[sched]") {
  struct Result {
    int inner = 0, ran = 0;
    bool ended = false;
  };
  const Result r = test::in_goroutine([] {
    Result res;
    std::atomic<int> ran{0};
    go::wait_group wg;
    wg.add(3);
    res.inner = go::blocking([&] {
      // While the thread is in a blocking call it owns no P: these go to the
      // global queue and other threads run them.
      go::spawn([&] {
        ran.fetch_add(1);
        wg.done();
      });
      const int inner = go::blocking([&] {
        go::spawn([&] {
          ran.fetch_add(1);
          wg.done();
        });
        return 7;
      });
      go::spawn([&] { // after the inner call: still inside the outer one
        ran.fetch_add(1);
        wg.done();
      });
      return inner;
    });
    wg.wait();
    res.ran = ran.load();
    res.ended = test::all_others_ended();
    return res;
  });
  CHECK(r.inner == 7);
  CHECK(r.ran == 3);
  CHECK(r.ended);
}
