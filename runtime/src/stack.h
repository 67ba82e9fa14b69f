// Goroutine stacks: allocation (stack_alloc.cpp) and growth, moving and
// shrinking (stack.cpp). See stack.cpp for the design.
#ifndef GOROUTINE_STACK_H
#define GOROUTINE_STACK_H

#include <cstddef>
#include <cstdint>

#include "runtime.h"

namespace go::runtime {

// Bytes below the limit (stack.lo + kStackGuard) that instrumented code may
// touch without checking. A function whose entry check passed with %rsp just
// above the limit can go below it by its frame, at most 255 bytes when LLVM
// uses the short check form `cmp %fs:0x70,%rsp` (larger frames are checked
// including the frame), plus up to 48 bytes of realignment for 64-byte spills
// (not counted by the check), plus the deepest thing it may call unchecked:
//   a frameless leaf: return address + 128-byte red zone        = 136
//   a libc leaf without a reserve (memcpy...): 8 + 64           =  72
//   a failing check: two return addresses + morestack.S's
//   fast path (16 bytes) before it leaves the stack             =  32
// Worst case 255 + 48 + 136 = 439 bytes; docs/design.md, section 1, has the details.
constexpr size_t kStackGuard = GOROUTINE_STACK_GUARD;

// A limit no %rsp can pass: every prologue check fails and traps into
// __morestack (torture mode, and preemption requests from sysmon).
constexpr uintptr_t kStackPoison = 0xfffffffffffffadeULL;

// Smallest and largest stack sizes the allocator knows (powers of two). The
// largest fits below any top offset in a 4 GiB band (stack_alloc.cpp).
constexpr size_t kStackMinAllowed = 1024;
// Where a parked goroutine that uses little stack waits when there are many
// goroutines (stack_compact). Never run on: prepare() expands it first.
constexpr size_t kStackCompactSize = 512;
constexpr size_t kStackMaxAllowed = size_t{1} << 31;

// Returns a stack of `size` bytes (a power of two >= kStackMinAllowed) for a
// new goroutine, at any top offset, with an inaccessible region below it in
// guardpages mode.
Stack stack_alloc(size_t size);
// Returns a stack of `size` bytes whose top is congruent to `top` modulo
// 4 GiB: a move from a stack with that top offset shifts every address by a
// multiple of 4 GiB.
Stack stack_alloc_at(size_t size, uint32_t top);
// Returns a stack to the per-thread cache (and from there to the global pool
// or the OS).
void stack_free(Stack stack);
// A compacted goroutine's home stack: no longer counted in use, and its pages
// go back to the OS once every stack sharing them is parked too; unpark
// before using it again.
void stack_home_park(Stack home);
void stack_home_unpark(Stack home);
// True if addr is in a freed stack kept inaccessible (stackpoison=1).
bool stack_quarantine_contains(uintptr_t addr);
// True if addr is in the inaccessible region below a stack (guardpages=1).
bool stack_guard_contains(const Stack &stack, uintptr_t addr);

// Prepares a new goroutine's stack so that goroutine_switch to g->sched_sp
// enters goroutine_trampoline with %r12 = g.
void stack_init_context(Goroutine *g);

// Safe point for a goroutine that is switched out: if it uses less than a
// quarter of its stack, move it to one half the size (never below
// settings.stackmin).
void stack_shrink(Goroutine *g);

// At park time, with `goroutines` alive: if settings.compactpark allows and
// g's live stack fits, moves g to a kStackCompactSize stack at the same top
// offset, keeping its stack as g->home, and returns true.
bool stack_compact(Goroutine *g, uint64_t goroutines);
// Moves a compacted goroutine back to its home stack.
void stack_expand(Goroutine *g);

// The value the split-stack limit slot must hold while g runs: 0 while g
// runs on a stack of the program's own (stackguard 0, contexts.cpp).
inline uintptr_t stack_limit_for(const Goroutine *g) {
  return settings.stackmove != 0 && g->stackguard != 0 ? kStackPoison
                                                       : g->stackguard;
}

// x86-64 vector state saved by morestack.S (read by the assembly).
extern "C" uint32_t goroutine_xsave_enabled;
extern "C" uint32_t goroutine_xsave_size;
// Detects XSAVE support and the size of the enabled state components.
void stack_init_cpu();

} // namespace go::runtime

#endif // GOROUTINE_STACK_H
