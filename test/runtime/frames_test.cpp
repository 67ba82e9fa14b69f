// Frames the split-stack prologue alone does not cover: variadic functions,
// VLAs, alloca(), over-aligned locals. Each is exercised at every distance from
// the stack limit, and checked against the same code on the main thread.
#include <catch2/catch.hpp>

#include "test_helpers.h"

#include <alloca.h>
#include <cstdarg>
#include <cstdint>
#include <cstring>

namespace {

// Recurses `depth` times with small frames, then calls f(): walks the
// starting point of f across the whole first stack.
template <class F>
__attribute__((noinline)) uint64_t at_depth(int depth, F &f) {
  volatile char pad[24];
  pad[0] = static_cast<char>(depth);
  if (depth == 0)
    return f();
  return at_depth(depth - 1, f) + static_cast<uint64_t>(pad[0]);
}

// Runs f at depths 0..max_depth, each in a fresh main goroutine (so each
// starts on a fresh 2 KiB stack), and on the main thread; all results must
// match.
template <class F> void check_at_every_depth(int max_depth, F f) {
  for (int d = 0; d <= max_depth; ++d) {
    const uint64_t expected = at_depth(d, f);
    const uint64_t got = test::in_goroutine([&] { return at_depth(d, f); });
    INFO("depth " << d);
    REQUIRE(got == expected);
  }
}

// Variadic, with a frame far larger than the stack it starts on, arguments
// in registers and on the stack, and doubles.
__attribute__((noinline)) uint64_t vsum(int n, ...) {
  char big[6000];
  std::memset(big, 7, sizeof big);
  test::keep(big);
  va_list ap;
  va_start(ap, n);
  uint64_t s = static_cast<uint64_t>(big[n]);
  for (int i = 0; i < n; ++i) {
    if (i % 3 == 2)
      s = s * 31 + static_cast<uint64_t>(va_arg(ap, double) * 4);
    else
      s = s * 31 + static_cast<uint64_t>(va_arg(ap, long));
  }
  va_list copy;
  va_copy(copy, ap);
  va_end(copy);
  va_end(ap);
  return s + static_cast<uint64_t>(big[5999]);
}

TEST_CASE("variadic functions with large frames at the stack edge",
          "[frames]") {
  auto f = [] {
    return vsum(12, 1L, 2L, 0.5, 4L, 5L, 1.25, 7L, 8L, 2.75, 10L, 11L, 3.5) +
           vsum(1, 99L);
  };
  check_at_every_depth(60, f);
}

// A variadic function forwarding a va_list to another (vsnprintf-like).
__attribute__((noinline)) uint64_t vinner(int n, va_list ap) {
  char buf[3000];
  std::memset(buf, 1, sizeof buf);
  test::keep(buf);
  uint64_t s = buf[n];
  for (int i = 0; i < n; ++i)
    s += static_cast<uint64_t>(va_arg(ap, int)) * (i + 1);
  return s;
}
__attribute__((noinline)) uint64_t vouter(int n, ...) {
  va_list ap;
  va_start(ap, n);
  const uint64_t s = vinner(n, ap);
  va_end(ap);
  return s;
}

TEST_CASE("va_list forwarded from a variadic wrapper", "[frames]") {
  check_at_every_depth(40, [] { return vouter(8, 1, 2, 3, 4, 5, 6, 7, 8); });
}

#pragma clang diagnostic push
#pragma clang diagnostic ignored "-Wvla-cxx-extension" // VLAs are the point
__attribute__((noinline)) uint64_t vla_sum(int n) {
  char vla[n];
  std::memset(vla, 3, static_cast<size_t>(n));
  test::keep(vla);
  uint64_t s = 0;
  for (int i = 0; i < n; i += 97)
    s += static_cast<uint64_t>(vla[i]) * static_cast<uint64_t>(i);
  return s + static_cast<uint64_t>(n);
}
#pragma clang diagnostic pop

TEST_CASE("VLAs of growing sizes", "[frames]") {
  check_at_every_depth(30, [] {
    uint64_t s = 0;
    for (int n = 1; n <= 70000; n = n * 3 + 1)
      s = s * 7 + vla_sum(n);
    return s;
  });
}

__attribute__((noinline)) uint64_t alloca_loop(int rounds) {
  // alloca() in a loop: every block stays until the function returns. The
  // pointers to the blocks are kept on the stack too (in the heap, they would
  // escape: see docs/design.md).
  unsigned char *blocks[64];
  for (int i = 0; i < rounds; ++i) {
    auto *p = static_cast<unsigned char *>(alloca(1500));
    std::memset(p, i & 0xff, 1500);
    test::keep(p);
    blocks[i] = p;
  }
  uint64_t s = 0;
  for (int i = 0; i < rounds; ++i)
    s = s * 3 + blocks[i][i % 1500];
  return s;
}

TEST_CASE("alloca in a loop", "[frames]") {
  check_at_every_depth(20, [] { return alloca_loop(40); });
}

struct alignas(256) Aligned {
  char bytes[300];
};
struct alignas(4096) PageAligned {
  char bytes[100];
};

// Recurses with an over-aligned T in every frame: 1000 per frame where it is
// aligned, 1 more where it still is after the callees moved the stack
// (moves shift addresses by multiples of 4 GiB).
template <class T> __attribute__((noinline)) uint64_t use_aligned(int depth) {
  T a;
  std::memset(a.bytes, depth, sizeof a.bytes);
  test::keep(a.bytes);
  auto aligned = [&a] {
    return reinterpret_cast<uintptr_t>(&a) % alignof(T) == 0;
  };
  uint64_t s = aligned() ? 1000 : 0;
  if (depth > 0)
    s += use_aligned<T>(depth - 1);
  s += aligned() ? 1 : 0;
  return s + static_cast<uint64_t>(a.bytes[sizeof a.bytes - 1]);
}

TEST_CASE("over-aligned locals keep their alignment", "[frames]") {
  check_at_every_depth(10, [] { return use_aligned<Aligned>(200); });
  check_at_every_depth(3, [] { return use_aligned<PageAligned>(50); });
}

} // namespace
