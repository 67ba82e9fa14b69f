// stack.cpp: growing, moving and shrinking goroutine stacks.
//
// Layout of a goroutine stack of size S (a power of two; stack_alloc.cpp
// places all of one goroutine's stacks at the same address modulo 4 GiB):
//
//     hi ──────────────► +------------------------------+
//                        | goroutine_trampoline frame   |  stack_init_context
//                        | goroutine_main, user frames  |
//                        |              ...             |
//     live sp ─────────► | (the deepest frame)          |
//                        |          free space          |
//     stackguard ──────► +------------------------------+  = lo + kStackGuard
//                        |  guard area: instrumented    |
//                        |  code may dip in unchecked   |
//     lo ──────────────► +------------------------------+
//                        | PROT_NONE page (guardpages=1)|
//
// Every instrumented function compares %rsp (minus its frame size) with the
// limit slot %fs:0x70 on entry and calls __morestack when it is too low; the
// plugin adds the same check, with a bigger request, before calls into code
// that was not instrumented and before dynamic allocas. The limit slot holds
// g->stackguard while g runs (or kStackPoison when every check must trap).
//
// Growing. goroutine_morestack (below, called by morestack.S on the system
// stack) allocates a stack at least twice as large, copies the live part
// [live sp, hi) to the top of the new stack, and relocates: every 8-byte word
// in the copy, every saved general register and every 64-bit lane of the
// saved vector registers that holds an address inside the old stack [lo, hi)
// is shifted by delta = new.hi - old.hi. Like Go, the stack is copied
// contiguously and the function resumes as if its check had passed.
//
// The whole old stack, not only its live part: C code forms pointers just
// outside the objects they index, e.g. Oniguruma's `mem_start_stk =
// alloca_base - 1` for 1-based indexing, which points below the lowest live
// byte. Such a pointer must move with the object it is derived from.
//
// Why relocation is conservative, and why it is still correct. Go relocates
// exactly, with stack maps. C has none, so every word that looks like a
// pointer into the old stack is treated as one. Two things make that sound:
//   1. Escape analysis (the plugin) guarantees no pointer into a goroutine
//      stack is stored outside that stack, so scanning the stack and the
//      registers finds every pointer. The runtime's own records either never
//      point into stacks (setjmp buffers store stack-relative offsets,
//      setjmp.S) or are relocated with them (a parked goroutine's channel
//      waiters, Goroutine::waiting, in relocate_to).
//   2. A word that only looks like a stack address is still changed by delta,
//      and every move's delta is a multiple of 4 GiB (stack_alloc.cpp keeps
//      each goroutine's stacks at one address modulo 4 GiB), so the low 32
//      bits of every word survive. That is the common false positive: a
//      4-byte value stored in the low half of a slot whose high half still
//      holds part of an old stack pointer. With stacks merely aligned to
//      their size, moves shifted by 32 KiB multiples and changed such
//      values: libsodium's secretstream test failed 6 times in 80 under
//      stackmove=1 (its random 32-bit keys and nonces fall in the window);
//      with 4 GiB shifts, never. For the high half to be changed it must
//      equal the high half of a stack address exactly, and the low half must
//      fall inside the old stack.
//
// Shrinking. At a safe point where a goroutine is switched out, a stack less
// than a quarter used moves to one half the size (Go's rule), never below
// settings.stackmin and never so small that uninstrumented frames still on
// the stack lose the reserve they were promised (see stack_shrink).
//
// Torture mode (GOROUTINE_DEBUG=stackmove=N). The limit slot holds
// kStackPoison, so every check traps here; every Nth trap moves the stack to a
// fresh stack of the same size even when it fits, exercising relocation at
// every possible point (Go's -d=maymorestack=runtime.mayMoreStackMove).

#include "stack.h"

#include <cpuid.h>
#include <cstring>
#include <string_view>

#include "scheduler.h"
#include "trace.h"

