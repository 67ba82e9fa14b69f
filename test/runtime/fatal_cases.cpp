// A program that ends the way a scenario says, for fatal_test.cpp to watch
// from the outside: fatal errors end the process, so each runs in a child.
#include <goroutine/goroutine.hpp>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <stdexcept>
#include <string>
#include <thread>
#include <unistd.h>

namespace {

__attribute__((noinline)) int runaway(int n, char *up) {
  char b[4096];
  std::memset(b, n, sizeof b);
  b[1] = up[1];
  return runaway(n + 1, b) + b[n % 4096];
}

// Not instrumented: it neither checks nor grows the stack, and its frame is
// far larger than the reserve its caller guarantees.
__attribute__((no_split_stack, noinline)) int unchecked_big_frame() {
  volatile char big[64 * 1024];
  for (size_t i = 0; i < sizeof big; i += 512)
    big[i] = 1;
  return big[100];
}

__attribute__((noinline)) void thrower(int n) {
  if (n == 0)
    throw std::runtime_error("boom from thrower");
  thrower(n - 1);
  std::puts(""); // not a tail call
}

__attribute__((noinline)) void spawned_thrower(int n) {
  if (n == 0)
    throw std::runtime_error("boom from a spawned goroutine");
  spawned_thrower(n - 1);
  std::puts(""); // not a tail call
}

__attribute__((noinline)) void quit_parked_receiver(go::chan<int> c) {
  c.recv();
  std::puts(""); // not a tail call
}

__attribute__((noinline)) void quit_parked_sleeper() {
  go::sleep_for(std::chrono::seconds(60));
  std::puts("");
}

// Has a frame (its address is taken), so it checks the stack on entry: a
// loop calling it can be preempted there.
__attribute__((noinline)) int quit_busy_leaf(int i) {
  asm volatile("" : : "r"(&i) : "memory");
  return i * 3 + 1;
}

__attribute__((noinline)) void quit_busy_loop() {
  volatile int n = 0;
  for (;;)
    n = quit_busy_leaf(n);
}

// Grows the stack by 1 KiB per call.
__attribute__((noinline)) int logged_recursion(int n) {
  char buf[1024];
  std::memset(buf, n, sizeof buf);
  asm volatile("" : : "r"(buf) : "memory");
  return n == 0 ? buf[0] : logged_recursion(n - 1) + buf[1];
}

} // namespace

