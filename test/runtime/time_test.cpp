// go::sleep_for, go::sleep_until, go::after and go::ticker (whose panic on a
// non-positive period is in fatal_test.cpp). Durations are
// checked from below only (a loaded machine may be late, never early), with
// upper bounds far beyond any delay but a hang or a blocked thread.
#include <catch2/catch.hpp>

#include "test_helpers.h"

#include <algorithm>
#include <atomic>
#include <vector>

namespace {

using namespace std::chrono_literals;

TEST_CASE("go::sleep_for sleeps at least as long as asked", "[time]") {
  const std::vector<double> elapsed = test::in_goroutine([] {
    std::vector<double> ms;
    for (auto d : {1ms, 5ms, 20ms, 50ms}) {
      const go::clock::time_point start = go::clock::now();
      go::sleep_for(d);
      ms.push_back(test::ms_since(start));
    }
    // Zero and negative durations return without waiting for anything.
    const go::clock::time_point start = go::clock::now();
    go::sleep_for(0ms);
    go::sleep_for(-5ms);
    go::sleep_for(std::chrono::microseconds(300));
    ms.push_back(test::ms_since(start));
    return ms;
  });
  REQUIRE(elapsed.size() == 5);
  CHECK(elapsed[0] >= 1);
  CHECK(elapsed[1] >= 5);
  CHECK(elapsed[2] >= 20);
  CHECK(elapsed[3] >= 50);
  CHECK(elapsed[3] < 5000);
  CHECK(elapsed[4] >= 0.3);
  CHECK(elapsed[4] < 5000);
}

TEST_CASE("go::sleep_until wakes at or after the deadline", "[time]") {
  struct Result {
    bool not_early = false;
    double late_ms = 1e9, past_ms = 1e9;
  };
  const Result r = test::in_goroutine([] {
    Result res;
    const go::clock::time_point deadline = go::clock::now() + 25ms;
    go::sleep_until(deadline);
    const go::clock::time_point woke = go::clock::now();
    res.not_early = woke >= deadline;
    res.late_ms =
        std::chrono::duration<double, std::milli>(woke - deadline).count();
    const go::clock::time_point start = go::clock::now();
    go::sleep_until(start - 1s); // in the past
    res.past_ms = test::ms_since(start);
    return res;
  });
  CHECK(r.not_early);
  CHECK(r.late_ms < 5000);
  CHECK(r.past_ms < 5000);
}

TEST_CASE("sleepers wake in deadline order", "[time]") {
  // Deadlines 10 ms apart, spawned in reverse order. A goroutine may be
  // delayed on a loaded machine, so a couple of inversions are tolerated;
  // wakeups in spawn order would make 45.
  constexpr int kSleepers = 10;
  struct Result {
    std::vector<int> order;
    int early = 0;
    bool ended = false;
  };
  const Result r = test::in_goroutine([] {
    Result res;
    const go::clock::time_point base = go::clock::now() + 20ms;
    std::vector<int> order(kSleepers, -1);
    std::atomic<int> next{0}, early{0};
    go::wait_group wg;
    wg.add(kSleepers);
    for (int k = kSleepers - 1; k >= 0; --k)
      go::spawn([&, k] {
        const go::clock::time_point deadline = base + k * 10ms;
        go::sleep_until(deadline);
        if (go::clock::now() < deadline)
          ++early;
        order[static_cast<size_t>(next++)] = k;
        wg.done();
      });
    wg.wait();
    res.order = order;
    res.early = early.load();
    res.ended = test::all_others_ended();
    return res;
  });
  INFO("wake order: " << ::Catch::Detail::stringify(r.order));
  int inversions = 0;
  for (size_t i = 0; i < r.order.size(); ++i)
    for (size_t j = i + 1; j < r.order.size(); ++j)
      inversions += r.order[i] > r.order[j];
  std::vector<int> sorted = r.order;
  std::sort(sorted.begin(), sorted.end());
  CHECK(sorted == std::vector<int>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9});
  CHECK(r.early == 0);
  CHECK(inversions <= 2);
  CHECK(r.ended);
}