namespace go::runtime {

extern "C" {
// The reserves the program's instrumented objects were built with
// (GOROUTINE_RESERVE_SECTION, one uint64_t each); weak: none may exist.
extern const uint64_t __start_goroutine_reserve[] __attribute__((weak));
extern const uint64_t __stop_goroutine_reserve[] __attribute__((weak));
uint32_t goroutine_xsave_enabled = 0; // 0: FXSAVE (512 bytes)
uint32_t goroutine_xsave_size = 512;
void goroutine_trampoline();   // context.S
void goroutine_preempt_stub(); // context.S
}

namespace {

static_assert(std::string_view(GOROUTINE_RESERVE_SECTION) ==
                  "goroutine_reserve",
              "__start_goroutine_reserve must name GOROUTINE_RESERVE_SECTION");

// The largest reserve any instrumented object of the program promises below
// its calls into uninstrumented code, or the plugin's default if none says.
size_t program_reserve() {
  static const size_t reserve = [] {
    uint64_t r = 0;
    for (const uint64_t *p = __start_goroutine_reserve;
         p != nullptr && p < __stop_goroutine_reserve; ++p)
      r = std::max(r, *p);
    return r != 0 ? static_cast<size_t>(r) : size_t{GOROUTINE_DEFAULT_RESERVE};
  }();
  return reserve;
}

// Where XSAVE (standard form) puts the state components that can hold 64-bit
// lanes beyond the legacy XMM registers: YMM_Hi128 (2), ZMM_Hi256 (6),
// Hi16_ZMM (7). Offsets and sizes come from CPUID leaf 0xd.
struct VectorComponent {
  uint32_t bit = 0;
  uint32_t offset = 0;
  uint32_t size = 0;
};
VectorComponent vector_components[3];

constexpr size_t kLegacyXmmOffset = 160; // XMM0-15 in the FXSAVE/XSAVE area
constexpr size_t kLegacyXmmSize = 256;
constexpr size_t kXsaveHeaderOffset = 512; // XSTATE_BV: components present

// The set of old-stack addresses that move, and by how much.
struct Relocation {
  uintptr_t lo; // the old stack: [lo, lo + len)
  uintptr_t len;
  uintptr_t delta; // new.hi - old.hi (modulo 2^64)

