// Locals whose address is stored outside the goroutine's stack, used while
// the stack moves. A stack move relocates only the pointers that live in the
// stack itself or in registers; a pointer kept in a global or on the heap
// would still point into the old stack. The plugin's escape analysis moves
// such locals to the side stack, which never moves ("moved to heap: x"):
//   1. a global intrusive list of registrations living in several frames;
//   2. a heap std::vector of pointers to locals of several frames;
//   3. an interpreter's error-handler chain: a heap State points to handler
//      records (with a jmp_buf) in the frames that pushed them; errors are
//      raised with a C++ exception or with longjmp (Lua's luaD_throw).
// Every pointer is dereferenced only after the stack has grown, shrunk
// (go::yield is a safe point for shrinking) or, in torture mode, moved at
// every function entry, and every value written through one side is checked
// on the other. Compiled without the side stack (plugin argument
// no-side-stack), these tests fail.
#include <catch2/catch.hpp>

#include "test_helpers.h"

#include <algorithm>
#include <csetjmp>
#include <cstdint>
#include <cstring>
#include <memory>
#include <tuple>
#include <vector>

namespace {

constexpr int kLevels = 8; // frames that register a local

// Stack moves (growth, shrink, torture) since start.
uint64_t stack_moves() { return go::read_mem_stats().num_stack_move; }

// Takes `Frame` bytes of stack in this frame, so the frames of the recursions
// below are spread over several KiB (the first stack is 2 KiB).
template <size_t Frame> struct Padding {
  char bytes[Frame];
  explicit Padding(int seed) {
    std::memset(bytes, seed & 0x7f, sizeof bytes);
    test::keep(bytes);
  }
};

// ---------------------------------------------------------------------------
// 1. A global intrusive list.

struct Registration {
  Registration *next;
  int value;
};

// The newest registration; the only pointer to it outside its own frame.
Registration *g_registry = nullptr;

__attribute__((noinline)) void register_local(Registration *r) {
  r->next = g_registry;
  g_registry = r; // a stack address in a global: reg must not move
}

__attribute__((noinline)) bool unregister_local(Registration *r) {
  if (g_registry != r)
    return false;
  g_registry = r->next;
  return true;
}

// Records the values on the list, newest first, into out[0..max), and adds
// delta to each of them. Returns the length of the list.
__attribute__((noinline)) int walk_registry(int *out, int max, int delta) {
  int n = 0;
  for (Registration *r = g_registry; r != nullptr; r = r->next) {
    if (n < max)
      out[n] = r->value;
    r->value += delta;
    ++n;
  }
  return n;
}

__attribute__((noinline)) int sum_registry() {
  int sum = 0;
  for (const Registration *r = g_registry; r != nullptr; r = r->next)
    sum += r->value;
  return sum;
}

struct ListResult {
  int count = 0;                  // registrations seen from the bottom
  int seen[kLevels] = {};         // their values at the first walk
  int seen_again[kLevels] = {};   // and at the second, after more moves
  int after_return[kLevels] = {}; // each frame's own reg.value afterwards
  int head_sum[kLevels] = {};     // sum_registry() after that frame wrote
  int unlinked = 0;               // frames found at the head when leaving
  size_t deep_stack = 0;          // go::stack_size() at the bottom
};

__attribute__((noinline)) void register_and_descend(int level,
                                                    ListResult &res) {
  Padding<512> pad(level);
  Registration reg{nullptr, level + 1};
  register_local(&reg);
  if (level + 1 < kLevels) {
    register_and_descend(level + 1, res);
  } else {
    test::burn<1024>(64); // the stack grows to >= 64 KiB: several moves
    res.deep_stack = go::stack_size();
    res.count = walk_registry(res.seen, kLevels, 1000);
    go::yield();          // shrinks the stack: another move
    test::burn<1024>(64); // and grows it again
    walk_registry(res.seen_again, kLevels, 1000);
  }
  // The two walks wrote through the global list: this frame sees it.
  res.after_return[level] = reg.value;
  // And the other way: write here, move the stack, read through the list.
  reg.value = -(level + 1);
  go::yield();
  test::burn<1024>(8);
  res.head_sum[level] = sum_registry();
  res.unlinked += unregister_local(&reg) ? 1 : 0;
  test::keep(pad.bytes);
}

TEST_CASE("locals linked into a global list survive stack moves", "[escape]") {
  const uint64_t moves_before = stack_moves();
  const ListResult r = test::in_goroutine([] {
    ListResult res;
    register_and_descend(0, res);
    return res;
  });
  CHECK(stack_moves() - moves_before >= 5);
  CHECK(r.deep_stack >= 64 * 1024);
  CHECK(g_registry == nullptr);
  CHECK(r.count == kLevels);
  CHECK(r.unlinked == kLevels);
  for (int i = 0; i < kLevels; ++i) {
    CAPTURE(i);
    const int level = kLevels - 1 - i; // the list is newest first
    CHECK(r.seen[i] == level + 1);
    CHECK(r.seen_again[i] == level + 1 + 1000);
  }
  for (int level = 0; level < kLevels; ++level) {
    CAPTURE(level);
    CHECK(r.after_return[level] == level + 1 + 2000);
    // This frame's new value plus the outer frames' values, still listed.
    int expected = -(level + 1);
    for (int outer = 0; outer < level; ++outer)
      expected += outer + 1 + 2000;
    CHECK(r.head_sum[level] == expected);
  }
}

// ---------------------------------------------------------------------------
// 2. A heap vector of pointers to locals.

struct Cell {
  int id;
  long value;
};

// A long-lived heap object holding pointers into the frames below.
struct Tracker {
  std::vector<int *> counters;
  std::vector<Cell *> cells;
};

// Writes through every pointer the tracker holds.
__attribute__((noinline)) void bump_all(Tracker *t, int round) {
  for (size_t i = 0; i < t->counters.size(); ++i) {
    *t->counters[i] += round;
    Cell *c = t->cells[i];
    c->value = c->value * 2 + c->id;
  }
}

__attribute__((noinline)) long sum_all(const Tracker *t) {
  long sum = 0;
  for (size_t i = 0; i < t->counters.size(); ++i)
    sum += *t->counters[i] + t->cells[i]->value;
  return sum;
}

struct VectorResult {
  int counter[kLevels] = {}; // each frame's counter after the bumps
  long cell[kLevels] = {};   // and cell.value
  long sum[kLevels] = {};    // sum_all() after that frame wrote its own
  size_t tracked = 0;        // pointers held at the bottom
  size_t deep_stack = 0;
};

__attribute__((noinline)) void track_and_descend(Tracker *t, int level,
                                                 VectorResult &res) {
  Padding<512> pad(level);
  int counter = level * 10;
  Cell cell{level, 100 + level};
  t->counters.push_back(&counter); // stack addresses in heap memory
  t->cells.push_back(&cell);
  if (level + 1 < kLevels) {
    track_and_descend(t, level + 1, res);
  } else {
    test::burn<1024>(64);
    res.deep_stack = go::stack_size();
    res.tracked = t->counters.size();
    bump_all(t, 1);
    go::yield();
    test::burn<1024>(64);
    bump_all(t, 2);
  }
  // The writes through the vector are in this frame's locals.
  res.counter[level] = counter;
  res.cell[level] = cell.value;
  // Write the locals, move the stack, read them through the vector.
  counter = -(level + 1);
  cell.value = -100L * (level + 1);
  go::yield();
  test::burn<1024>(8);
  res.sum[level] = sum_all(t);
  t->counters.pop_back();
  t->cells.pop_back();
  test::keep(pad.bytes);
}

TEST_CASE("locals pointed to by a heap vector survive stack moves",
          "[escape]") {
  auto tracker = std::make_unique<Tracker>(); // outlives the goroutine
  const uint64_t moves_before = stack_moves();
  const VectorResult r = test::in_goroutine([t = tracker.get()] {
    VectorResult res;
    track_and_descend(t, 0, res);
    return res;
  });
  CHECK(stack_moves() - moves_before >= 5);
  CHECK(r.deep_stack >= 64 * 1024);
  CHECK(r.tracked == static_cast<size_t>(kLevels));
  CHECK(tracker->counters.empty());
  CHECK(tracker->cells.empty());
  long outer_sum = 0; // of the frames still tracked, after the bumps
  for (int level = 0; level < kLevels; ++level) {
    CAPTURE(level);
    const long cell1 = (100 + level) * 2 + level;
    const long cell2 = cell1 * 2 + level;
    CHECK(r.counter[level] == level * 10 + 3);
    CHECK(r.cell[level] == cell2);
    CHECK(r.sum[level] == outer_sum - (level + 1) - 100L * (level + 1));
    outer_sum += level * 10 + 3 + cell2;
  }
}

// ---------------------------------------------------------------------------
// 3. An interpreter's chain of error handlers, like Lua's lua_longjmp.

struct Handler {
  Handler *prev;
  jmp_buf env;
  bool jump; // raise with longjmp (else with a C++ exception)
  int status;
  const char *msg;
};

// What a protected call found in its record, read through the State.
struct CallResult {
  bool is_own = false;  // State::handler pointed to this frame's record
  bool prev_ok = false; // and its prev to the enclosing record
  int status = -1;      // as raise_error wrote it
  int caught = -1;      // the status the exception carried (throw only)
  const char *msg = nullptr;
  int outer_status = -1; // the enclosing record's status, through prev
  int own_status = -1;   // the status, read from the local record itself
  const char *own_msg = nullptr;
};

// The interpreter state: long-lived, on the heap.
struct State {
  Handler *handler = nullptr; // the innermost record: a local of pcall
  int raised = 0;
  size_t deepest_stack = 0;
  bool inner_jump = false; // how nested_body's protected call raises
  CallResult inner;        // what nested_body's protected call found
};

struct LuaError {
  int status;
};

const char kDeepMsg[] = "error at the bottom";
const char kRethrownMsg[] = "rethrown by the inner handler";

__attribute__((noinline)) State *new_state() { return new State; }

// luaD_throw: finds the record through the State only.
[[noreturn]] __attribute__((noinline)) void raise_error(State *L, int status,
                                                        const char *msg) {
  Handler *h = L->handler;
  h->status = status;
  h->msg = msg;
  L->raised++;
  if (h->jump)
    longjmp(h->env, status);
  throw LuaError{status};
}

using Body = void (*)(State *, int);

// luaD_rawrunprotected: pushes a record on this frame, runs body, and reads
// the record back through the State however body ended.
__attribute__((noinline)) int pcall(State *L, bool jump, Body body, int arg,
                                    CallResult *out) {
  Handler h;
  h.prev = L->handler;
  h.jump = jump;
  h.status = 0;
  h.msg = nullptr;
  L->handler = &h; // a stack address in a heap object: h must not move
  go::yield();     // shrinks the stack (h moves) if body grew it before
  if (jump) {
    if (setjmp(h.env) == 0)
      body(L, arg);
  } else {
    try {
      body(L, arg);
    } catch (const LuaError &e) {
      out->caught = e.status;
    }
  }
  Handler *cur = L->handler; // the stale pointer, if h had moved
  out->is_own = cur == &h;
  out->prev_ok = cur->prev == h.prev;
  out->status = cur->status;
  out->msg = cur->msg;
  out->outer_status = cur->prev != nullptr ? cur->prev->status : -2;
  // raise_error wrote through the State: the local itself has it too.
  out->own_status = h.status;
  out->own_msg = h.msg;
  L->handler = cur->prev;
  return cur->status;
}

// Recurses `depth` frames of 512+ bytes, then raises.
__attribute__((noinline)) void fail_deep(State *L, int depth) {
  Padding<512> pad(depth);
  if (depth == 0) {
    L->deepest_stack = std::max(L->deepest_stack, go::stack_size());
    raise_error(L, 3, kDeepMsg);
  }
  fail_deep(L, depth - 1);
  test::keep(pad.bytes);
}

// Runs fail_deep under a nested protected call, then moves the stack and
// raises again, to the enclosing handler, with the status it caught + 10.
__attribute__((noinline)) void nested_body(State *L, int depth) {
  Padding<512> pad(1);
  const int status = pcall(L, L->inner_jump, fail_deep, depth, &L->inner);
  go::yield();
  test::burn<1024>(32);
  test::keep(pad.bytes);
  raise_error(L, status + 10, kRethrownMsg);
}

// The address of a local that escapes: where the side stack is now.
__attribute__((noinline)) uintptr_t side_stack_probe() {
  Registration probe{nullptr, 0};
  register_local(&probe);
  const auto where = reinterpret_cast<uintptr_t>(g_registry); // &probe
  return unregister_local(&probe) ? where : 0;
}

// What a protected call's own handler record says after it caught `status`
// with message msg, raised by longjmp (jump) or a throw; outer_status is what
// the enclosing record said then (-2: there was none).
void check_record(const CallResult &res, int status, bool jump, const char *msg,
                  int outer_status) {
  CHECK(res.is_own);
  CHECK(res.prev_ok);
  CHECK(res.status == status);
  CHECK(res.caught == (jump ? -1 : status)); // -1: no exception
  CHECK(res.msg == msg);
  CHECK(res.own_status == status);
  CHECK(res.own_msg == msg);
  CHECK(res.outer_status == outer_status);
}

// One protected call whose body moves the stack and raises at the bottom,
// by throwing or by longjmp; checks what the handler record says afterwards.
void check_single_handler(bool jump) {
  const uint64_t moves_before = stack_moves();
  const auto r = test::in_goroutine([jump] {
    State *L = new_state();
    CallResult res;
    const int status = pcall(L, jump, fail_deep, 60, &res);
    const auto out = std::make_tuple(res, status, L->raised, L->deepest_stack,
                                     L->handler == nullptr);
    delete L;
    return out;
  });
  check_record(std::get<0>(r), 3, jump, kDeepMsg, /*outer_status=*/-2);
  CHECK(std::get<1>(r) == 3);
  CHECK(std::get<2>(r) == 1);
  CHECK(std::get<3>(r) >= 32 * 1024); // fail_deep grew the stack
  CHECK(stack_moves() - moves_before >= 4);
  CHECK(std::get<4>(r)); // popped
}

TEST_CASE("an error handler in a heap State catches a C++ exception after "
          "moves",
          "[escape]") {
  check_single_handler(/*jump=*/false);
}

TEST_CASE("an error handler in a heap State catches a longjmp after moves",
          "[escape]") {
  check_single_handler(/*jump=*/true);
}

TEST_CASE("nested error handlers in a heap State raised by exceptions and "
          "longjmp",
          "[escape]") {
  for (const bool outer_jump : {false, true}) {
    for (const bool inner_jump : {false, true}) {
      CAPTURE(outer_jump, inner_jump);
      constexpr int kRounds = 20;
      struct Result {
        CallResult outer[kRounds], inner[kRounds];
        int status[kRounds] = {};
        int raised = 0;
        bool popped = false;
        uintptr_t probe_before = 0, probe_after = 0;
      };
      const uint64_t moves_before = stack_moves();
      const Result r = test::in_goroutine([outer_jump, inner_jump] {
        Result res;
        State *L = new_state();
        L->inner_jump = inner_jump;
        res.probe_before = side_stack_probe();
        // Many rounds: a handler that did not put the side stack back after
        // a throw or a longjmp would show in the probe.
        for (int round = 0; round < kRounds; ++round) {
          L->inner = CallResult();
          res.status[round] =
              pcall(L, outer_jump, nested_body, 40 + round, &res.outer[round]);
          res.inner[round] = L->inner;
        }
        res.probe_after = side_stack_probe();
        res.raised = L->raised;
        res.popped = L->handler == nullptr;
        delete L;
        return res;
      });
      CHECK(stack_moves() - moves_before >= 5);
      for (int round = 0; round < kRounds; ++round) {
        CAPTURE(round);
        // The inner record caught the first error; the outer one was still
        // untouched then.
        check_record(r.inner[round], 3, inner_jump, kDeepMsg,
                     /*outer_status=*/0);
        // The outer record caught the second.
        check_record(r.outer[round], 13, outer_jump, kRethrownMsg,
                     /*outer_status=*/-2);
        CHECK(r.status[round] == 13);
      }
      CHECK(r.raised == 2 * kRounds);
      CHECK(r.popped);
      CHECK(r.probe_before != 0);
      CHECK(r.probe_after == r.probe_before);
    }
  }
}

} // namespace
