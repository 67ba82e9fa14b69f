// Stack traces (go::stack_trace, like Go's runtime.Stack) and memory
// statistics as stacks grow and shrink. SIGQUIT's dump of every goroutine
// ends the process, so fatal_test.cpp watches it from outside.
#include <catch2/catch.hpp>

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>
#include <unistd.h>

#include "test_helpers.h"

using Catch::Matchers::Contains;

namespace {

// Each parks in its own named function, so a trace must name it.
__attribute__((noinline)) void parked_on_chan(go::chan<int> c) {
  c.recv();
  test::keep(&c); // not a tail call: the frame stays
}

__attribute__((noinline)) void parked_on_mutex(go::mutex &mu) {
  mu.lock();
  mu.unlock();
  test::keep(&mu);
}

__attribute__((noinline)) void parked_in_select(go::chan<int> a,
                                                go::chan<int> b) {
  int v = 0;
  go::select(go::recv_case(a, [&](std::optional<int>) { v = 1; }),
             go::recv_case(b, [&](std::optional<int>) { v = 2; }));
  test::keep(&v);
}

// Runs on another P calling functions all the time: stopping the world
// stops it at a function entry.
__attribute__((noinline)) int busy_leaf(int i) {
  test::keep(&i);
  return i + 1;
}
__attribute__((noinline)) void busy_on_other_p(std::atomic<bool> &stop) {
  int n = 0;
  while (!stop.load(std::memory_order_relaxed))
    n = busy_leaf(n);
  test::keep(&n);
}

__attribute__((noinline)) std::string trace_at_depth(int depth) {
  char buf[256];
  buf[0] = static_cast<char>(depth);
  test::keep(buf);
  if (depth == 0)
    return go::stack_trace();
  std::string t = trace_at_depth(depth - 1);
  test::keep(buf);
  return t;
}

// The text of the trace of goroutine id in a go::stack_trace(true) dump.
std::string trace_of(const std::string &dump, uint64_t id) {
  const std::string header = "goroutine " + std::to_string(id) + " [";
  size_t at = dump.find(header);
  if (at != std::string::npos && at != 0 && dump[at - 1] != '\n')
    at = std::string::npos;
  if (at == std::string::npos)
    return "";
  const size_t end = dump.find("\n\n", at);
  return dump.substr(at, end == std::string::npos ? end : end - at);
}

} // namespace

TEST_CASE("go::stack_trace names the calling goroutine's functions, with "
          "file:line",
          "[trace]") {
  uint64_t id = 0;
  const std::string t = test::in_goroutine([&] {
    id = go::goroutine_id();
    return trace_at_depth(3);
  });
  CHECK(t.starts_with("goroutine " + std::to_string(id) + " [running]:\n"));
  // Four frames of the recursion, each with this file's line.
  size_t frames = 0;
  // (std::string's ABI tag shows in the name: trace_at_depth[abi:cxx11].)
  for (size_t at = t.find("trace_at_depth"); at != std::string::npos;
       at = t.find("trace_at_depth", at + 1)) {
    ++frames;
    CHECK_THAT(t.substr(at, 200), Contains("trace_test.cpp:"));
  }
  CHECK(frames == 4);
  // The runtime's own frames up to the call are left out.
  CHECK(t.find("goroutine_systemstack") == std::string::npos);
  CHECK(t.find("goroutine_stack_trace") == std::string::npos);
}