  uint64_t apply(uint64_t word) const {
    return word - lo < len ? word + delta : word;
  }
  void apply_words(void *start, size_t bytes) const {
    auto *w = static_cast<uint64_t *>(start);
    for (size_t i = 0; i < bytes / 8; ++i)
      w[i] = apply(w[i]);
  }
};

// Copies `words` words from src to dst, relocating each on the way: one pass
// over memory instead of a copy and a scan. Vectorized (AVX2 where present).
__attribute__((target_clones("avx2", "default"))) void
copy_and_relocate(uint64_t *__restrict dst, const uint64_t *__restrict src,
                  size_t words, Relocation r) {
  for (size_t i = 0; i < words; ++i)
    dst[i] = r.apply(src[i]);
}

void relocate_registers(RegisterFrame *f, const Relocation &r) {
  for (uint64_t *reg :
       {&f->sp, &f->r15, &f->r14, &f->r13, &f->r12, &f->rbp, &f->rbx, &f->r11,
        &f->r10, &f->r9, &f->r8, &f->rdi, &f->rsi, &f->rdx, &f->rcx, &f->rax})
    *reg = r.apply(*reg);
}

// Pointers can sit in vector registers too: an argument vector, or a value the
// compiler kept in %xmm across a plugin-inserted check.
void relocate_vector_state(uint8_t *area, const Relocation &r) {
  r.apply_words(area + kLegacyXmmOffset, kLegacyXmmSize);
  if (!goroutine_xsave_enabled)
    return;
  uint64_t present;
  std::memcpy(&present, area + kXsaveHeaderOffset, sizeof present);
  for (const VectorComponent &c : vector_components)
    if (c.size != 0 && (present >> c.bit & 1))
      r.apply_words(area + c.offset, c.size);
}

// Copies g's live stack [live, hi) to the top of `fresh` and relocates every
// pointer into the old stack; g runs on `fresh` from now on. frame and
// vector_state (optional) are the registers of the running goroutine.
// Returns delta. The caller frees or keeps the old stack.
uintptr_t relocate_to(Goroutine *g, Stack fresh, uintptr_t live,
                      RegisterFrame *frame, uint8_t *vector_state) {
  const Stack old = g->stack;
  const size_t used = old.hi - live;
  const Relocation r{old.lo, old.size(), fresh.hi - old.hi};

  copy_and_relocate(reinterpret_cast<uint64_t *>(fresh.hi - used),
                    reinterpret_cast<const uint64_t *>(live), used / 8, r);
  if (frame != nullptr)
    relocate_registers(frame, r);
  if (vector_state != nullptr)
    relocate_vector_state(vector_state, r);
  // The runtime's records that point into the stack: a parked goroutine's
  // channel waiters (Go's adjustsudogs).
  for (Sudog *s = g->waiting; s != nullptr; s = s->waitlink)
    s->elem =
        reinterpret_cast<void *>(r.apply(reinterpret_cast<uint64_t>(s->elem)));

  g->stack = fresh;
  g->stackguard = fresh.lo + kStackGuard;

  counters.num_stack_move.fetch_add(1, std::memory_order_relaxed);
  counters.stack_bytes_copied.fetch_add(used, std::memory_order_relaxed);
  if (settings.stacktrace)
    print("goroutine %llu: stack %s %zu -> %zu bytes (%zu copied)",
          static_cast<unsigned long long>(g->id),
          fresh.size() > old.size()   ? "grew"
          : fresh.size() < old.size() ? "shrank"
                                      : "moved",
          old.size(), fresh.size(), used);
  return r.delta;
}

// Moves g to a fresh stack of new_size bytes and frees the old one.
uintptr_t move_stack(Goroutine *g, size_t new_size, uintptr_t live,
                     RegisterFrame *frame, uint8_t *vector_state) {
  const Stack old = g->stack;
  const Stack fresh = stack_alloc_at(new_size, static_cast<uint32_t>(old.hi));
  const uintptr_t delta = relocate_to(g, fresh, live, frame, vector_state);
  stack_free(old);
  return delta;
}

// Moves g, switched out, to `fresh`; the caller frees or keeps the old stack.
// A parked goroutine's wakers write through its channel waiters holding the
// channels' locks, which g0 has released before moving its stack (proc.cpp):
// the copy and the waiters' relocation are made holding those locks (Go's
// syncadjustsudogs), and nothing else is (lockrank.h).
void relocate_switched_out(Goroutine *g, Stack fresh) {
  chan_lock_waiting(g);
  g->sched_sp += relocate_to(g, fresh, g->sched_sp, nullptr, nullptr);
  chan_unlock_waiting(g);
}

// Stack goroutine_preempt_stub uses below the resume %rsp, besides the XSAVE
// area: 11 saved words, 64-byte alignment, goroutine_preempt_park and
// goroutine_switch's saved context, with room to spare.
constexpr size_t kPreemptStubBytes = 384;

// The size a stack of `size` bytes, `used` of them live, must grow to so that
// `need` more bytes fit above the guard area: at least double (Go's rule).
size_t grow_size(size_t size, size_t used, size_t need) {
  const size_t required = used + need + kStackGuard + 1;
  size_t new_size = size * 2;
  while (new_size < required && new_size <= settings.maxstack)
    new_size *= 2;
  return new_size;
}

[[noreturn]] void stack_overflow(Goroutine *g, const RegisterFrame *frame,
                                 uintptr_t resume_pc) {
  print("goroutine stack exceeds %zu-byte limit", settings.maxstack);
  print("sp=%#lx stack=[%#lx, %#lx]", static_cast<unsigned long>(frame->sp + 8),
        static_cast<unsigned long>(g->stack.lo),
        static_cast<unsigned long>(g->stack.hi));
  TraceContext ctx = TraceContext::from_frame(*frame);
  ctx.pc = resume_pc;
  ctx.sp = frame->sp + 8;
  fatal_with_trace(g, ctx, "stack overflow");
}

} // namespace

void stack_init_cpu() {
  unsigned a, b, c, d;
  if (!__get_cpuid(1, &a, &b, &c, &d))
    return;
  const bool xsave = (c & bit_XSAVE) != 0 && (c & bit_OSXSAVE) != 0;
  if (!xsave)
    return;
  __cpuid_count(0xd, 0, a, b, c, d);
  goroutine_xsave_size = b; // bytes for every component XCR0 enables
  uint32_t eax, edx;
  asm volatile("xgetbv" : "=a"(eax), "=d"(edx) : "c"(0));
  const uint64_t xcr0 = (uint64_t{edx} << 32) | eax;
  const uint32_t bits[] = {2, 6, 7};
  for (size_t i = 0; i < 3; ++i) {
    if (!(xcr0 >> bits[i] & 1))
      continue;
    __cpuid_count(0xd, bits[i], a, b, c, d);
    vector_components[i] = {bits[i], b, a};
  }
  goroutine_xsave_enabled = 1;
}

// A switched-out context (goroutine_switch_frame) that returns into
// goroutine_trampoline with %r12 = g, below two zero words that end the stack,
// so goroutine_trampoline runs with a 16-byte-aligned %rsp.
void stack_init_context(Goroutine *g) {
  auto *top = reinterpret_cast<uint64_t *>(g->stack.hi);
  top[-1] = 0;
  top[-2] = 0;
  auto *f = reinterpret_cast<goroutine_switch_frame *>(&top[-2]) - 1;
  *f = goroutine_switch_frame{};
  asm volatile("stmxcsr %0; fnstcw %1" : "=m"(f->mxcsr), "=m"(f->x87_control));
  f->r12 = reinterpret_cast<uint64_t>(g);
  f->rbp = 0; // end of the frame chain
  f->return_address = reinterpret_cast<uint64_t>(&goroutine_trampoline);
  g->sched_sp = reinterpret_cast<uintptr_t>(f);
  g->stable_hi = g->stack.hi | GOROUTINE_STABLE_STACK_BIT;
}

void stack_shrink(Goroutine *g) {
  const size_t size = g->stack.size();
  const size_t used = g->stack.hi - g->sched_sp;
  const size_t half = size / 2;
  if (g->stackguard == 0) // pinned: it runs on a user context (contexts.cpp)
    return;
  if (half < settings.stackmin || used >= size / 4)
    return;
  // Frames of code that was not instrumented were promised a reserve below
  // their call site when they were entered; keep it.
  const size_t reserve =
      trace_has_uninstrumented_frames(g) ? program_reserve() : 0;
  if (half - used < reserve + kStackGuard)
    return;
  const Stack old = g->stack;
  relocate_switched_out(g, stack_alloc_at(half, static_cast<uint32_t>(old.hi)));
  stack_free(old);
  counters.num_stack_shrink.fetch_add(1, std::memory_order_relaxed);
}

bool stack_compact(Goroutine *g, uint64_t goroutines) {
  if (settings.compactpark == 0 || goroutines < settings.compactpark ||
      g->stackguard == 0) // pinned: it runs on a user context (contexts.cpp)
    return false;
  const Stack home = g->stack;
  const size_t used = home.hi - g->sched_sp;
  if (home.size() <= kStackCompactSize || used + 16 > kStackCompactSize)
    return false;
  const Stack slot =
      stack_alloc_at(kStackCompactSize, static_cast<uint32_t>(home.hi));
  relocate_switched_out(g, slot);
  g->home = home;
  stack_home_park(home);
  return true;
}

void stack_expand(Goroutine *g) {
  const Stack home = g->home;
  const Stack slot = g->stack;
  g->home = Stack{};
  stack_home_unpark(home);
  g->sched_sp += relocate_to(g, home, g->sched_sp, nullptr, nullptr);
  stack_free(slot);
}

} // namespace go::runtime

