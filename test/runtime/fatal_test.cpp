// Fatal errors print what Go's runtime would, with a stack trace, and exit
// with status 2. Each scenario runs in a child process (fatal_cases.cpp).
#include <catch2/catch.hpp>

#include "test_helpers.h"

using Catch::Matchers::Contains;

namespace {

// The id N of the first "goroutine N [" trace header in err, or 0 if none.
unsigned long trace_header_id(const std::string &err) {
  for (size_t at = err.find("goroutine "); at != std::string::npos;
       at = err.find("goroutine ", at + 1)) {
    size_t i = at + 10, digits = 0;
    unsigned long id = 0;
    for (; i < err.size() && err[i] >= '0' && err[i] <= '9'; ++i, ++digits)
      id = id * 10 + static_cast<unsigned long>(err[i] - '0');
    if (digits > 0 && err.compare(i, 2, " [") == 0)
      return id;
  }
  return 0;
}

} // namespace

TEST_CASE("exceeding the maximum stack size is a clear fatal error",
          "[fatal]") {
  const test::ChildResult r = test::run_fatal_case("stack-overflow");
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err,
             Contains("runtime: goroutine stack exceeds 1048576-byte limit"));
  CHECK_THAT(r.err, Contains("fatal error: stack overflow"));
  CHECK_THAT(r.err, Contains("goroutine 1 [running]:"));
  CHECK_THAT(r.err, Contains("runaway"));
}

TEST_CASE("go::set_max_stack works from inside a goroutine", "[fatal]") {
  const test::ChildResult r = test::run_fatal_case("stack-overflow-set-inside");
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Contains("goroutine stack exceeds 2097152-byte limit"));
}

TEST_CASE("the maximum stack size can be set with GOROUTINE_DEBUG", "[fatal]") {
  const test::ChildResult r = test::run_fatal_case(
      "stack-overflow-default", "GOROUTINE_DEBUG=maxstack=4194304");
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Contains("goroutine stack exceeds 4194304-byte limit"));
  CHECK_THAT(r.err, Contains("fatal error: stack overflow"));
}

TEST_CASE("writing below a stack hits the guard page", "[fatal]") {
  const test::ChildResult r =
      test::run_fatal_case("guard-page", "GOROUTINE_DEBUG=guardpages=1");
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Contains("wrote below its stack"));
  CHECK_THAT(r.err, Contains("fatal error: stack overflow"));
  CHECK_THAT(r.err, Contains("unchecked_big_frame"));
}

TEST_CASE("bad GOROUTINE_DEBUG values are named", "[fatal]") {
  test::ChildResult r =
      test::run_fatal_case("ok", "GOROUTINE_DEBUG=stackmove=abc");
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Contains("fatal error: GOROUTINE_DEBUG: stackmove=abc is "
                             "not an unsigned decimal number"));
  r = test::run_fatal_case("ok", "GOROUTINE_DEBUG=stackmin=3000");
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Contains("stackmin=3000 must be a power of two"));
  r = test::run_fatal_case("ok", "GOROUTINE_DEBUG=nosuchkey=1");
  CHECK(r.exit_code == 0);
  CHECK_THAT(r.err, Contains("unknown GOROUTINE_DEBUG setting nosuchkey"));
  CHECK(r.out == "ok\n");
}

TEST_CASE("stacks fill a band to its end and park there", "[fatal]") {
  // The last span of a band once ended at the band's end, giving its top
  // stack the top offset 0, and compaction crashed with no message.
  for (const char *debug : {"GOROUTINE_DEBUG=stackmin=262144",
                            "GOROUTINE_DEBUG=stackmin=262144,compactpark=1",
                            "GOROUTINE_DEBUG=stackmin=262144,guardpages=1"}) {
    INFO(debug);
    const test::ChildResult r =
        test::run_fatal_case("park-many-big-stacks", debug);
    CHECK(r.exit_code == 0);
    CHECK(r.out == "parked and released 10000\n");
  }
}

TEST_CASE("go::yield in a signal handler is refused", "[fatal]") {
  const test::ChildResult r = test::run_fatal_case("yield-in-signal-handler");
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Contains("fatal error: go::yield or a blocking operation "
                             "in a signal handler"));
}

