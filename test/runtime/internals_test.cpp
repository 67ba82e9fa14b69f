// Unit tests of the runtime's internals, through runtime/src/export_test.h
// (Go's export_test.go): the run queues (local ring, runnext, stealing,
// overflow to the global queue, the park state ready() honours) and the
// stack arena (sizes, top offsets, reuse, parking slots, parked homes).
// They run on the test's main thread, outside any goroutine. [internals]
#include <catch2/catch.hpp>

#include "../../runtime/src/export_test.h"

#include <goroutine/goroutine.h>

#include <atomic>
#include <cstdint>
#include <thread>
#include <vector>

namespace {

using namespace go::runtime;
namespace ex = go::runtime::exported;

// Goroutine records with ids first_id, first_id + 1, ..., freed at the end.
struct Records {
  std::vector<Goroutine *> gs;
  Records(uint64_t first_id, size_t n) {
    for (size_t i = 0; i < n; ++i)
      gs.push_back(ex::new_g(first_id + i));
  }
  ~Records() {
    for (Goroutine *g : gs)
      ex::free_g(g);
  }
};

struct TestP {
  P *p = ex::new_p();
  ~TestP() { ex::free_p(p); }
};

uint64_t take_id(P *p, bool *inherit = nullptr) {
  bool ignored;
  Goroutine *g = ex::runq_get(p, inherit != nullptr ? inherit : &ignored);
  return g != nullptr ? ex::g_id(g) : 0;
}

goroutine_mem_stats mem_stats() {
  goroutine_mem_stats s{};
  goroutine_read_mem_stats(&s);
  return s;
}

int size_class(size_t size) { return __builtin_ctzll(size) - 9; } // 512 B: 0

} // namespace

TEST_CASE("run queue: FIFO, runnext first and inheriting the time slice",
          "[internals]") {
  TestP p;
  Records r(1, 6);
  for (int i = 0; i < 5; ++i)
    ex::runq_put(p.p, r.gs[i], false);
  ex::runq_put(p.p, r.gs[5], true);
  CHECK(ex::runq_len(p.p) == 5);
  bool inherit = false;
  CHECK(take_id(p.p, &inherit) == 6);
  CHECK(inherit);
  for (uint64_t id = 1; id <= 5; ++id) {
    CHECK(take_id(p.p, &inherit) == id);
    CHECK_FALSE(inherit);
  }
  CHECK(take_id(p.p) == 0);
  CHECK(ex::runq_empty(p.p));
}

TEST_CASE("run queue: a new runnext sends the old one to the tail",
          "[internals]") {
  TestP p;
  Records r(1, 3);
  ex::runq_put(p.p, r.gs[0], false);
  ex::runq_put(p.p, r.gs[1], true);
  ex::runq_put(p.p, r.gs[2], true);
  CHECK(ex::runnext(p.p) == r.gs[2]);
  CHECK(take_id(p.p) == 3);
  CHECK(take_id(p.p) == 1);
  CHECK(take_id(p.p) == 2);
  CHECK(ex::runq_empty(p.p));
}

TEST_CASE("run queue: a full ring moves its older half and the newcomer to "
          "the global queue",
          "[internals]") {
  TestP p;
  const uint32_t cap = ex::runq_capacity();
  Records r(1, cap + 1);
  REQUIRE(ex::global_runq_len() == 0);
  for (uint32_t i = 0; i < cap; ++i)
    ex::runq_put(p.p, r.gs[i], false);
  CHECK(ex::runq_len(p.p) == cap);
  CHECK(ex::global_runq_len() == 0);
  ex::runq_put(p.p, r.gs[cap], false);
  CHECK(ex::runq_len(p.p) == cap / 2);
  CHECK(ex::global_runq_len() == static_cast<int>(cap / 2 + 1));
  // Global: the older half in order, then the newcomer.
  for (uint64_t id = 1; id <= cap / 2; ++id)
    CHECK(ex::g_id(ex::global_runq_pop()) == id);
  CHECK(ex::g_id(ex::global_runq_pop()) == cap + 1);
  CHECK(ex::global_runq_pop() == nullptr);
  CHECK(ex::global_runq_len() == 0);
  // Local: the newer half.
  for (uint64_t id = cap / 2 + 1; id <= cap; ++id)
    CHECK(take_id(p.p) == id);
  CHECK(ex::runq_empty(p.p));
}

