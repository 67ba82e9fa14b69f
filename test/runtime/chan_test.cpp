// go::chan<T>: unbuffered rendezvous, buffered FIFO, close, try_send and
// try_recv, values moved (never copied), default-constructed and nil
// channels, shared handles, and many senders and receivers at once.
#include <catch2/catch.hpp>

#include "test_helpers.h"

#include <atomic>
#include <cstdint>
#include <memory>
#include <numeric>
#include <optional>
#include <string>
#include <vector>

namespace {

using namespace std::chrono_literals;

TEST_CASE("an unbuffered send waits for its receiver, and a receive for its "
          "sender",
          "[chan]") {
  struct Result {
    int stage_before_recv = 0, stage_after = 0;
    std::optional<int> got;
    bool receiver_waited = false;
    std::optional<int> receiver_got;
    size_t len = 1, cap = 1;
    bool ended = false;
  };
  const Result r = test::in_goroutine([] {
    Result res;
    go::chan<int> c;
    res.len = c.len();
    res.cap = c.cap();
    std::atomic<int> stage{0};
    go::wait_group wg;
    // The sender reaches send() and must stay there until main receives.
    wg.add(1);
    go::spawn([&] {
      stage = 1;
      c.send(7);
      stage = 2;
      wg.done();
    });
    test::wait_until([&] { return stage == 1; });
    go::sleep_for(20ms);
    res.stage_before_recv = stage.load();
    res.got = c.recv();
    wg.wait();
    res.stage_after = stage.load();
    // The receiver must stay in recv() until main sends.
    std::atomic<bool> waiting{false}, received{false};
    std::optional<int> receiver_got;
    wg.add(1);
    go::spawn([&] {
      waiting = true;
      receiver_got = c.recv();
      received = true;
      wg.done();
    });
    test::wait_until([&] { return waiting.load(); });
    go::sleep_for(20ms);
    res.receiver_waited = !received.load();
    c.send(9);
    wg.wait();
    res.receiver_got = receiver_got;
    res.ended = test::all_others_ended();
    return res;
  });
  CHECK(r.len == 0);
  CHECK(r.cap == 0);
  CHECK(r.stage_before_recv == 1);
  CHECK(r.got == 7);
  CHECK(r.stage_after == 2);
  CHECK(r.receiver_waited);
  CHECK(r.receiver_got == 9);
  CHECK(r.ended);
}

TEST_CASE("values arrive in the order they were sent", "[chan]") {
  constexpr int kN = 2000;
  auto run = [](size_t capacity) {
    return test::in_goroutine([capacity] {
      go::chan<int> c(capacity);
      go::spawn([c] {
        for (int i = 0; i < kN; ++i)
          c.send(i);
        c.close();
      });
      std::vector<int> got;
      for (int v : c)
        got.push_back(v);
      test::all_others_ended();
      return got;
    });
  };
  std::vector<int> expected(kN);
  std::iota(expected.begin(), expected.end(), 0);
  CHECK(run(0) == expected);
  CHECK(run(1) == expected);
  CHECK(run(64) == expected);
}

TEST_CASE("a buffered channel is a FIFO that blocks senders when full and "
          "receivers when empty",
          "[chan]") {
  struct Result {
    size_t cap = 0, len_empty = 9, len_full = 0, len_after = 9;
    bool try_send_full = true;
    int kept_value = 0;
    int sent_while_full = -1, sent_after_one = -1, sent_still = -1;
    std::vector<int> drained;
    bool receiver_waited = false;
    std::optional<int> receiver_got;
    bool ended = false;
  };
  const Result r = test::in_goroutine([] {
    Result res;
    go::chan<int> c(3);
    res.cap = c.cap();
    res.len_empty = c.len();
    c.send(1);
    c.send(2);
    c.send(3);
    res.len_full = c.len();
    int v = 4;
    res.try_send_full = c.try_send(v);
    res.kept_value = v;
    std::atomic<int> sent{0};
    go::wait_group wg;
    wg.add(1);
    go::spawn([&] {
      c.send(4);
      ++sent;
      c.send(5);
      ++sent;
      wg.done();
    });
    go::sleep_for(20ms);
    res.sent_while_full = sent.load();
    res.drained.push_back(*c.recv()); // room for one: 4 goes in
    test::wait_until([&] { return sent == 1; });
    res.sent_after_one = sent.load();
    go::sleep_for(20ms);
    res.sent_still = sent.load(); // full again: 5 waits
    for (int i = 0; i < 4; ++i)
      res.drained.push_back(*c.recv());
    wg.wait();
    res.len_after = c.len();
    // An empty channel blocks its receiver until a send.
    std::atomic<bool> waiting{false}, received{false};
    std::optional<int> got;
    wg.add(1);
    go::spawn([&] {
      waiting = true;
      got = c.recv();
      received = true;
      wg.done();
    });
    test::wait_until([&] { return waiting.load(); });
    go::sleep_for(20ms);
    res.receiver_waited = !received.load();
    c.send(6);
    wg.wait();
    res.receiver_got = got;
    res.ended = test::all_others_ended();
    return res;
  });
  CHECK(r.cap == 3);
  CHECK(r.len_empty == 0);
  CHECK(r.len_full == 3);
  CHECK_FALSE(r.try_send_full);
  CHECK(r.kept_value == 4);
  CHECK(r.sent_while_full == 0);
  CHECK(r.sent_after_one == 1);
  CHECK(r.sent_still == 1);
  CHECK(r.drained == std::vector<int>{1, 2, 3, 4, 5});
  CHECK(r.len_after == 0);
  CHECK(r.receiver_waited);
  CHECK(r.receiver_got == 6);
  CHECK(r.ended);
}

TEST_CASE("a closed channel drains its buffer, then receives nothing",
          "[chan]") {
  struct Result {
    size_t len_closed = 0;
    std::optional<int> a, b, c, d;
    bool try_ready = false, try_has_value = true;
    std::optional<int> unbuffered;
    bool unbuffered_try_ready = false;
    std::vector<int> ranged;
    bool ended = false;
  };
  const Result r = test::in_goroutine([] {
    Result res;
    go::chan<int> c(4);
    c.send(1);
    c.send(2);
    c.close();
    res.len_closed = c.len();
    res.a = c.recv();
    res.b = c.recv();
    res.c = c.recv();
    res.d = c.recv(); // again: still closed
    std::optional<int> out = 5;
    res.try_ready = c.try_recv(out);
    res.try_has_value = out.has_value();
    // Unbuffered: a receive on a closed channel does not block (if it did,
    // the runtime would report a deadlock).
    go::chan<int> u;
    u.close();
    res.unbuffered = u.recv();
    std::optional<int> out2;
    res.unbuffered_try_ready = u.try_recv(out2);
    // range-for stops at the close.
    go::chan<int> ranged(2);
    go::spawn([ranged] {
      for (int i = 0; i < 10; ++i)
        ranged.send(i);
      ranged.close();
    });
    for (int v : ranged)
      res.ranged.push_back(v);
    res.ended = test::all_others_ended();
    return res;
  });
  CHECK(r.len_closed == 2);
  CHECK(r.a == 1);
  CHECK(r.b == 2);
  CHECK_FALSE(r.c.has_value());
  CHECK_FALSE(r.d.has_value());
  CHECK(r.try_ready);
  CHECK_FALSE(r.try_has_value);
  CHECK_FALSE(r.unbuffered.has_value());
  CHECK(r.unbuffered_try_ready);
  CHECK(r.ranged == std::vector<int>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9});
  CHECK(r.ended);
}

