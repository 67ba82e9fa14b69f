// C++ exceptions through moved frames, and stack moves during unwinding.
#include <catch2/catch.hpp>

#include "test_helpers.h"

#include <cstring>
#include <stdexcept>
#include <string>

namespace {

struct Unwound {
  int *count;
  int depth;
  ~Unwound() {
    // A destructor that itself needs a lot of stack: the stack moves while
    // the exception is being propagated.
    *count += test::burn<600>(200, depth | 1) > 0 ? 1 : 0;
  }
};

struct Payload : std::runtime_error {
  explicit Payload(int d)
      : std::runtime_error("depth " + std::to_string(d)), depth(d) {}
  int depth;
};

__attribute__((noinline)) void throw_from(int depth, int *count, int *visited,
                                          size_t *deepest) {
  Unwound guard{count, depth};
  char buf[400];
  std::memset(buf, 1, sizeof buf);
  test::keep(buf);
  *visited += buf[depth % 400];
  if (depth == 0) {
    *deepest = go::stack_size();
    throw Payload(buf[0] + 41);
  }
  throw_from(depth - 1, count, visited, deepest);
}

TEST_CASE("exceptions unwind through moved frames, with moves during unwinding",
          "[exceptions]") {
  struct Result {
    std::string what;
    int depth = 0, destroyed = 0, visited = 0;
    size_t stack = 0;
  };
  const Result r = test::in_goroutine([] {
    Result res;
    try {
      throw_from(1500, &res.destroyed, &res.visited, &res.stack);
    } catch (const Payload &p) {
      res.what = p.what();
      res.depth = p.depth;
    }
    return res;
  });
  CHECK(r.what == "depth 42");
  CHECK(r.depth == 42);
  CHECK(r.destroyed == 1501); // every frame's destructor ran
  CHECK(r.visited == 1501);
  // The stack really did grow (measured at the deepest point: once the
  // exception is caught, a preemption may have shrunk it again).
  CHECK(r.stack >= 1024 * 1024);
}

// An exception caught and rethrown at several levels while the stack moves.
__attribute__((noinline)) int rethrow_chain(int depth) {
  char buf[256];
  std::memset(buf, 2, sizeof buf);
  test::keep(buf);
  if (depth == 0)
    throw std::out_of_range("bottom");
  try {
    return rethrow_chain(depth - 1) + buf[3];
  } catch (std::out_of_range &e) {
    test::burn<600>(50); // grow or move inside the handler
    if (depth % 100 == 0)
      throw std::out_of_range(std::string(e.what()) + "+");
    throw;
  }
}

TEST_CASE("catch, grow inside the handler, rethrow", "[exceptions]") {
  const std::string what = test::in_goroutine([] {
    try {
      rethrow_chain(1000);
    } catch (const std::out_of_range &e) {
      return std::string(e.what());
    }
    return std::string("not thrown");
  });
  CHECK(what == "bottom++++++++++"); // one '+' per multiple of 100 in 100..1000
}

// std::exception_ptr carried across a stack move.
TEST_CASE("exception_ptr survives stack moves", "[exceptions]") {
  const std::string what = test::in_goroutine([] {
    std::exception_ptr saved;
    try {
      throw std::logic_error("kept");
    } catch (...) {
      saved = std::current_exception();
    }
    test::burn<600>(3000);
    try {
      std::rethrow_exception(saved);
    } catch (const std::logic_error &e) {
      return std::string(e.what());
    }
    return std::string();
  });
  CHECK(what == "kept");
}

} // namespace