TEST_CASE("run queue: stealing takes half and runs the last one taken",
          "[internals]") {
  TestP thief, victim;
  Records r(1, 11);
  for (int i = 0; i < 10; ++i)
    ex::runq_put(victim.p, r.gs[i], false);
  ex::runq_put(victim.p, r.gs[10], true); // runnext stays
  Goroutine *g = ex::runq_steal(thief.p, victim.p, true);
  REQUIRE(g != nullptr);
  CHECK(ex::g_id(g) == 5);
  CHECK(ex::runq_len(thief.p) == 4);
  CHECK(ex::runq_len(victim.p) == 5);
  CHECK(ex::runnext(victim.p) == r.gs[10]);
  for (uint64_t id = 1; id <= 4; ++id)
    CHECK(take_id(thief.p) == id);
  for (uint64_t id : {11, 6, 7, 8, 9, 10})
    CHECK(take_id(victim.p) == id);
}

TEST_CASE("run queue: runnext is stolen only when asked", "[internals]") {
  TestP thief, victim;
  Records r(1, 1);
  CHECK(ex::runq_steal(thief.p, victim.p, true) == nullptr);
  ex::runq_put(victim.p, r.gs[0], true);
  CHECK(ex::runq_steal(thief.p, victim.p, false) == nullptr);
  CHECK(ex::runq_steal(thief.p, victim.p, true) == r.gs[0]);
  CHECK(ex::runq_empty(victim.p));
  CHECK(ex::runq_empty(thief.p));
}

TEST_CASE("run queue: an owner and thieves running at once lose and "
          "duplicate nothing",
          "[internals]") {
  constexpr int kGoroutines = 20000;
  constexpr int kThieves = 2;
  TestP owner;
  TestP thieves[kThieves];
  Records r(1, kGoroutines);
  std::vector<std::atomic<int>> seen(kGoroutines + 1);
  std::atomic<bool> done{false};
  auto count = [&](Goroutine *g) { seen[ex::g_id(g)].fetch_add(1); };
  std::vector<std::thread> threads;
  for (TestP &t : thieves)
    threads.emplace_back([&, p = t.p] {
      for (;;) {
        const bool last = done.load();
        if (Goroutine *g = ex::runq_steal(p, owner.p, true)) {
          count(g);
          bool inherit;
          while (Goroutine *more = ex::runq_get(p, &inherit))
            count(more);
        } else if (last) {
          return;
        }
      }
    });
  for (int i = 0; i < kGoroutines; ++i) {
    ex::runq_put(owner.p, r.gs[i], i % 7 == 0);
    if (i % 3 == 0) {
      bool inherit;
      if (Goroutine *g = ex::runq_get(owner.p, &inherit))
        count(g);
    }
  }
  done.store(true);
  for (std::thread &t : threads)
    t.join();
  bool inherit;
  while (Goroutine *g = ex::runq_get(owner.p, &inherit))
    count(g);
  while (Goroutine *g = ex::global_runq_pop())
    count(g);
  for (int id = 1; id <= kGoroutines; ++id)
    REQUIRE(seen[id].load() == 1);
}

TEST_CASE("ready: a goroutine still being parked is left to its g0",
          "[internals]") {
  Records r(1, 2);
  REQUIRE(ex::global_runq_len() == 0);
  // This thread holds no P: ready queues globally.
  ex::ready(r.gs[0]);
  CHECK(ex::global_runq_pop() == r.gs[0]);
  ex::set_park_finishing(r.gs[1]);
  ex::ready(r.gs[1]);
  CHECK(ex::park_woken(r.gs[1]));
  CHECK(ex::global_runq_len() == 0);
}

