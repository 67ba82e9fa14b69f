// Stack addresses kept as integers (issue 12 item 4): QuickJS records
// __builtin_frame_address(0) as its stack top in its heap-allocated runtime
// and compares the current frame address with it on every call
// (js_check_stack_overflow). Goroutine stacks move; the plugin turns those
// integers into stable stack coordinates (plugin/StableFrameAddress.cpp), so
// the check keeps working across moves and still catches real overflow.
#include <catch2/catch.hpp>

#include "test_helpers.h"

#include <cstdint>
#include <memory>

namespace {

// How the interpreter finds its stack pointer: each idiom the plugin knows,
// and a probe local converted by hand (the plugin leaves probes alone).
enum class Probe { FrameAddress, InlineAsm, ByHand };

template <Probe P>
inline __attribute__((always_inline)) uintptr_t stack_pointer() {
  if constexpr (P == Probe::FrameAddress) {
    return reinterpret_cast<uintptr_t>(__builtin_frame_address(0));
  } else if constexpr (P == Probe::InlineAsm) {
    uintptr_t sp;
    asm volatile("mov %%rsp, %0" : "=r"(sp));
    return sp;
  } else {
    char probe; // the address is the point, as in conservative collectors
    return go::stable_stack_address(&probe);
  }
}

// QuickJS's JSRuntime, as far as the check goes.
struct Runtime {
  size_t stack_size = 0;
  uintptr_t stack_top = 0;
  uintptr_t stack_limit = 0;
  int overflows = 0; // "InternalError: stack overflow" thrown
};

// JS_UpdateStackTop.
template <Probe P>
__attribute__((noinline)) void update_stack_top(Runtime *rt) {
  rt->stack_top = stack_pointer<P>();
  rt->stack_limit = rt->stack_size == 0 ? 0 : rt->stack_top - rt->stack_size;
}

// JS_NewRuntime: the top is recorded once, at start-up.
template <Probe P> __attribute__((noinline)) Runtime *new_runtime(size_t size) {
  auto *rt = new Runtime;
  rt->stack_size = size;
  update_stack_top<P>(rt);
  return rt;
}

// js_check_stack_overflow.
template <Probe P>
inline __attribute__((always_inline)) bool check_stack_overflow(Runtime *rt,
                                                                size_t extra) {
  const uintptr_t sp = stack_pointer<P>() - extra;
  return sp < rt->stack_limit;
}

// JS_CallInternal: checks on every call, then recurses with a frame of its
// own. Returns the depth reached, or -1 once the check reported overflow.
template <Probe P> __attribute__((noinline)) int call(Runtime *rt, int depth) {
  if (check_stack_overflow<P>(rt, 0)) {
    ++rt->overflows;
    return -1;
  }
  volatile char frame[200];
  frame[0] = static_cast<char>(depth);
  test::keep(const_cast<char *>(frame));
  if (depth == 0)
    return 0;
  const int r = call<P>(rt, depth - 1);
  return r < 0 ? r : r + 1 + (frame[0] - static_cast<char>(depth));
}

template <Probe P> void survives_moves() {
  struct Result {
    int wrong = 0, right = 0;
    uint64_t grown = 0;
  };
  const Result r = test::in_goroutine([] {
    const go::MemStats before = go::read_mem_stats();
    std::unique_ptr<Runtime> rt(new_runtime<P>(1 << 20));
    Result res;
    for (int round = 0; round < 30; ++round) {
      // 40 deep moves a 2 KiB stack; yields let it shrink back.
      for (int depth : {40, 3, 200, 45, 1}) {
        if (call<P>(rt.get(), depth) == depth)
          ++res.right;
        else
          ++res.wrong;
      }
      for (int i = 0; i < 3; ++i)
        go::yield();
    }
    res.wrong += rt->overflows;
    res.grown = go::read_mem_stats().num_stack_grow - before.num_stack_grow;
    return res;
  });
  CHECK(r.wrong == 0);
  CHECK(r.right == 150);
  CHECK(r.grown > 0);
}

template <Probe P> void reports_real_overflow() {
  struct Result {
    int reached = 0, overflows = 0, after = 0;
  };
  const Result r = test::in_goroutine([] {
    // Recorded before the stack grows; the recursion needs ~256 KiB.
    std::unique_ptr<Runtime> rt(new_runtime<P>(32 << 10));
    Result res;
    res.reached = call<P>(rt.get(), 1000);
    res.overflows = rt->overflows;
    // Within the limit again: no overflow.
    res.after = call<P>(rt.get(), 40);
    return res;
  });
  CHECK(r.reached == -1);
  CHECK(r.overflows == 1);
  CHECK(r.after == 40);
}

__attribute__((noinline)) uintptr_t deeper_coordinate() {
  int inner = 0;
  test::keep(&inner);
  return go::stable_stack_address(&inner);
}

} // namespace

TEST_CASE("a stack top kept as an integer survives stack moves",
          "[frameaddr]") {
  survives_moves<Probe::FrameAddress>();
  survives_moves<Probe::InlineAsm>();
  survives_moves<Probe::ByHand>();
}

TEST_CASE("overflow past a stack top kept as an integer is reported",
          "[frameaddr]") {
  reports_real_overflow<Probe::FrameAddress>();
  reports_real_overflow<Probe::InlineAsm>();
  reports_real_overflow<Probe::ByHand>();
}

// At what depth the check fires is where it would fire without moves: the
// limit is stack_size below the recorded top, counted in stable coordinates.
TEST_CASE("the overflow check fires at the configured depth", "[frameaddr]") {
  const auto depth_at = [](size_t size) {
    return test::in_goroutine([size] {
      std::unique_ptr<Runtime> rt(new_runtime<Probe::FrameAddress>(size));
      int depth = 1;
      while (call<Probe::FrameAddress>(rt.get(), depth) == depth)
        ++depth;
      return depth;
    });
  };
  const int small = depth_at(16 << 10), large = depth_at(64 << 10);
  // Each frame takes at least the 200-byte buffer.
  CHECK(small > 10);
  CHECK(small <= (16 << 10) / 200);
  CHECK(large > 3 * small);
  CHECK(large <= (64 << 10) / 200);
}

TEST_CASE("goroutine_stable_stack_address converts by hand", "[frameaddr]") {
  int here = 0;
  // Not on a goroutine: addresses are their own coordinates.
  CHECK(goroutine_stable_stack_address(&here) ==
        reinterpret_cast<uintptr_t>(&here));
  struct Result {
    bool stable = false, ordered = false, outside = false;
  };
  const Result r = test::in_goroutine([&here] {
    Result res;
    int local = 0;
    test::keep(&local);
    const uintptr_t before = go::stable_stack_address(&local);
    const uintptr_t deeper = deeper_coordinate();
    test::burn<1024>(100); // grows (moves) the stack under this frame
    res.stable = go::stable_stack_address(&local) == before;
    res.ordered = deeper < before;
    res.outside =
        go::stable_stack_address(&here) == reinterpret_cast<uintptr_t>(&here);
    return res;
  });
  CHECK(r.stable);
  CHECK(r.ordered);
  CHECK(r.outside);
}