TEST_CASE("every setting is a plain decimal number in its range", "[fatal]") {
  struct Case {
    const char *env, *message; // message: nullptr if accepted
  };
  for (const Case c : {
           // Signs, spaces, base prefixes and empty values are refused.
           Case{"GOROUTINE_DEBUG=stackmove=-5",
                "GOROUTINE_DEBUG: stackmove=-5 is not an unsigned decimal "
                "number"},
           Case{"GOROUTINE_DEBUG=stackmove=+5", "stackmove=+5 is not an"},
           Case{"GOROUTINE_DEBUG=stackmove= 4", "stackmove= 4 is not an"},
           Case{"GOROUTINE_DEBUG=stackmove=4 ", "stackmove=4  is not an"},
           Case{"GOROUTINE_DEBUG=stackmove=0x10", "stackmove=0x10 is not an"},
           Case{"GOROUTINE_DEBUG=stackmove=", "stackmove= is not an"},
           Case{"GOROUTINE_DEBUG=preemptms=-3",
                "GOROUTINE_DEBUG: preemptms=-3 is not an unsigned decimal "
                "number"},
           // Overflow and each setting's range.
           Case{"GOROUTINE_DEBUG=stackmove=18446744073709551616",
                "GOROUTINE_DEBUG: stackmove=18446744073709551616 must be "
                "between 0 and 18446744073709551615"},
           Case{"GOROUTINE_DEBUG=compactpark=99999999999999999999999",
                "compactpark=99999999999999999999999 must be between 0 and "},
           Case{"GOROUTINE_DEBUG=preemptms=0",
                "GOROUTINE_DEBUG: preemptms=0 must be between 1 and 86400000"},
           Case{"GOROUTINE_DEBUG=preemptms=86400001",
                "preemptms=86400001 must be between 1 and 86400000"},
           Case{"GOROUTINE_DEBUG=guardpages=2",
                "GOROUTINE_DEBUG: guardpages=2 must be 0 or 1"},
           Case{"GOROUTINE_DEBUG=maxstack=512",
                "GOROUTINE_DEBUG: maxstack=512 must be between 1024 and "},
           Case{"GOROUTINE_MAXPROCS=-1",
                "fatal error: GOROUTINE_MAXPROCS=-1 is not an unsigned "
                "decimal number"},
           Case{"GOROUTINE_MAXPROCS= 4", "GOROUTINE_MAXPROCS= 4 is not an"},
           Case{"GOROUTINE_MAXPROCS=4 ", "GOROUTINE_MAXPROCS=4  is not an"},
           Case{"GOROUTINE_MAXPROCS=0",
                "fatal error: GOROUTINE_MAXPROCS=0 must be between 1 and 1024"},
           Case{"GOROUTINE_MAXPROCS=1025",
                "GOROUTINE_MAXPROCS=1025 must be between 1 and 1024"},
           Case{"GOROUTINE_MAXPROCS=18446744073709551617",
                "GOROUTINE_MAXPROCS=18446744073709551617 must be between 1 "
                "and 1024"},
           // Accepted: an empty GOROUTINE_MAXPROCS is unset, as in Go.
           Case{"GOROUTINE_MAXPROCS=", nullptr},
           Case{"GOROUTINE_MAXPROCS=3", nullptr},
           Case{"GOROUTINE_MAXPROCS=1024", nullptr},
           Case{"GOROUTINE_DEBUG=stackmove=0,preemptms=1,compactpark=0",
                nullptr},
           Case{"GOROUTINE_DEBUG=stackmove=18446744073709551615,"
                "preemptms=86400000,guardpages=0,stacktrace=0,stackpoison=0,"
                "stackmin=1024,maxstack=1073741824",
                nullptr},
       }) {
    INFO(c.env);
    const test::ChildResult r = test::run_fatal_case("ok", c.env);
    if (c.message == nullptr) {
      CHECK(r.exit_code == 0);
      CHECK(r.out == "ok\n");
      CHECK(r.err.empty());
    } else {
      CHECK(r.exit_code == 2);
      CHECK_THAT(r.err, Contains(c.message));
      CHECK(r.out.empty());
    }
  }
}

TEST_CASE("go::run inside a goroutine is refused", "[fatal]") {
  const test::ChildResult r = test::run_fatal_case("nested-run");
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Contains("fatal error: go::run called from a goroutine"));
}

TEST_CASE("an exception leaving a goroutine panics with its what()",
          "[fatal]") {
  const test::ChildResult r = test::run_fatal_case("uncaught-exception");
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Contains("panic: std::runtime_error: boom from thrower"));
  CHECK_THAT(r.err, Contains("goroutine 1 [running]:"));
  CHECK_THAT(r.err, Contains("thrower(int)")); // the throw site is in the trace
}

TEST_CASE("all goroutines asleep on channels is a deadlock", "[fatal]") {
  const test::ChildResult r = test::run_fatal_case("deadlock-chan");
  CHECK(r.signal == 0); // not killed by the scenario's alarm: it ended
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err,
             Contains("fatal error: all goroutines are asleep - deadlock!"));
  CHECK_THAT(r.err, Contains("goroutine 1 ["));
  CHECK(r.out.empty()); // the receive never returned
}

TEST_CASE("waiting on a wait_group nobody finishes is a deadlock", "[fatal]") {
  const test::ChildResult r = test::run_fatal_case("deadlock-waitgroup");
  CHECK(r.signal == 0);
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err,
             Contains("fatal error: all goroutines are asleep - deadlock!"));
  CHECK_THAT(r.err, Contains("goroutine 1 ["));
}