TEST_CASE("close wakes every blocked receiver", "[chan]") {
  constexpr int kReceivers = 8;
  struct Result {
    int woken = 0, got_value = 0;
    bool ended = false;
  };
  const Result r = test::in_goroutine([] {
    Result res;
    go::chan<int> c;
    std::atomic<int> waiting{0}, woken{0}, got_value{0};
    go::wait_group wg;
    wg.add(kReceivers);
    for (int i = 0; i < kReceivers; ++i)
      go::spawn([&, c] {
        ++waiting;
        if (c.recv().has_value())
          ++got_value;
        ++woken;
        wg.done();
      });
    test::wait_until([&] { return waiting == kReceivers; });
    go::sleep_for(10ms);
    c.close();
    wg.wait();
    res.woken = woken.load();
    res.got_value = got_value.load();
    res.ended = test::all_others_ended();
    return res;
  });
  CHECK(r.woken == kReceivers);
  CHECK(r.got_value == 0);
  CHECK(r.ended);
}

TEST_CASE("try_send and try_recv never block", "[chan]") {
  struct Result {
    bool send_no_receiver = true, recv_no_sender = true;
    bool send_to_waiting = false, recv_from_waiting = false;
    std::optional<int> receiver_got, got_from_sender;
    int unsent = 0;
    bool buffered_send = false, buffered_recv = false;
    std::optional<int> buffered_value;
    bool ended = false;
  };
  const Result r = test::in_goroutine([] {
    Result res;
    go::chan<int> c;
    int v = 11;
    res.send_no_receiver = c.try_send(v);
    res.unsent = v;
    std::optional<int> out;
    res.recv_no_sender = c.try_recv(out);
    // With a receiver parked in recv(), try_send hands the value over.
    go::wait_group wg;
    wg.add(1);
    std::optional<int> receiver_got;
    go::spawn([&] {
      receiver_got = c.recv();
      wg.done();
    });
    int w = 12;
    res.send_to_waiting = test::wait_until([&] { return c.try_send(w); });
    wg.wait();
    res.receiver_got = receiver_got;
    // With a sender parked in send(), try_recv takes its value.
    wg.add(1);
    go::spawn([&] {
      c.send(13);
      wg.done();
    });
    res.recv_from_waiting = test::wait_until([&] { return c.try_recv(out); });
    res.got_from_sender = out;
    wg.wait();
    // Buffered: room means ready, a value means ready.
    go::chan<int> b(1);
    int x = 14;
    res.buffered_send = b.try_send(x);
    std::optional<int> y;
    res.buffered_recv = b.try_recv(y);
    res.buffered_value = y;
    res.ended = test::all_others_ended();
    return res;
  });
  CHECK_FALSE(r.send_no_receiver);
  CHECK(r.unsent == 11); // left as it was
  CHECK_FALSE(r.recv_no_sender);
  CHECK(r.send_to_waiting);
  CHECK(r.receiver_got == 12);
  CHECK(r.recv_from_waiting);
  CHECK(r.got_from_sender == 13);
  CHECK(r.buffered_send);
  CHECK(r.buffered_recv);
  CHECK(r.buffered_value == 14);
  CHECK(r.ended);
}