using namespace go::runtime;

// Called by morestack.S on the system stack; see the contract there. Returns
// the goroutine %rsp to resume with; 0(%rsp) holds the resume address.
extern "C" uintptr_t goroutine_morestack(RegisterFrame *frame,
                                         uint8_t *vector_state) {
  ThreadState &ts = goroutine_thread_state;
  Goroutine *g = ts.g;
  const uintptr_t return_address = *reinterpret_cast<uintptr_t *>(frame->sp);
  uintptr_t live = frame->sp + 8; // the caller's frames start here
  uintptr_t resume_pc = return_address;
  if (frame->kind == GOROUTINE_MORESTACK_KIND_PROLOGUE) {
    if (*reinterpret_cast<const uint8_t *>(return_address) != GOROUTINE_ENC_RET)
      fatal("__morestack called from %#lx, which is not an LLVM split-stack "
            "prologue",
            static_cast<unsigned long>(return_address));
    resume_pc += 1; // skip the `ret` that follows the call
  }
  if (live <= g->stack.lo || live > g->stack.hi) {
    print("sp=%#lx stack=[%#lx, %#lx]", static_cast<unsigned long>(live),
          static_cast<unsigned long>(g->stack.lo),
          static_cast<unsigned long>(g->stack.hi));
    fatal("morestack: stack pointer outside the goroutine's stack (code that "
          "was not instrumented overflowed it?)");
  }

  // A preemption request (sysmon, preempt.cpp): resume in
  // goroutine_preempt_stub, which needs room for every register.
  const bool preempt = g->preempt.exchange(false, std::memory_order_relaxed) &&
                       ts.m != nullptr && !ts.m->blocking;
  const size_t size = g->stack.size();
  const size_t used = g->stack.hi - live;
  size_t need = frame->r10; // bytes wanted below `live`
  if (preempt)
    need = std::max<size_t>(need, kPreemptStubBytes + goroutine_xsave_size);
  const bool fits = need < size && live - g->stack.lo > need + kStackGuard;
  size_t new_size = 0;
  if (!fits) {
    new_size =
        need > settings.maxstack ? SIZE_MAX : grow_size(size, used, need);
    if (new_size > settings.maxstack)
      stack_overflow(g, frame, resume_pc);
    counters.num_stack_grow.fetch_add(1, std::memory_order_relaxed);
  } else if (settings.stackmove != 0 && ts.torture_countdown == 0) {
    new_size = size; // torture: move even though it fits
  }
  if (ts.torture_countdown == 0)
    ts.torture_countdown = settings.stackmove;
  if (new_size != 0)
    live += move_stack(g, new_size, live, frame, vector_state);

  enter_stack_limit(ts, stack_limit_for(g));
  uintptr_t resume_sp = live - 8;
  *reinterpret_cast<uintptr_t *>(resume_sp) = resume_pc;
  if (preempt) { // `ret` into the stub, which returns to resume_pc
    resume_sp -= 8;
    *reinterpret_cast<uintptr_t *>(resume_sp) =
        reinterpret_cast<uintptr_t>(&goroutine_preempt_stub);
  }
  return resume_sp;
}

