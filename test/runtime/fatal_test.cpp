// Fatal errors print what Go's runtime would, with a stack trace, and exit
// with status 2. Each scenario runs in a child process (fatal_cases.cpp).
#include <catch2/catch.hpp>

#include "test_helpers.h"

using Catch::Matchers::Contains;

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
  CHECK_THAT(r.err, Contains("GOROUTINE_DEBUG: stackmove=abc is not a number"));
  r = test::run_fatal_case("ok", "GOROUTINE_DEBUG=stackmin=3000");
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Contains("stackmin=3000 must be a power of two"));
  r = test::run_fatal_case("ok", "GOROUTINE_DEBUG=nosuchkey=1");
  CHECK(r.exit_code == 0);
  CHECK_THAT(r.err, Contains("unknown GOROUTINE_DEBUG setting nosuchkey"));
  CHECK(r.out == "ok\n");
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