TEST_CASE("sleeping parks the goroutine, not its thread", "[time]") {
  // 1000 goroutines sleep 20 ms each. Together that is 20 s of sleep; run
  // side by side it takes little more than 20 ms.
  constexpr int kSleepers = 1000;
  struct Result {
    double elapsed_ms = 0;
    int woke = 0;
    bool ended = false;
  };
  const Result r = test::in_goroutine([] {
    Result res;
    std::atomic<int> woke{0};
    go::wait_group wg;
    wg.add(kSleepers);
    const go::clock::time_point start = go::clock::now();
    for (int i = 0; i < kSleepers; ++i)
      go::spawn([&] {
        go::sleep_for(20ms);
        ++woke;
        wg.done();
      });
    wg.wait();
    res.elapsed_ms = test::ms_since(start);
    res.woke = woke.load();
    res.ended = test::all_others_ended();
    return res;
  });
  CHECK(r.woke == kSleepers);
  CHECK(r.elapsed_ms >= 20);
  CHECK(r.elapsed_ms < 5000);
  CHECK(r.ended);
}

TEST_CASE("go::after delivers the time once", "[time]") {
  struct Result {
    bool got = false, not_early = false;
    double elapsed_ms = 0;
    size_t cap = 0;
    size_t second = 9;
  };
  const Result r = test::in_goroutine([] {
    Result res;
    const go::clock::time_point start = go::clock::now();
    go::chan<go::clock::time_point> c = go::after(20ms);
    res.cap = c.cap();
    const std::optional<go::clock::time_point> t = c.recv();
    res.elapsed_ms = test::ms_since(start);
    res.got = t.has_value();
    res.not_early = t && *t >= start + 20ms;
    // Nothing more comes: a later timeout wins.
    go::chan<go::clock::time_point> timeout = go::after(60ms);
    res.second = go::select(go::recv_case(c), go::recv_case(timeout));
    return res;
  });
  CHECK(r.got);
  CHECK(r.not_early);
  CHECK(r.elapsed_ms >= 20);
  CHECK(r.elapsed_ms < 5000);
  CHECK(r.cap == 1);
  CHECK(r.second == 1);
}

TEST_CASE("go::ticker ticks until stopped", "[time]") {
  struct Result {
    std::vector<go::clock::time_point> ticks;
    go::clock::time_point start;
    size_t len_after_pause = 9;
    bool tick_after_stop = true;
    bool ended = false;
  };
  const Result r = test::in_goroutine([] {
    Result res;
    res.start = go::clock::now();
    go::ticker t(10ms);
    for (int i = 0; i < 3; ++i)
      res.ticks.push_back(*t.c.recv());
    // A slow receiver: ticks are dropped, never queued beyond one.
    go::sleep_for(55ms);
    res.len_after_pause = t.c.len();
    res.ticks.push_back(*t.c.recv());
    t.stop();
    std::optional<go::clock::time_point> out;
    t.c.try_recv(out); // a tick sent before stop() returned may be buffered
    go::sleep_for(50ms);
    res.tick_after_stop = t.c.try_recv(out);
    res.ended = test::all_others_ended();
    return res;
  });
  REQUIRE(r.ticks.size() == 4);
  CHECK(r.ticks[0] >= r.start + 10ms);
  CHECK(r.ticks[1] > r.ticks[0]);
  CHECK(r.ticks[2] > r.ticks[1]);
  CHECK(r.ticks[2] >= r.start + 30ms);
  CHECK(r.ticks[3] > r.ticks[2]);
  CHECK(r.len_after_pause == 1);
  CHECK_FALSE(r.tick_after_stop);
  CHECK(r.ended);
}

} // namespace