TEST_CASE("go::stack_trace(true) walks parked, runnable and preempted "
          "goroutines from their saved context",
          "[trace]") {
  struct Result {
    std::string dump;
    uint64_t main_id = 0;
    std::atomic<uint64_t> chan_id{0}, mutex_id{0}, select_id{0}, busy_id{0};
    bool all_finished = false;
  };
  Result r;
  test::in_goroutine([&r] {
    r.main_id = go::goroutine_id();
    go::chan<int> c, a, b;
    go::mutex mu;
    std::atomic<bool> stop{false};
    mu.lock();
    go::wait_group wg;
    wg.add(4);
    go::spawn([&] {
      r.chan_id = go::goroutine_id();
      parked_on_chan(c);
      wg.done();
    });
    go::spawn([&] {
      r.mutex_id = go::goroutine_id();
      parked_on_mutex(mu);
      wg.done();
    });
    go::spawn([&] {
      r.select_id = go::goroutine_id();
      parked_in_select(a, b);
      wg.done();
    });
    go::spawn([&] {
      r.busy_id = go::goroutine_id();
      busy_on_other_p(stop);
      wg.done();
    });
    // Let the three reach their parking places.
    test::wait_until(
        [&] { return r.chan_id && r.mutex_id && r.select_id && r.busy_id; });
    go::sleep_for(std::chrono::milliseconds(20));
    r.dump = go::stack_trace(true);
    // The world runs again: every goroutine can finish.
    stop.store(true);
    c.send(1);
    mu.unlock();
    a.send(2);
    wg.wait();
    r.all_finished = test::wait_until([] { return go::num_goroutine() == 1; });
  });
  INFO(r.dump);
  CHECK(r.all_finished);
  CHECK(r.dump.starts_with("goroutine " + std::to_string(r.main_id) +
                           " [running]:\n"));

  const std::string chan = trace_of(r.dump, r.chan_id);
  CHECK_THAT(chan, Contains("[chan receive]:\n"));
  CHECK_THAT(chan, Contains("parked_on_chan(go::chan<int>)\n"));
  CHECK_THAT(chan, Contains("goroutine_chan_recv\n"));
  // chan::recv is inlined into parked_on_chan: a frame of its own all the
  // same, and parked_on_chan's line is the call in this file.
  CHECK_THAT(chan, Contains("go::chan<int>::recv() const\n\t"));
  CHECK_THAT(chan, Contains("chan.hpp:"));
  CHECK_THAT(chan, Contains("parked_on_chan(go::chan<int>)\n\t/"));
  CHECK_THAT(chan, Contains("trace_test.cpp:"));
  // Go's last line: the go statement's function (go::spawn looked through),
  // its goroutine and its line in this file.
  const size_t created = chan.find("\ncreated by ");
  REQUIRE(created != std::string::npos);
  const std::string created_by = chan.substr(created);
  CHECK_THAT(created_by,
             Contains(" in goroutine " + std::to_string(r.main_id) + "\n\t"));
  CHECK_THAT(created_by, Contains("trace_test.cpp:"));
  CHECK_THAT(created_by, !Contains("go::spawn"));

  const std::string mutex = trace_of(r.dump, r.mutex_id);
  CHECK_THAT(mutex, Contains("[sync.Mutex.Lock]:\n"));
  CHECK_THAT(mutex, Contains("parked_on_mutex(go::mutex&)\n"));

  const std::string select = trace_of(r.dump, r.select_id);
  CHECK_THAT(select, Contains("[select]:\n"));
  CHECK_THAT(select, Contains("parked_in_select("));

  // Stopped at a function entry on its own P.
  const std::string busy = trace_of(r.dump, r.busy_id);
  CHECK_THAT(busy, Contains("[runnable]:\n"));
  CHECK_THAT(busy, Contains("busy_on_other_p(std::atomic<bool>&)\n"));
}