TEST_CASE("try_send of an rvalue moves it only when it is sent; of an lvalue, "
          "sends a copy",
          "[chan]") {
  struct Result {
    bool unbuffered_sent = true, kept_unbuffered = false;
    bool nil_sent = true, kept_nil = false;
    bool buffered_sent = false, moved_when_sent = false;
    bool full_sent = true, kept_full = false;
    bool temporary_sent = false;
    std::vector<int> received;
    bool to_waiting = false;
    bool lvalue_sent = false;
    std::string lvalue_after;
    std::optional<std::string> lvalue_got;
    bool ended = false;
  };
  const Result r = test::in_goroutine([] {
    Result res;
    // Nobody receives: false, and the move-only value is still ours.
    go::chan<std::unique_ptr<int>> u;
    auto p = std::make_unique<int>(7);
    res.unbuffered_sent = u.try_send(std::move(p));
    res.kept_unbuffered = p != nullptr && *p == 7;
    go::chan<std::unique_ptr<int>> nil(nullptr);
    res.nil_sent = nil.try_send(std::move(p));
    res.kept_nil = p != nullptr && *p == 7;
    // Room in the buffer: true, and the value went.
    go::chan<std::unique_ptr<int>> b(1);
    res.buffered_sent = b.try_send(std::move(p));
    res.moved_when_sent = p == nullptr;
    // Full: false, kept.
    auto q = std::make_unique<int>(8);
    res.full_sent = b.try_send(std::move(q));
    res.kept_full = q != nullptr && *q == 8;
    res.received.push_back(**b.recv());
    res.temporary_sent = b.try_send(std::make_unique<int>(9));
    res.received.push_back(**b.recv());
    // A parked receiver takes it; the same value is offered until then.
    go::wait_group wg;
    wg.add(1);
    std::unique_ptr<int> got;
    go::spawn([&] {
      got = *u.recv();
      wg.done();
    });
    res.to_waiting = test::wait_until([&] { return u.try_send(std::move(q)); });
    wg.wait();
    res.received.push_back(got != nullptr ? *got : -1);
    // An lvalue is sent as a copy and never changed.
    go::chan<std::string> s(1);
    std::string text = "kept";
    res.lvalue_sent = s.try_send(text);
    res.lvalue_after = text;
    res.lvalue_got = s.recv();
    res.ended = test::all_others_ended();
    return res;
  });
  CHECK_FALSE(r.unbuffered_sent);
  CHECK(r.kept_unbuffered);
  CHECK_FALSE(r.nil_sent);
  CHECK(r.kept_nil);
  CHECK(r.buffered_sent);
  CHECK(r.moved_when_sent);
  CHECK_FALSE(r.full_sent);
  CHECK(r.kept_full);
  CHECK(r.temporary_sent);
  CHECK(r.to_waiting);
  CHECK(r.received == std::vector<int>{7, 9, 8});
  CHECK(r.lvalue_sent);
  CHECK(r.lvalue_after == "kept");
  CHECK(r.lvalue_got == "kept");
  CHECK(r.ended);
}

