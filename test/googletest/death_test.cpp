// googletest's threadsafe death tests, run inside go::run: each death test
// clone()s a child on a one-page stack of its own, which re-executes this
// program to run the dying statement (in a goroutine again). The parent waits
// for it from a goroutine whose stack has grown, and moves in torture mode.
#include <gtest/gtest-spi.h>
#include <gtest/gtest.h>

#include <goroutine/goroutine.hpp>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <unistd.h>

namespace {

// Deep enough to grow a 2 KiB stack several times.
__attribute__((noinline)) int deep(int n) {
  char buf[512];
  std::memset(buf, n & 0x7f, sizeof buf);
  asm volatile("" : : "r"(buf) : "memory");
  return n == 0 ? buf[0] : deep(n - 1) + buf[n % 512];
}

[[noreturn]] void exit_after_recursion(int code) {
  std::fprintf(stderr, "exiting after %d\n", deep(300));
  std::exit(code);
}

TEST(DeathInGoroutine, ExitCode) {
  EXPECT_GT(deep(300), 0);
  EXPECT_EXIT(exit_after_recursion(3), ::testing::ExitedWithCode(3),
              "exiting after [0-9]+");
}

TEST(DeathInGoroutine, Abort) {
  EXPECT_GT(deep(200), 0);
  EXPECT_DEATH(
      {
        deep(300);
        std::fprintf(stderr, "about to abort\n");
        std::abort();
      },
      "about to abort");
}

TEST(DeathInGoroutine, Signal) {
  EXPECT_EXIT(
      {
        deep(100);
        raise(SIGTERM);
      },
      ::testing::KilledBySignal(SIGTERM), "");
}

// Death tests while other goroutines keep running and moving their stacks.
TEST(DeathInGoroutine, WithBusyGoroutines) {
  std::atomic<bool> stop{false};
  go::wait_group wg;
  for (int i = 0; i < 4; ++i) {
    wg.add(1);
    go::spawn([&] {
      while (!stop.load())
        deep(150), go::yield();
      wg.done();
    });
  }
  for (int i = 0; i < 3; ++i)
    EXPECT_EXIT(exit_after_recursion(i), ::testing::ExitedWithCode(i), "");
  stop.store(true);
  wg.wait();
}

// A statement that does not die is reported as a failure, not a crash.
TEST(DeathInGoroutine, NonDeathIsAFailure) {
  EXPECT_NONFATAL_FAILURE_ON_ALL_THREADS(EXPECT_DEATH(deep(10), ""),
                                         "failed to die");
}

} // namespace

int main(int argc, char **argv) {
  testing::InitGoogleTest(&argc, argv);
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  int rc = 1;
  go::run([&] { rc = RUN_ALL_TESTS(); });
  return rc;
}