int main(int argc, char **argv) {
  const std::string scenario = argc > 1 ? argv[1] : "";
  // A scenario that should end the program but hangs instead dies of
  // SIGALRM, which the test reports, rather than running into its timeout.
  alarm(20);
  if (scenario == "stack-overflow") {
    go::set_max_stack(1 << 20);
    go::run([] {
      char c[2] = {0, 0};
      std::printf("%d\n", runaway(0, c));
    });
  } else if (scenario == "stack-overflow-set-inside") {
    go::run([] {
      go::set_max_stack(1 << 21); // from a goroutine, on its small stack
      char c[2] = {0, 0};
      std::printf("%d\n", runaway(0, c));
    });
  } else if (scenario == "stack-overflow-default") {
    go::run([] {
      char c[2] = {0, 0};
      std::printf("%d\n", runaway(0, c));
    });
  } else if (scenario == "guard-page") {
    go::run([] { std::printf("%d\n", unchecked_big_frame()); });
  } else if (scenario == "nested-run") {
    go::run([] { go::run([] {}); });
  } else if (scenario == "uncaught-exception") {
    go::run([] { thrower(20); });
  } else if (scenario == "deadlock-chan") {
    go::run([] {
      go::chan<int> c, other;
      go::spawn([other] { other.recv(); }); // asleep too
      go::yield();
      std::printf("%d\n", c.recv().value_or(-1)); // nobody sends
    });
  } else if (scenario == "deadlock-waitgroup") {
    go::run([] {
      go::wait_group wg;
      wg.add(2);
      go::spawn([&wg] { wg.done(); });
      wg.wait(); // one done() short
    });
  } else if (scenario == "park-many-big-stacks") {
    // 10,000 goroutines with 256 KiB stacks (GOROUTINE_DEBUG=stackmin=262144)
    // fill a band's upper half to its end, then park and are compacted.
    go::run([] {
      constexpr int kGoroutines = 10'000;
      go::chan<int> block;
      go::wait_group wg;
      wg.add(kGoroutines);
      for (int i = 0; i < kGoroutines; ++i)
        go::spawn([&wg, block] {
          wg.done();
          block.recv();
        });
      wg.wait();
      block.close();
      std::printf("parked and released %d\n", kGoroutines);
    });
  } else if (scenario == "yield-in-signal-handler") {
    go::run([] {
      std::signal(SIGUSR1, [](int) { go::yield(); });
      std::raise(SIGUSR1);
    });
  } else if (scenario == "chan-negative-capacity") {
    go::run([] { go::chan<int> c(-1); });
  } else if (scenario == "close-closed") {
    go::run([] {
      go::chan<int> c;
      c.close();
      c.close();
    });
  } else if (scenario == "close-nil") {
    go::run([] { go::chan<int>(nullptr).close(); });
  } else if (scenario == "send-closed") {
    go::run([] {
      go::chan<int> c(1);
      c.close();
      c.send(1);
    });
  } else if (scenario == "negative-waitgroup") {
    go::run([] {
      go::wait_group wg;
      wg.add(1);
      wg.done();
      wg.done();
    });
  } else if (scenario == "unlock-unlocked") {
    go::run([] {
      go::mutex mu;
      mu.lock();
      mu.unlock();
      mu.unlock();
    });
  } else if (scenario == "goroutine-exception") {
    go::run([] {
      go::wait_group wg;
      wg.add(1);
      go::spawn([&wg] {
        spawned_thrower(10);
        wg.done();
      });
      wg.wait();
    });
  } else if (scenario == "thread-waits-on-waitgroup") {
    go::run([] {
      go::wait_group wg;
      wg.add(1);
      // A plain thread cannot park: it must get an error, not a crash.
      std::thread waiter([&wg] { wg.wait(); });
      go::blocking([&] { waiter.join(); });
    });
  } else if (scenario == "sigquit") {
    // SIGQUIT prints every goroutine (parked, sleeping, running on another
    // thread) and exits with status 2, as in Go.
    go::run([] {
      go::chan<int> c;
      go::spawn(quit_parked_receiver, c);
      go::spawn(quit_parked_sleeper);
      go::spawn(quit_busy_loop);
      go::sleep_for(std::chrono::milliseconds(50));
      std::fputs("raising SIGQUIT\n", stderr);
      raise(SIGQUIT);
      go::sleep_for(std::chrono::seconds(60));
    });
  } else if (scenario == "stacktrace-log") {
    // GOROUTINE_DEBUG=stacktrace=1 logs each growth and shrink.
    go::run([] {
      logged_recursion(40);
      for (int i = 0; i < 8; ++i)
        go::yield();
    });
  } else if (scenario == "ticker-zero") {
    go::run([] {
      go::ticker t(std::chrono::milliseconds(0));
      std::puts("not reached");
    });
  } else if (scenario == "ticker-negative") {
    go::run([] {
      go::ticker t(std::chrono::milliseconds(-5));
      std::puts("not reached");
    });
  } else if (scenario == "local-keys") {
    go::run([] {
      // Keys are never reused: destroyed go::locals count too.
      for (int i = 0; i < GOROUTINE_MAX_LOCAL_KEYS; ++i)
        go::local<int> l;
      std::puts("made the most keys");
      std::fflush(stdout);
      go::local<int> one_more;
      std::puts("not reached");
    });
  } else if (scenario == "ok") {
    go::run([] { std::puts("ok"); });
  } else {
    std::fprintf(stderr, "unknown scenario %s\n", scenario.c_str());
    return 100;
  }
  return 0;
}