// Counts copies and live instances; channels must only move it.
struct Counted {
  static inline std::atomic<int> copies{0}, live{0};
  int value;
  explicit Counted(int v) : value(v) { ++live; }
  Counted(const Counted &o) : value(o.value) {
    ++copies;
    ++live;
  }
  Counted(Counted &&o) noexcept : value(o.value) {
    o.value = -1;
    ++live;
  }
  Counted &operator=(Counted &&o) noexcept { // range-for assigns optionals
    value = o.value;
    o.value = -1;
    return *this;
  }
  ~Counted() { --live; }
};

TEST_CASE("values are moved through channels, never copied", "[chan]") {
  Counted::copies = 0;
  Counted::live = 0;
  struct Result {
    long sum = 0;
    int received = 0;
    bool ended = false;
  };
  const Result r = test::in_goroutine([] {
    Result res;
    for (size_t capacity : {size_t{0}, size_t{1}, size_t{8}}) {
      go::chan<Counted> c(capacity);
      go::spawn([c] {
        for (int i = 1; i <= 100; ++i) {
          Counted v(i);
          c.send(std::move(v));
        }
        Counted t(1000);
        while (!c.try_send(std::move(t))) // t stays ours until it goes
          go::yield();
        go::select(go::send_case(c, Counted(2000)));
        c.close();
      });
      for (Counted &v : c) {
        res.sum += v.value;
        ++res.received;
      }
    }
    // try_recv, recv and select receive by moving too.
    go::chan<Counted> b(2);
    b.send(Counted(1));
    b.send(Counted(2));
    std::optional<Counted> out;
    if (b.try_recv(out))
      res.sum += out->value;
    go::select(go::recv_case(
        b, [&](std::optional<Counted> v) { res.sum += v->value; }));
    res.ended = test::all_others_ended();
    return res;
  });
  CHECK(r.received == 3 * 102);
  CHECK(r.sum == 3 * (5050 + 1000 + 2000) + 3);
  CHECK(Counted::copies == 0);
  CHECK(Counted::live == 0); // and each destroyed once
  CHECK(r.ended);
}

