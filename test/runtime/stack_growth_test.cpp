// Growth, moves and shrinking of goroutine stacks, with pointers into them.
#include <catch2/catch.hpp>

#include "test_helpers.h"

#include <array>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <thread>
#include <vector>

namespace {

uintptr_t current_limit() {
  uintptr_t v;
  asm volatile("movq %%fs:0x70, %0" : "=r"(v));
  return v;
}

// ---------------------------------------------------------------------------
// 2 KiB -> 64 MiB -> 2 KiB.

constexpr size_t kBigFrame = 48 * 1024;
constexpr int kBigDepth = 900; // ~43 MB of frames: the stack must reach 64 MiB

struct Frame {
  uint64_t value;
  Frame *parent;
  uint64_t *parent_value; // points into the caller's frame
};

struct GrowthRecord {
  size_t deepest_size = 0;
  int bad_pointers = 0;
  int bad_buffers = 0;
};

__attribute__((noinline)) void grow(int depth, Frame *parent,
                                    GrowthRecord *rec) {
  unsigned char big[kBigFrame];
  std::memset(big, depth & 0xff, sizeof big);
  test::keep(big);
  Frame self{static_cast<uint64_t>(depth), parent, &parent->value};
  if (depth == 0)
    rec->deepest_size = go::stack_size();
  else
    grow(depth - 1, &self, rec);
  // The callee returned, most likely on a different stack: our own pointers
  // must have moved with us.
  if (self.parent != parent || self.parent_value != &parent->value)
    ++rec->bad_pointers;
  if (big[0] != (depth & 0xff) || big[kBigFrame - 1] != (depth & 0xff))
    ++rec->bad_buffers;
  *self.parent_value += self.value; // write into the caller's frame
}

TEST_CASE("a 2 KiB stack grows to 64 MiB and shrinks back to 2 KiB",
          "[stack]") {
  struct Result {
    size_t initial = 0, after_shrink = 0;
    uint64_t root_value = 0;
    GrowthRecord rec;
    go::MemStats before, after;
    std::vector<size_t> sizes;
  };
  const Result r = test::in_goroutine([] {
    Result res;
    res.before = go::read_mem_stats();
    res.initial = go::stack_size();
    Frame root{0, nullptr, nullptr};
    grow(kBigDepth, &root, &res.rec);
    res.root_value = root.value;
    // Every yield is a safe point; each halves a stack used below 1/4.
    for (int i = 0; i < 32 && go::stack_size() > 2048; ++i) {
      go::yield();
      res.sizes.push_back(go::stack_size());
    }
    res.after_shrink = go::stack_size();
    res.after = go::read_mem_stats();
    return res;
  });
  CHECK(r.initial == 2048);
  CHECK(r.rec.deepest_size == 64 * 1024 * 1024);
  CHECK(r.rec.bad_pointers == 0);
  CHECK(r.rec.bad_buffers == 0);
  CHECK(r.root_value == uint64_t{kBigDepth} * (kBigDepth + 1) / 2);
  CHECK(r.after_shrink == 2048);
  REQUIRE(r.sizes.size() == 15); // 64 MiB / 2^15 = 2 KiB
  for (size_t i = 1; i < r.sizes.size(); ++i)
    CHECK(r.sizes[i] == r.sizes[i - 1] / 2);
  // 2 KiB -> 64 KiB at once (the first 48 KiB frame), then ten doublings.
  CHECK(r.after.num_stack_grow - r.before.num_stack_grow >= 11);
  CHECK(r.after.num_stack_shrink - r.before.num_stack_shrink == 15);
  CHECK(r.after.stack_bytes_copied >
        r.before.stack_bytes_copied + 32u * 1024 * 1024);
}

// ---------------------------------------------------------------------------
// Pointers to callers' locals, structs of pointers to locals, written through
// after moves. Runs on the main thread (an ordinary stack, never moved) and in
// a goroutine; the results must agree.

struct Links {
  int *a;                         // this frame's a
  long *b;                        // this frame's b
  Links *up;                      // the caller's Links
  char *buf;                      // this frame's buffer
  std::array<int *, 3> ancestors; // a of up to three callers
};

__attribute__((noinline)) uint64_t chain(int depth, Links *up) {
  int a = depth;
  long b = depth * 3;
  char buf[900];
  std::memset(buf, 'a' + depth % 26, sizeof buf);
  test::keep(buf);
  Links self{&a, &b, up, buf, {nullptr, nullptr, nullptr}};
  Links *l = up;
  for (int i = 0; i < 3 && l != nullptr; ++i, l = l->up)
    self.ancestors[i] = l->a;
  uint64_t h = 0;
  if (depth > 0)
    h = chain(depth - 1, &self);
  // Write through every pointer we hold, then through the chain above us.
  *self.a += 1;
  *self.b += *self.a;
  for (int *p : self.ancestors)
    if (p != nullptr)
      *p += depth & 7;
  if (self.up != nullptr)
    *self.up->b += *self.b;
  h = h * 1000003 + static_cast<uint64_t>(a) * 31 + static_cast<uint64_t>(b) +
      static_cast<unsigned char>(self.buf[depth % 900]);
  return h;
}

TEST_CASE("pointers to callers' locals stay valid across moves", "[stack]") {
  constexpr int kDepth = 3000;
  Links root{nullptr, nullptr, nullptr, nullptr, {}};
  int ra = 0;
  long rb = 0;
  root.a = &ra;
  root.b = &rb;
  const uint64_t expected = chain(kDepth, &root);
  const long expected_rb = rb;
  const uint64_t got = test::in_goroutine([] {
    Links r{nullptr, nullptr, nullptr, nullptr, {}};
    int a = 0;
    long b = 0;
    r.a = &a;
    r.b = &b;
    return chain(kDepth, &r) ^ static_cast<uint64_t>(b);
  });
  CHECK(got == (expected ^ static_cast<uint64_t>(expected_rb)));
}

// ---------------------------------------------------------------------------
// Moves shift addresses by multiples of 4 GiB, so relocating a word that only
// looks like a stack address never changes its low 32 bits: the false
// positive of conservative relocation that real code (libsodium) hits.

union Slot {
  uint64_t word;
  uint32_t half[2]; // half[0] is the low half on x86-64
};

TEST_CASE("relocation keeps the low 32 bits of every word", "[stack]") {
  struct Result {
    uint32_t kept = 0, expected = 0;
    uint32_t local_low_before = 0, local_low_after = 0;
    uint64_t moves = 0;
  };
  const Result r = test::in_goroutine([] {
    Result res;
    char local[16];
    test::keep(local);
    // A slot that held a pointer into the stack, then got a 4-byte value
    // written over its low half: the low half of another stack address,
    // so the whole word looks like a pointer into the stack.
    volatile Slot slot;
    slot.word = reinterpret_cast<uintptr_t>(&local[0]);
    const auto low =
        static_cast<uint32_t>(reinterpret_cast<uintptr_t>(&local[8]));
    slot.half[0] = low;
    res.expected = low;
    res.local_low_before =
        static_cast<uint32_t>(reinterpret_cast<uintptr_t>(local));
    const uint64_t before = go::read_mem_stats().num_stack_move;
    test::burn<1024>(4000); // several growths: the stack moves
    res.moves = go::read_mem_stats().num_stack_move - before;
    res.kept = slot.half[0];
    res.local_low_after =
        static_cast<uint32_t>(reinterpret_cast<uintptr_t>(local));
    return res;
  });
  REQUIRE(r.moves > 0);
  CHECK(r.kept == r.expected);
  CHECK(r.local_low_after == r.local_low_before); // same address mod 4 GiB
}

// ---------------------------------------------------------------------------
// Torture mode really moves: with GOROUTINE_DEBUG=stackmove=N every Nth
// function entry moves the stack (the suite runs with N=1).

__attribute__((noinline)) int one_call(int x) {
  char buf[64];
  std::memset(buf, x, sizeof buf);
  test::keep(buf);
  return buf[x & 63];
}

uint64_t torture_interval() {
  const char *env = std::getenv("GOROUTINE_DEBUG");
  const char *key = env != nullptr ? std::strstr(env, "stackmove=") : nullptr;
  return key != nullptr ? std::strtoull(key + 10, nullptr, 10) : 0;
}

TEST_CASE("stackmove=N moves the stack at every Nth check", "[stack]") {
  constexpr int kCalls = 1000;
  const uint64_t moves = test::in_goroutine([] {
    const uint64_t before = go::read_mem_stats().num_stack_move;
    int sink = 0;
    for (int i = 0; i < kCalls; ++i)
      sink += one_call(i);
    test::keep(&sink);
    return go::read_mem_stats().num_stack_move - before;
  });
  const uint64_t n = torture_interval();
  if (n == 0)
    CHECK(moves == 0); // no growth is needed either
  else
    CHECK(moves >= kCalls / n);
}

TEST_CASE("the limit slot is 0 wherever no goroutine runs", "[stack]") {
  CHECK(current_limit() == 0); // main thread, before the runtime starts
  const uintptr_t inside = test::in_goroutine([] { return current_limit(); });
  CHECK(inside != 0);
  CHECK(current_limit() == 0); // after go::run returned
  uintptr_t in_thread = 1;
  std::thread([&] { in_thread = current_limit(); }).join();
  CHECK(in_thread == 0);
}

TEST_CASE("memory statistics follow stacks", "[stack]") {
  const go::MemStats outside = go::read_mem_stats();
  CHECK(outside.num_goroutine == 0);
  const go::MemStats inside =
      test::in_goroutine([] { return go::read_mem_stats(); });
  CHECK(inside.num_goroutine == 1);
  CHECK(inside.stack_inuse >= 2048);
  CHECK(inside.stack_sys >= inside.stack_inuse);
  const go::MemStats after = go::read_mem_stats();
  CHECK(after.num_goroutine == 0);
  CHECK(after.stack_inuse == outside.stack_inuse);
}

TEST_CASE("goroutine ids and stack size outside goroutines", "[stack]") {
  CHECK(go::goroutine_id() == 0);
  CHECK(go::stack_size() == 0);
  const uint64_t id = test::in_goroutine([] { return go::goroutine_id(); });
  CHECK(id > 0);
}

// ---------------------------------------------------------------------------
// A reserve checked before a call covers nothing after a park: the stack may
// have shrunk. An uninstrumented function (no_split_stack: no check of its
// own) that needs 12 KiB is called, the goroutine yields until its stack has
// shrunk back to the minimum, and the function is called again: the second
// call must get its own check, so the stack has grown again by then.

constexpr size_t kUncheckedFrame = 12 * 1024;

__attribute__((no_split_stack, noinline)) int unchecked_12k(int seed,
                                                            size_t *size) {
  volatile char buf[kUncheckedFrame];
  for (size_t i = 0; i < sizeof buf; i += 64)
    buf[i] = static_cast<char>(seed + i);
  int sum = 0;
  for (size_t i = 0; i < sizeof buf; i += 64)
    sum += buf[i];
  *size = go::stack_size(); // the runtime bounds its own stack use
  return sum;
}

TEST_CASE("a check before a call does not cover calls after a yield",
          "[stack]") {
  struct Sizes {
    size_t first = 0, parked = SIZE_MAX, second = 0;
    int sum = 0;
  };
  const Sizes s = test::in_goroutine([] {
    Sizes r;
    r.sum = unchecked_12k(3, &r.first);
    for (int i = 0; i < 6; ++i) {
      go::yield();
      r.parked = std::min(r.parked, go::stack_size());
    }
    r.sum -= unchecked_12k(3, &r.second);
    return r;
  });
  CHECK(s.sum == 0);
  CHECK(s.first >= kUncheckedFrame);
  CHECK(s.parked <= 4096); // it did shrink in between
  CHECK(s.second >= kUncheckedFrame);
}

} // namespace