TEST_CASE("stack arena: sizes, alignment and accounting", "[internals]") {
  for (size_t size = 1024; size <= 256 * 1024; size *= 2) {
    const goroutine_mem_stats before = mem_stats();
    const ex::StackSpan s = ex::stack_alloc(size);
    CHECK(s.hi - s.lo == size);
    CHECK(s.lo % 512 == 0);
    static_cast<volatile char *>(reinterpret_cast<char *>(s.lo))[0] = 1;
    static_cast<volatile char *>(reinterpret_cast<char *>(s.hi))[-1] = 1;
    CHECK(ex::stack_guard_contains(s, s.lo - 1) == ex::guardpages());
    CHECK_FALSE(ex::stack_guard_contains(s, s.lo));
    const goroutine_mem_stats during = mem_stats();
    CHECK(during.stack_inuse == before.stack_inuse + size);
    CHECK(during.stacks_by_size[size_class(size)] ==
          before.stacks_by_size[size_class(size)] + 1);
    CHECK(during.stack_sys >= during.stack_inuse);
    ex::stack_free(s);
    const goroutine_mem_stats after = mem_stats();
    CHECK(after.stack_inuse == before.stack_inuse);
    CHECK(after.stacks_by_size[size_class(size)] ==
          before.stacks_by_size[size_class(size)]);
  }
}

TEST_CASE("stack arena: every stack of a goroutine ends at its top offset "
          "modulo 4 GiB",
          "[internals]") {
  const ex::StackSpan first = ex::stack_alloc(2048);
  const auto top = static_cast<uint32_t>(first.hi);
  std::vector<ex::StackSpan> stacks;
  for (size_t size = 1024; size <= size_t{1} << 20; size *= 2) {
    const ex::StackSpan s = ex::stack_alloc_at(size, top);
    CHECK(s.hi - s.lo == size);
    CHECK(static_cast<uint32_t>(s.hi) == top);
    stacks.push_back(s);
  }
  for (const ex::StackSpan &s : stacks)
    ex::stack_free(s);
  ex::stack_free(first);
}

TEST_CASE("stack arena: a freed stack comes back for its top offset",
          "[internals]") {
  if (ex::stackpoison())
    return; // freed stacks are quarantined
  const ex::StackSpan first = ex::stack_alloc(2048);
  const auto top = static_cast<uint32_t>(first.hi);
  for (size_t size : {size_t{4096}, size_t{64 * 1024}, size_t{1} << 20}) {
    const ex::StackSpan s = ex::stack_alloc_at(size, top);
    ex::stack_free(s);
    const ex::StackSpan again = ex::stack_alloc_at(size, top);
    CHECK(again.lo == s.lo);
    ex::stack_free(again);
  }
  ex::stack_free(first);
}

TEST_CASE("stack arena: parking slots at one top offset are distinct while "
          "in use and reused once free",
          "[internals]") {
  if (ex::stackpoison())
    return;
  const size_t slot = ex::stack_compact_size();
  const ex::StackSpan home = ex::stack_alloc(2048);
  const auto top = static_cast<uint32_t>(home.hi);
  const ex::StackSpan a = ex::stack_alloc_at(slot, top);
  const ex::StackSpan b = ex::stack_alloc_at(slot, top);
  CHECK(a.hi - a.lo == slot);
  CHECK(b.hi - b.lo == slot);
  CHECK(static_cast<uint32_t>(a.hi) == top);
  CHECK(static_cast<uint32_t>(b.hi) == top);
  CHECK(a.lo != b.lo);
  // Another goroutine's top offset gets a slot of its own.
  const ex::StackSpan other = ex::stack_alloc(2048);
  const auto other_top = static_cast<uint32_t>(other.hi);
  const ex::StackSpan next = ex::stack_alloc_at(slot, other_top);
  CHECK(static_cast<uint32_t>(next.hi) == other_top);
  ex::stack_free(a);
  const ex::StackSpan c = ex::stack_alloc_at(slot, top);
  CHECK(c.lo == a.lo);
  for (const ex::StackSpan &s : {b, c, next, other, home})
    ex::stack_free(s);
}

TEST_CASE("stack arena: a parked home is not counted in use", "[internals]") {
  const ex::StackSpan home = ex::stack_alloc(4096);
  const goroutine_mem_stats before = mem_stats();
  ex::stack_home_park(home);
  CHECK(mem_stats().stack_inuse == before.stack_inuse - 4096);
  CHECK(mem_stats().stacks_by_size[size_class(4096)] ==
        before.stacks_by_size[size_class(4096)] - 1);
  ex::stack_home_unpark(home);
  static_cast<volatile char *>(reinterpret_cast<char *>(home.lo))[0] = 1;
  CHECK(mem_stats().stack_inuse == before.stack_inuse);
  ex::stack_free(home);
}