TEST_CASE("values left in a channel are destroyed with its last handle",
          "[chan]") {
  Counted::copies = 0;
  Counted::live = 0;
  struct Result {
    int buffered = 0, with_copy = 0, released = -1;
  };
  const Result r = test::in_goroutine([] {
    Result res;
    go::chan<Counted> copy(nullptr);
    {
      go::chan<Counted> c(4);
      c.send(Counted(1));
      c.send(Counted(2));
      c.send(Counted(3));
      copy = c;
      res.buffered = Counted::live;
    }
    res.with_copy = Counted::live; // the copy keeps the channel
    copy = go::chan<Counted>(nullptr);
    res.released = Counted::live;
    return res;
  });
  CHECK(r.buffered == 3);
  CHECK(r.with_copy == 3);
  CHECK(r.released == 0);
  CHECK(Counted::copies == 0);
}

TEST_CASE("the nil channel", "[chan]") {
  go::chan<int> nil(nullptr);
  go::chan<int> other_nil(nullptr);
  go::chan<int> real;
  CHECK(nil.is_nil());
  CHECK(nil == other_nil);
  CHECK_FALSE(real.is_nil());
  CHECK(nil != real);
  go::chan<int> assigned(1);
  assigned = nil; // a handle can be set to nil, as in Go
  CHECK(assigned.is_nil());
  CHECK(assigned == nil);
  struct Result {
    bool try_send = true, try_recv = true;
  };
  const Result r = test::in_goroutine([] {
    Result res;
    go::chan<int> c(nullptr);
    int v = 1;
    res.try_send = c.try_send(v); // never ready
    std::optional<int> out;
    res.try_recv = c.try_recv(out);
    return res;
  });
  CHECK_FALSE(r.try_send);
  CHECK_FALSE(r.try_recv);
}

TEST_CASE("a default-constructed chan is a new unbuffered channel, not nil",
          "[chan]") {
  go::chan<int> a, b;
  CHECK_FALSE(a.is_nil());
  CHECK(a.cap() == 0);
  CHECK(a != b); // each is a channel of its own
  go::chan<int> n = nullptr;
  CHECK(n.is_nil());
  // A capacity of any integer type, literal 0 included, is a capacity.
  go::chan<int> zero(0), four(4u), eight(int64_t{8});
  CHECK_FALSE(zero.is_nil());
  CHECK(zero.cap() == 0);
  CHECK(four.cap() == 4);
  CHECK(eight.cap() == 8);
  struct Result {
    std::optional<int> rendezvous;
    size_t chosen = 9;
    bool ended = false;
  };
  const Result r = test::in_goroutine([] {
    Result res;
    go::chan<int> c; // Go's make(chan int)
    go::spawn([c] { c.send(5); });
    res.rendezvous = c.recv();
    // Go's nil-channel idiom disables a select case: set the handle to nil.
    go::chan<int> data(1), ready(1);
    data.send(1);
    ready.send(2);
    go::chan<int> off = data;
    off = nullptr;
    res.chosen = go::select(go::recv_case(off), go::recv_case(ready));
    res.ended = test::all_others_ended();
    return res;
  });
  CHECK(r.rendezvous == 5);
  CHECK(r.chosen == 1);
  CHECK(r.ended);
}

TEST_CASE("copies of a channel handle share one channel", "[chan]") {
  struct Result {
    bool equal = false, moved_from_nil = false;
    std::optional<int> via_copy, via_lambda;
    bool ended = false;
  };
  const Result r = test::in_goroutine([] {
    Result res;
    go::chan<int> a(1);
    go::chan<int> b = a;
    res.equal = a == b && a != go::chan<int>(1);
    b.send(1);
    res.via_copy = a.recv();
    // The goroutine's copy keeps the channel alive after main's handles
    // are gone or point elsewhere.
    go::chan<int> reply;
    {
      go::chan<int> request(1);
      go::spawn([request, reply] { reply.send(*request.recv() * 10); });
      request.send(4);
    }
    res.via_lambda = reply.recv();
    go::chan<int> moved = std::move(b);
    // A moved-from handle is nil.
    // NOLINTNEXTLINE(bugprone-use-after-move,clang-analyzer-cplusplus.Move)
    res.moved_from_nil = b.is_nil() && moved == a;
    res.ended = test::all_others_ended();
    return res;
  });
  CHECK(r.equal);
  CHECK(r.via_copy == 1);
  CHECK(r.via_lambda == 40);
  CHECK(r.moved_from_nil);
  CHECK(r.ended);
}

