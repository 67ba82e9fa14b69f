// go::select: which case runs, default cases, closed and nil channels,
// timeouts, fairness between ready cases, and selects blocked until another
// goroutine acts.
#include <catch2/catch.hpp>

#include "test_helpers.h"

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

namespace {

using namespace std::chrono_literals;

TEST_CASE("select performs the ready case among sends and receives",
          "[select]") {
  struct Result {
    size_t first = 9, second = 9;
    std::string ran;
    std::optional<int> received;
    std::optional<int> sent_value;
  };
  const Result r = test::in_goroutine([] {
    Result res;
    go::chan<int> in(1), out(1);
    // Nothing to receive, room to send: the send runs.
    res.first = go::select(
        go::recv_case(in, [&](std::optional<int>) { res.ran += "recv1 "; }),
        go::send_case(out, 5, [&] { res.ran += "send1 "; }));
    res.sent_value = out.recv();
    // Something to receive, no room to send: the receive runs.
    in.send(8);
    out.send(0);
    res.second =
        go::select(go::recv_case(in,
                                 [&](std::optional<int> v) {
                                   res.received = v;
                                   res.ran += "recv2 ";
                                 }),
                   go::send_case(out, 6, [&] { res.ran += "send2 "; }));
    return res;
  });
  CHECK(r.first == 1);
  CHECK(r.sent_value == 5);
  CHECK(r.second == 0);
  CHECK(r.received == 8);
  CHECK(r.ran == "send1 recv2 ");
}

TEST_CASE("select returns the index of the chosen argument", "[select]") {
  struct Result {
    std::vector<size_t> indexes;
    std::vector<int> handlers;
  };
  const Result r = test::in_goroutine([] {
    Result res;
    go::chan<int> empty, ready(1);
    auto note = [&](int h) {
      return [&res, h](auto &&...) { res.handlers.push_back(h); };
    };
    // The default case, wherever it is among the arguments.
    res.indexes.push_back(
        go::select(go::default_case(note(0)), go::recv_case(empty, note(1))));
    res.indexes.push_back(go::select(go::recv_case(empty, note(0)),
                                     go::default_case(note(1)),
                                     go::recv_case(empty, note(2))));
    res.indexes.push_back(go::select(go::recv_case(empty, note(0)),
                                     go::recv_case(empty, note(1)),
                                     go::default_case(note(2))));
    // A communication case after a default case.
    ready.send(1);
    res.indexes.push_back(go::select(go::default_case(note(0)),
                                     go::recv_case(empty, note(1)),
                                     go::recv_case(ready, note(2))));
    return res;
  });
  CHECK(r.indexes == std::vector<size_t>{0, 1, 2, 2});
  CHECK(r.handlers == std::vector<int>{0, 1, 2, 2});
}

TEST_CASE("the default case runs only when no other case is ready",
          "[select]") {
  constexpr int kN = 500;
  struct Result {
    int defaults_when_idle = 0, defaults_when_ready = 0;
    int defaults_full_send = 0, received = 0;
  };
  const Result r = test::in_goroutine([] {
    Result res;
    go::chan<int> c(1), full(1);
    full.send(0);
    for (int i = 0; i < kN; ++i) {
      // Nothing to receive, no room to send.
      res.defaults_when_idle +=
          go::select(go::recv_case(c), go::send_case(full, 1),
                     go::default_case()) == 2;
      // A value is waiting: never the default.
      c.send(i);
      if (go::select(
              go::recv_case(
                  c, [&](std::optional<int> v) { res.received += v == i; }),
              go::default_case()) == 1)
        ++res.defaults_when_ready;
    }
    return res;
  });
  CHECK(r.defaults_when_idle == kN);
  CHECK(r.defaults_when_ready == 0);
  CHECK(r.received == kN);
}

TEST_CASE("a closed channel's receive case is always ready", "[select]") {
  struct Result {
    size_t buffered = 9, drained = 9, unbuffered = 9;
    std::optional<int> first;
    bool second_empty = false, third_empty = false;
  };
  const Result r = test::in_goroutine([] {
    Result res;
    go::chan<int> never;
    go::chan<int> c(2);
    c.send(3);
    c.close();
    // The buffered value first, then the close.
    res.buffered = go::select(
        go::recv_case(never),
        go::recv_case(c, [&](std::optional<int> v) { res.first = v; }),
        go::default_case());
    res.drained = go::select(go::recv_case(never),
                             go::recv_case(c,
                                           [&](std::optional<int> v) {
                                             res.second_empty = !v.has_value();
                                           }),
                             go::default_case());
    // Without a default case: blocking would be a deadlock.
    go::chan<int> u;
    u.close();
    res.unbuffered = go::select(go::recv_case(never),
                                go::recv_case(u, [&](std::optional<int> v) {
                                  res.third_empty = !v.has_value();
                                }));
    return res;
  });
  CHECK(r.buffered == 1);
  CHECK(r.first == 3);
  CHECK(r.drained == 1);
  CHECK(r.second_empty);
  CHECK(r.unbuffered == 1);
  CHECK(r.third_empty);
}

TEST_CASE("nil channels never become ready in a select", "[select]") {
  struct Result {
    size_t only_nil = 9, nil_and_ready = 9;
    int got = 0;
  };
  const Result r = test::in_goroutine([] {
    Result res;
    go::chan<int> nil(nullptr);
    res.only_nil = go::select(go::recv_case(nil), go::send_case(nil, 1),
                              go::default_case());
    go::chan<int> ready(1);
    ready.send(4);
    res.nil_and_ready = go::select(
        go::recv_case(nil), go::send_case(nil, 1),
        go::recv_case(ready, [&](std::optional<int> v) { res.got = *v; }));
    return res;
  });
  CHECK(r.only_nil == 2);
  CHECK(r.nil_and_ready == 2);
  CHECK(r.got == 4);
}

TEST_CASE("go::after makes a select time out", "[select]") {
  struct Result {
    size_t chosen = 9;
    double elapsed_ms = 0;
    bool got_time = false;
    bool time_not_early = false;
    size_t value_first = 9;
  };
  const Result r = test::in_goroutine([] {
    Result res;
    go::chan<int> never;
    const go::clock::time_point start = go::clock::now();
    res.chosen =
        go::select(go::recv_case(never),
                   go::recv_case(go::after(20ms),
                                 [&](std::optional<go::clock::time_point> t) {
                                   res.got_time = t.has_value();
                                   res.time_not_early = t && *t >= start + 20ms;
                                 }));
    res.elapsed_ms = test::ms_since(start);
    // A value that is ready wins over a timeout that is not. (Then wait for
    // the timer, so that none is left pending after the test.)
    go::chan<int> ready(1);
    ready.send(1);
    go::chan<go::clock::time_point> timeout = go::after(50ms);
    res.value_first = go::select(go::recv_case(ready), go::recv_case(timeout));
    timeout.recv();
    return res;
  });
  CHECK(r.chosen == 1);
  CHECK(r.got_time);
  CHECK(r.time_not_early);
  CHECK(r.elapsed_ms >= 20);
  CHECK(r.elapsed_ms < 5000);
  CHECK(r.value_first == 0);
}

TEST_CASE("a select case holds its own handle to its channel", "[select]") {
  struct Result {
    size_t timeout_chosen = 9;
    bool timed_out = false;
    bool alive_in_case = false, freed_with_case = false;
    std::optional<int> from_stored_case;
    size_t stored_send = 9;
    std::optional<int> sent_value;
  };
  const Result r = test::in_goroutine([] {
    Result res;
    // The channel go::after returns is a temporary: the case keeps it.
    auto timeout = go::recv_case(go::after(10ms));
    go::chan<int> never;
    res.timeout_chosen = go::select(go::recv_case(never), timeout);
    res.timed_out = true;
    // A case given its channel by move outlives every other handle to the
    // channel, and with it the value buffered there, until the case is gone.
    std::optional<int> got;
    auto make_case = [&got](int value, std::weak_ptr<int> &watch) {
      go::chan<std::shared_ptr<int>> ch(1);
      auto v = std::make_shared<int>(value);
      watch = v;
      ch.send(std::move(v));
      return go::recv_case(
          std::move(ch),
          [&got](std::optional<std::shared_ptr<int>> v) { got = **v; });
    };
    std::weak_ptr<int> chosen_value, unchosen_value;
    go::chan<int> idle;
    {
      auto chosen = make_case(5, chosen_value);
      res.alive_in_case = !chosen_value.expired();
      go::select(go::recv_case(idle), chosen);
      res.from_stored_case = got;
      auto unchosen = make_case(6, unchosen_value);
      res.alive_in_case = res.alive_in_case && !unchosen_value.expired();
    }
    res.freed_with_case = unchosen_value.expired();
    // The same for a send case.
    go::chan<int> out(1);
    auto send = go::send_case(go::chan<int>(out), 3);
    res.stored_send = go::select(send);
    res.sent_value = out.recv();
    return res;
  });
  CHECK(r.timeout_chosen == 1);
  CHECK(r.timed_out);
  CHECK(r.alive_in_case);
  CHECK(r.from_stored_case == 5);
  CHECK(r.freed_with_case);
  CHECK(r.stored_send == 0);
  CHECK(r.sent_value == 3);
}

TEST_CASE("select chooses fairly among ready cases", "[select]") {
  // Both channels always hold a value; each select takes one and puts it
  // back. The choice is random: each side should win about half the time.
  constexpr int kSelects = 10'000;
  const std::vector<int> counts = test::in_goroutine([] {
    std::vector<int> n(2, 0);
    go::chan<int> a(1), b(1);
    a.send(0);
    b.send(1);
    for (int i = 0; i < kSelects; ++i) {
      const size_t k = go::select(go::recv_case(a), go::recv_case(b));
      ++n[k];
      (k == 0 ? a : b).send(static_cast<int>(k));
    }
    return n;
  });
  CHECK(counts[0] + counts[1] == kSelects);
  CHECK(counts[0] >= kSelects * 40 / 100);
  CHECK(counts[0] <= kSelects * 60 / 100);
  CHECK(counts[1] >= kSelects * 40 / 100);
  CHECK(counts[1] <= kSelects * 60 / 100);
}

TEST_CASE("a blocked select wakes when another goroutine acts", "[select]") {
  struct Result {
    size_t recv_index = 9, send_index = 9;
    std::optional<int> received;
    std::optional<int> taken;
    double recv_ms = 0;
    bool ended = false;
  };
  const Result r = test::in_goroutine([] {
    Result res;
    go::chan<int> a, b, never;
    // A receive case: the value arrives on the second channel later.
    const go::clock::time_point start = go::clock::now();
    go::spawn([b] {
      go::sleep_for(10ms);
      b.send(21);
    });
    res.recv_index = go::select(
        go::recv_case(a),
        go::recv_case(b, [&](std::optional<int> v) { res.received = v; }));
    res.recv_ms = test::ms_since(start);
    // A send case: a receiver comes along later.
    go::wait_group wg;
    wg.add(1);
    std::optional<int> taken;
    go::spawn([&] {
      go::sleep_for(10ms);
      taken = a.recv();
      wg.done();
    });
    res.send_index = go::select(go::recv_case(never), go::send_case(a, 22));
    wg.wait();
    res.taken = taken;
    res.ended = test::all_others_ended();
    return res;
  });
  CHECK(r.recv_index == 1);
  CHECK(r.received == 21);
  CHECK(r.recv_ms >= 10);
  CHECK(r.send_index == 1);
  CHECK(r.taken == 22);
  CHECK(r.ended);
}

TEST_CASE("selects on both sides of shared channels pass every value once",
          "[select]") {
  // Producers send each value on whichever of two channels is ready;
  // consumers receive from either. When a channel is closed, a consumer
  // replaces its handle with nil (Go's idiom) and stops when both are nil.
  constexpr int kProducers = 4, kConsumers = 4, kPer = 2000;
  constexpr int kTotal = kProducers * kPer;
  struct Result {
    int count = 0, duplicates = 0, missing = 0;
    bool ended = false;
  };
  const Result r = test::in_goroutine([] {
    Result res;
    go::chan<int> a, b(4);
    std::vector<std::atomic<int>> seen(kTotal);
    std::atomic<int> count{0};
    go::wait_group producers, consumers;
    producers.add(kProducers);
    for (int p = 0; p < kProducers; ++p)
      go::spawn([&, p, a, b] {
        for (int i = 0; i < kPer; ++i) {
          const int v = p * kPer + i;
          go::select(go::send_case(a, v), go::send_case(b, v));
        }
        producers.done();
      });
    consumers.add(kConsumers);
    for (int c = 0; c < kConsumers; ++c)
      go::spawn([&, a, b]() mutable {
        auto take = [&](go::chan<int> &ch) {
          return [&](std::optional<int> v) {
            if (!v) {
              ch = go::chan<int>(nullptr);
              return;
            }
            ++seen[static_cast<size_t>(*v)];
            ++count;
          };
        };
        while (!a.is_nil() || !b.is_nil())
          go::select(go::recv_case(a, take(a)), go::recv_case(b, take(b)));
        consumers.done();
      });
    producers.wait();
    a.close();
    b.close();
    consumers.wait();
    res.count = count.load();
    for (const std::atomic<int> &n : seen) {
      res.duplicates += n > 1;
      res.missing += n == 0;
    }
    res.ended = test::all_others_ended();
    return res;
  });
  CHECK(r.count == kTotal);
  CHECK(r.duplicates == 0);
  CHECK(r.missing == 0);
  CHECK(r.ended);
}

} // namespace