TEST_CASE("stopping the world takes the P of a goroutine in go::blocking; "
          "the goroutine gets a P back when it returns",
          "[trace]") {
  struct Result {
    std::string dump;
    uint64_t blocked_id = 0;
    bool returned = false;
  };
  Result r;
  test::in_goroutine([&r] {
    std::atomic<bool> inside{false};
    go::wait_group wg;
    wg.add(1);
    go::spawn([&] {
      r.blocked_id = go::goroutine_id();
      go::blocking([&] {
        inside.store(true);
        usleep(100'000); // a call that blocks the thread
      });
      r.returned = true; // runs on a P again
      wg.done();
    });
    test::wait_until([&] { return inside.load(); });
    r.dump = go::stack_trace(true);
    wg.wait();
  });
  INFO(r.dump);
  CHECK(r.returned);
  const std::string blocked = trace_of(r.dump, r.blocked_id);
  CHECK_THAT(blocked, Contains("[running]:\n"));
  CHECK_THAT(blocked,
             Contains("goroutine running on other thread; stack unavailable"));
}

TEST_CASE("a goroutine that has not started shows its entry function",
          "[trace]") {
  // Spawned from this plain thread between two go::runs, it cannot start
  // until the next one.
  std::atomic<bool> ran{false};
  const uint64_t id = goroutine_spawn(
      [](void *p) { static_cast<std::atomic<bool> *>(p)->store(true); }, &ran);
  const std::string dump = go::stack_trace(true);
  INFO(dump);
  CHECK(dump.starts_with("thread (no goroutine) [running]:\n"));
  const std::string queued = trace_of(dump, id);
  CHECK_THAT(queued, Contains("[runnable]:\n"));
  CHECK_THAT(queued, Contains("(not started)"));
  CHECK_FALSE(ran.load());
  test::in_goroutine([&] { test::wait_until([&] { return ran.load(); }); });
  CHECK(ran.load());
}

TEST_CASE("go::stack_trace(true) from many goroutines at once neither "
          "deadlocks nor loses a goroutine",
          "[trace]") {
  const int traced = test::in_goroutine([] {
    std::atomic<int> ok{0};
    go::wait_group wg, traced;
    wg.add(4);
    traced.add(4);
    for (int i = 0; i < 4; ++i) {
      go::spawn([&] {
        for (int k = 0; k < 5; ++k) {
          const std::string dump = go::stack_trace(true);
          // Every trace sees the four tracers and main (they stay until all
          // are done).
          int headers = 0;
          for (size_t at = dump.find("goroutine "); at != std::string::npos;
               at = dump.find("goroutine ", at + 1))
            headers += at == 0 || dump[at - 1] == '\n';
          if (headers >= 5)
            ok.fetch_add(1);
          go::yield();
        }
        traced.done();
        traced.wait();
        wg.done();
      });
    }
    wg.wait();
    return ok.load();
  });
  CHECK(traced == 20);
}

TEST_CASE("memory statistics follow stacks as they grow and shrink",
          "[trace]") {
  struct Snapshots {
    go::MemStats before, grown, shrunk;
    size_t grown_size = 0;
  };
  const Snapshots s = test::in_goroutine([] {
    Snapshots r;
    r.before = go::read_mem_stats();
    // 64 frames of 1 KiB: 2 KiB -> 128 KiB, growth by growth.
    struct Probe {
      static __attribute__((noinline)) int deep(int n, Snapshots &r) {
        char buf[1024];
        std::memset(buf, n, sizeof buf);
        test::keep(buf);
        if (n == 0) {
          r.grown = go::read_mem_stats();
          r.grown_size = go::stack_size();
          return buf[0];
        }
        return deep(n - 1, r) + buf[1];
      }
    };
    Probe::deep(64, r);
    for (int i = 0; i < 16; ++i)
      go::yield(); // safe points: the stack halves each time
    r.shrunk = go::read_mem_stats();
    return r;
  });
  const size_t grown_class = static_cast<size_t>(__builtin_ctzll(s.grown_size) -
                                                 9); // 512 << class == size
  CHECK(s.grown_size >= 64 * 1024);
  CHECK(s.grown.num_stack_grow > s.before.num_stack_grow);
  CHECK(s.grown.stack_bytes_copied > s.before.stack_bytes_copied);
  CHECK(s.grown.stack_inuse >= s.before.stack_inuse + s.grown_size / 2);
  CHECK(s.grown.stacks_by_size[grown_class] >=
        s.before.stacks_by_size[grown_class] + 1);
  CHECK(s.grown.stack_sys >= s.grown.stack_inuse);
  CHECK(s.shrunk.num_stack_shrink > s.grown.num_stack_shrink);
  CHECK(s.shrunk.stack_inuse < s.grown.stack_inuse);
  CHECK(s.shrunk.stacks_by_size[grown_class] <
        s.grown.stacks_by_size[grown_class]);
  CHECK(s.shrunk.sys == s.shrunk.stack_sys + s.shrunk.heap_sys);
}

TEST_CASE("stacks by size add up to stack_inuse, parked goroutines included",
          "[trace]") {
  struct Snapshot {
    go::MemStats with_parked, after;
  };
  const Snapshot s = test::in_goroutine([] {
    Snapshot r;
    go::chan<int> release;
    go::wait_group wg;
    for (int i = 0; i < 100; ++i) {
      wg.add(1);
      go::spawn([&, i] {
        test::burn<512>(i % 8); // some grow, some do not
        release.recv();         // parked (compacted with compactpark=1)
        wg.done();
      });
    }
    test::wait_until([] { return go::num_goroutine() == 101; });
    go::sleep_for(std::chrono::milliseconds(20));
    r.with_parked = go::read_mem_stats();
    release.close();
    wg.wait();
    r.after = go::read_mem_stats();
    return r;
  });
  for (const go::MemStats *m : {&s.with_parked, &s.after}) {
    uint64_t bytes = 0, stacks = 0;
    for (size_t i = 0; i < m->stacks_by_size.size(); ++i) {
      bytes += m->stacks_by_size[i] * go::MemStats::stack_class_size(i);
      stacks += m->stacks_by_size[i];
    }
    CHECK(bytes == m->stack_inuse);
    CHECK(stacks >= 1); // at least the reader's own
  }
  CHECK(s.with_parked.stack_inuse > s.after.stack_inuse);
}

TEST_CASE("heap statistics see what malloc hands out", "[trace]") {
  const go::MemStats before = go::read_mem_stats();
  auto *block = static_cast<char *>(std::malloc(8 << 20));
  std::memset(block, 1, 8 << 20);
  test::keep(block);
  const go::MemStats during = go::read_mem_stats();
  std::free(block);
  const go::MemStats after = go::read_mem_stats();
  CHECK(during.heap_alloc >= before.heap_alloc + (8 << 20));
  CHECK(during.heap_sys >= during.heap_inuse);
  CHECK(during.heap_inuse >= during.heap_alloc);
  CHECK(after.heap_alloc + (8 << 20) <= during.heap_alloc + (1 << 20));
}