TEST_CASE("many senders and many receivers: every value arrives once",
          "[chan]") {
  constexpr int kSenders = 6, kReceivers = 6, kPerSender = 3000;
  constexpr int kTotal = kSenders * kPerSender;
  auto run = [](size_t capacity) {
    struct Result {
      int64_t sum = 0;
      int count = 0, duplicates = 0, missing = 0, receivers_used = 0;
      bool ended = false;
    };
    return test::in_goroutine([capacity] {
      Result res;
      go::chan<int> c(capacity);
      std::vector<std::atomic<int>> seen(kTotal);
      std::atomic<int64_t> sum{0};
      std::atomic<int> count{0}, receivers_used{0};
      go::wait_group senders, receivers;
      senders.add(kSenders);
      for (int s = 0; s < kSenders; ++s)
        go::spawn([&, s, c] {
          for (int i = 0; i < kPerSender; ++i)
            c.send(s * kPerSender + i);
          senders.done();
        });
      receivers.add(kReceivers);
      for (int i = 0; i < kReceivers; ++i)
        go::spawn([&, c] {
          int mine = 0;
          for (int v : c) {
            ++seen[static_cast<size_t>(v)];
            sum += v;
            ++mine;
          }
          count += mine;
          receivers_used += mine > 0;
          receivers.done();
        });
      senders.wait();
      c.close();
      receivers.wait();
      res.sum = sum.load();
      res.count = count.load();
      res.receivers_used = receivers_used.load();
      for (const std::atomic<int> &n : seen) {
        res.duplicates += n > 1;
        res.missing += n == 0;
      }
      res.ended = test::all_others_ended();
      return res;
    });
  };
  for (size_t capacity : {size_t{0}, size_t{32}}) {
    INFO("capacity " << capacity);
    const auto r = run(capacity);
    CHECK(r.count == kTotal);
    CHECK(r.sum == int64_t{kTotal} * (kTotal - 1) / 2);
    CHECK(r.duplicates == 0);
    CHECK(r.missing == 0);
    CHECK(r.receivers_used >= 1);
    CHECK(r.ended);
  }
}

TEST_CASE("strings and unique_ptrs cross channels intact", "[chan]") {
  constexpr int kN = 500;
  struct Result {
    int bad_strings = 0, bad_ptrs = 0, count = 0;
    bool ended = false;
  };
  const Result r = test::in_goroutine([] {
    Result res;
    for (size_t capacity : {size_t{0}, size_t{16}}) {
      go::chan<std::string> strings(capacity);
      go::chan<std::unique_ptr<int>> ptrs(capacity);
      go::spawn([strings, ptrs] {
        for (int i = 0; i < kN; ++i) {
          // Short strings live inside the object (SSO), long ones on the heap.
          strings.send(std::string(static_cast<size_t>(i % 40),
                                   static_cast<char>('a' + i % 26)));
          ptrs.send(std::make_unique<int>(i));
        }
        strings.close();
        ptrs.close();
      });
      for (int i = 0; i < kN; ++i) {
        std::optional<std::string> s = strings.recv();
        std::optional<std::unique_ptr<int>> p = ptrs.recv();
        res.bad_strings +=
            !s || *s != std::string(static_cast<size_t>(i % 40),
                                    static_cast<char>('a' + i % 26));
        res.bad_ptrs += !p || !*p || **p != i;
        ++res.count;
      }
      res.bad_strings += strings.recv().has_value();
      res.bad_ptrs += ptrs.recv().has_value();
    }
    res.ended = test::all_others_ended();
    return res;
  });
  CHECK(r.count == 2 * kN);
  CHECK(r.bad_strings == 0);
  CHECK(r.bad_ptrs == 0);
  CHECK(r.ended);
}

} // namespace