// Stable stack coordinates (docs/design.md, "Stack addresses kept as
// integers"). A move keeps the distance from hi to every frame, so
// stable_hi - (hi - addr) names one stack position for the goroutine's whole
// life. stable_hi is its first stack's hi with GOROUTINE_STABLE_STACK_BIT set:
// no stable coordinate is a canonical address, so relocation never takes one
// for a pointer into the stack it is moving (which would shift it), and
// dereferencing one faults. The plugin calls this on every integer view of a
// frame address (StableFrameAddress.cpp): keep it a few instructions.
extern "C" uintptr_t
goroutine_stable_stack_address(const void *GOROUTINE_NOESCAPE addr) {
  const auto a = reinterpret_cast<uintptr_t>(addr);
  const Goroutine *g = this_thread().g;
  if (g == nullptr || a < g->stack.lo || a > g->stack.hi)
    return a;
  return g->stable_hi - (g->stack.hi - a);
}

// LLVM's split-stack lowering of dynamic allocas calls this (libgcc's name)
// when the alloca does not fit. The plugin checks every dynamic alloca first
// and grows the stack so that it does fit, so reaching this is a bug.
extern "C" void *__morestack_allocate_stack_space(size_t size) {
  fatal("__morestack_allocate_stack_space(%zu): a dynamic alloca was not "
        "checked by the goroutine plugin",
        size);
}