TEST_CASE("misusing channels panics as in Go", "[fatal]") {
  struct Case {
    const char *scenario, *message;
  };
  for (const Case c :
       {Case{"chan-negative-capacity", "panic: makechan: size out of range"},
        Case{"close-closed", "panic: close of closed channel"},
        Case{"close-nil", "panic: close of nil channel"},
        Case{"send-closed", "panic: send on closed channel"}}) {
    INFO(c.scenario);
    const test::ChildResult r = test::run_fatal_case(c.scenario);
    CHECK(r.exit_code == 2);
    CHECK_THAT(r.err, Contains(c.message));
    CHECK(trace_header_id(r.err) == 1); // the main goroutine's trace
  }
}

TEST_CASE("a negative wait_group counter panics", "[fatal]") {
  const test::ChildResult r = test::run_fatal_case("negative-waitgroup");
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Contains("panic: sync: negative WaitGroup counter"));
  CHECK(trace_header_id(r.err) == 1);
}

TEST_CASE("a go::ticker with a non-positive period panics as Go's NewTicker "
          "does",
          "[fatal]") {
  for (const char *scenario : {"ticker-zero", "ticker-negative"}) {
    INFO(scenario);
    const test::ChildResult r = test::run_fatal_case(scenario);
    CHECK(r.exit_code == 2);
    CHECK_THAT(r.err, Contains("panic: non-positive interval for go::ticker"));
    CHECK(trace_header_id(r.err) == 1);
    CHECK(r.out.empty());
  }
}

TEST_CASE("one go::local key too many is a fatal error naming the limit",
          "[fatal]") {
  const test::ChildResult r = test::run_fatal_case("local-keys");
  CHECK(r.exit_code == 2);
  CHECK(r.out == "made the most keys\n");
  CHECK_THAT(r.err, Contains("fatal error: too many go::local keys: at most "
                             "4096 go::local objects may be created in a "
                             "process (keys are never reused)"));
  CHECK(trace_header_id(r.err) == 1);
}

TEST_CASE("unlocking an unlocked go::mutex is a fatal error", "[fatal]") {
  const test::ChildResult r = test::run_fatal_case("unlock-unlocked");
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Contains("fatal error: sync: unlock of unlocked mutex"));
  CHECK(trace_header_id(r.err) == 1);
}

TEST_CASE("a plain thread waiting on a wait_group gets a clear error",
          "[fatal]") {
  const test::ChildResult r = test::run_fatal_case("thread-waits-on-waitgroup");
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Contains("fatal error: go::wait_group::wait would block a "
                             "thread that runs no goroutine"));
}

TEST_CASE("an exception leaving a spawned goroutine panics with its what()",
          "[fatal]") {
  const test::ChildResult r = test::run_fatal_case("goroutine-exception");
  CHECK(r.signal == 0);
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Contains("panic: std::runtime_error: boom from a spawned "
                             "goroutine"));
  // The trace is the spawned goroutine's (not main's), from the throw site.
  const unsigned long id = trace_header_id(r.err);
  CHECK(id > 1);
  CHECK_THAT(r.err, Contains("[running]:"));
  CHECK_THAT(r.err, Contains("spawned_thrower(int)"));
}

TEST_CASE("SIGQUIT prints the trace of every goroutine and exits with "
          "status 2",
          "[fatal]") {
  const test::ChildResult r = test::run_fatal_case("sigquit");
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Contains("raising SIGQUIT\nSIGQUIT: quit\n"));
  // main, sleeping after the signal.
  CHECK_THAT(r.err, Contains("\ngoroutine 1 ["));
  CHECK_THAT(r.err, Contains("[chan receive]:\n"));
  CHECK_THAT(r.err, Contains("quit_parked_receiver(go::chan<int>)\n"));
  CHECK_THAT(r.err, Contains("quit_parked_sleeper()\n"));
  // Running on another thread until the world stopped it.
  CHECK_THAT(r.err, Contains("quit_busy_loop()\n"));
  CHECK_THAT(r.err, !Contains("did not stop"));
  // Four goroutines, each with a header at the start of a line.
  int headers = 0;
  for (size_t at = r.err.find("\ngoroutine "); at != std::string::npos;
       at = r.err.find("\ngoroutine ", at + 1))
    ++headers;
  CHECK(headers == 4);
}

TEST_CASE("GOROUTINE_DEBUG=stacktrace=1 logs every growth and shrink",
          "[fatal]") {
  const test::ChildResult r =
      test::run_fatal_case("stacktrace-log", "GOROUTINE_DEBUG=stacktrace=1");
  CHECK(r.exit_code == 0);
  CHECK_THAT(r.err, Contains("runtime: goroutine 1: stack grew 2048 -> 4096 "
                             "bytes"));
  CHECK_THAT(r.err, Contains("stack grew 32768 -> 65536 bytes"));
  CHECK_THAT(r.err, Contains("runtime: goroutine 1: stack shrank 65536 -> "
                             "32768 bytes"));
}
