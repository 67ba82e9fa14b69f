// contexts.cpp: code that makes its own execution contexts.
//
// Instrumented code compares %rsp with the limit slot %fs:0x70 on entry. The
// slot holds the running goroutine's limit, and __morestack assumes %rsp is
// inside that goroutine's stack. Code that moves %rsp somewhere else by
// itself breaks both assumptions: the stack it runs on is one the runtime
// does not know, and a check that fails there ends in "morestack: stack
// pointer outside the goroutine's stack" (or, in torture mode, at the first
// instrumented call). This file interposes the functions that create such
// contexts (the executable exports them, runtime/goroutine.dynlist) and keeps
// one rule: instrumented code on a stack that is not a goroutine's own runs
// as on a thread that runs no goroutine, with the limit slot 0 (runtime.h,
// invariant 1; docs/design.md, "Contexts the program makes").
//
// clone(). The child starts in clone_child, which makes it a thread that runs
// no goroutine (limit slot 0, ThreadState cleared) before calling the
// program's function. Where that state lives decides what is safe:
//  - without CLONE_VM the child has its own copy of memory, TLS included;
//  - with CLONE_SETTLS it has its own thread block (only the limit slot is
//    written: the block's layout beyond glibc's header is the caller's);
//  - with CLONE_VM|CLONE_VFORK but no CLONE_SETTLS it shares the parent's
//    thread block, but the parent is suspended until the child execs or
//    exits; the parent puts its own state back when clone() returns;
//  - with CLONE_VM alone the two run at once on one thread block: nothing can
//    be changed for the child, and the call is passed through unchanged.
// {fn, arg} travel on the child's own stack, which the parent never touches.
//
// vfork(). A vfork child runs on its parent's stack until it execs or exits:
// on a goroutine stack, a check failing in the child would move the stack the
// suspended parent still runs on. So vfork() is clone(CLONE_VFORK|SIGCHLD):
// the parent still waits for the exec or exit, but the child writes only its
// own copy of memory (POSIX leaves the child's writes to anything else
// undefined), and the call costs what fork() costs. The child runs as a
// thread without goroutines, unchecked, on its copy of the stack: its room
// is the reserve the plugin guarantees below the call to vfork(), and going
// past it can only hurt the child's own copy. posix_spawn() (glibc's
// clone(CLONE_VM|CLONE_VFORK) on a stack of its own) runs only uninstrumented
// code in its child and needs nothing.
//
// getcontext/makecontext/setcontext/swapcontext. A switch to a context whose
// %rsp lies outside the running goroutine's stack sets g->stackguard to 0 ("g
// runs on a stack that is not its own"); a switch back into the stack sets it
// again. stack_limit_for(g) is then 0, so the limit slot stays 0 on that stack
// even when g parks there and resumes on another thread. While g->stackguard
// is 0 the goroutine's own stack is pinned: neither shrunk nor compacted
// (stack.cpp), and no check fails on it. Once back on its stack, the
// goroutine's stack may move again: by the pointer contract (docs/stacks.md)
// the user context's frames hold no pointer into it. A context saved on the
// goroutine's own stack (getcontext, swapcontext's oucp) carries a record of
// that stack, and setcontext relocates its registers if the stack has moved
// since, as longjmp does (setjmp.S). Leaving a user context by longjmp or an
// exception, or resuming one goroutine's saved context on another goroutine,
// is not supported. makecontext is the runtime's own (glibc's layout) so that
// a function that returns reaches uc_link through setcontext below.
//
// Side stacks. Locals whose address escapes live on a LIFO side stack
// (side_stack.cpp), one per goroutine or thread; contexts that take turns on
// one thread would interleave their frames there and free each other's. So
// every context has its own: makecontext carves its first chunk from the top
// of the context's stack (1/16, at most 16 KiB; more comes from the heap
// and goes back when the context's function returns, and is lost if it never
// does), and every switch saves the side stack's two thread-locals in the
// context it leaves and loads those of the context it enters. They travel in
// the reserved words of uc_mcontext, which glibc never reads or writes.
//
// sigaltstack(). Runtime threads keep the runtime's signal stack
// (signals.cpp): the program's would move from thread to thread with its
// goroutines, and its handlers and the runtime's fault handler would run on
// whatever the program left there. Called from a goroutine, sigaltstack()
// records the program's settings per thread and reports them back; handlers
// run on the runtime's signal stack, with the limit slot cleared. Threads
// that run no goroutine get the real call.
#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdarg>
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <dlfcn.h>
#include <sched.h>
#include <sys/syscall.h>
#include <type_traits>
#include <ucontext.h>
#include <unistd.h>

#include "stack.h"

extern "C" int __clone(int (*fn)(void *), void *stack, int flags, void *arg,
                       ...) noexcept;

namespace go::runtime {
namespace {

// Makes the calling thread one that runs no goroutine. with_state: the
// runtime's ThreadState in the thread block is the runtime's to clear (not
// so in a block the program made for CLONE_SETTLS).
void forget_goroutines(bool with_state) {
  set_stack_limit(0);
  if (with_state)
    goroutine_thread_state = ThreadState{};
}

// Stored at the top of a clone child's stack.
struct CloneStart {
  int (*fn)(void *);
  void *arg;
  bool with_state;
};

int clone_child(void *p) {
  const CloneStart start = *static_cast<CloneStart *>(p);
  forget_goroutines(start.with_state);
  return start.fn(start.arg);
}

// Called just before switching to a context whose stack pointer is sp.
void enter_context(uintptr_t sp) {
  ThreadState &ts = this_thread();
  Goroutine *g = ts.g;
  if (g == nullptr)
    return; // the limit is 0 and stays 0
  if (g->stack.contains(sp)) {
    g->stackguard = g->stack.lo + kStackGuard;
    enter_stack_limit(ts, stack_limit_for(g));
    return;
  }
  g->stackguard = 0;
  // ts.stack_limit differs from the slot until the next enter_stack_limit:
  // the preemption signal poisons the slot only when they agree, and this
  // code still runs on g's stack, where it would otherwise take us for g.
  ts.stack_limit = kStackPoison;
  set_stack_limit(0);
}

// A context saved on a goroutine's own stack (getcontext, or swapcontext's
// oucp) records that stack in registers glibc never saves there nor restores
// (the trap fields of a signal context), so that setcontext can relocate it
// after the stack has moved, as longjmp does for jmp_bufs (setjmp.S). Sizes
// and ids are never stack addresses, and the tag's high bits are not either:
// a move that relocates a ucontext_t lying on the stack leaves the record as
// it was.
constexpr greg_t kSavedContextTag = 0x676f637478000000; // "goctx"

greg_t saved_context_tag(const greg_t *r) {
  return kSavedContextTag ^ r[REG_CR2] ^ r[REG_ERR] ^ r[REG_OLDMASK];
}

void record_saved_context(ucontext_t *uc, uintptr_t sp) {
  greg_t *r = uc->uc_mcontext.gregs;
  const Goroutine *g = this_thread().g;
  if (g == nullptr || !g->stack.contains(sp)) {
    r[REG_TRAPNO] = 0;
    return;
  }
  r[REG_CR2] = static_cast<greg_t>(g->stack.hi);
  r[REG_ERR] = static_cast<greg_t>(g->stack.size());
  r[REG_OLDMASK] = static_cast<greg_t>(g->id);
  r[REG_TRAPNO] = saved_context_tag(r);
}

// A context the running goroutine saved on its stack, before that stack
// moved: shift every register that pointed into the old stack.
void relocate_saved_context(ucontext_t *uc, const Goroutine *g) {
  greg_t *r = uc->uc_mcontext.gregs;
  if (r[REG_TRAPNO] != saved_context_tag(r) ||
      static_cast<uint64_t>(r[REG_OLDMASK]) != g->id)
    return;
  const auto hi = static_cast<uintptr_t>(r[REG_CR2]);
  const auto size = static_cast<uintptr_t>(r[REG_ERR]);
  const auto sp = static_cast<uintptr_t>(r[REG_RSP]);
  if (hi == g->stack.hi || sp - (hi - size) >= size)
    return; // not moved, or relocated with the stack it lies on
  const uintptr_t delta = g->stack.hi - hi;
  for (int reg : {REG_R8, REG_R9, REG_R10, REG_R11, REG_R12, REG_R13, REG_R14,
                  REG_R15, REG_RDI, REG_RSI, REG_RBP, REG_RBX, REG_RDX, REG_RAX,
                  REG_RCX, REG_RSP}) {
    const auto v = static_cast<uintptr_t>(r[reg]);
    if (v - (hi - size) < size)
      r[reg] = static_cast<greg_t>(v + delta);
  }
  record_saved_context(uc, g->stack.hi - (hi - sp));
}

// The side stack of a context, in uc_mcontext.__reserved1 (see the top).
constexpr unsigned long long kSideStackTag = 0x676f736964650000; // "goside"

void save_side_stack(ucontext_t *uc, uintptr_t sp, uintptr_t limit) {
  unsigned long long *w = uc->uc_mcontext.__reserved1;
  w[0] = sp;
  w[1] = limit;
  w[2] = kSideStackTag ^ sp ^ limit;
}

void load_side_stack(const ucontext_t *uc) {
  const unsigned long long *w = uc->uc_mcontext.__reserved1;
  if (w[2] != (kSideStackTag ^ w[0] ^ w[1]))
    return; // a context saved by someone else: leave the side stack be
  __goroutine_side_sp = w[0];
  __goroutine_side_limit = w[1];
}

} // namespace
} // namespace go::runtime

using namespace go::runtime;

// glibc's getcontext, setcontext and swapcontext, looked up before main; the
// assembly below calls them.
extern "C" {
__attribute__((visibility("hidden"))) int (*goroutine_system_getcontext)(
    ucontext_t *);
__attribute__((visibility("hidden"))) int (*goroutine_system_setcontext)(
    const ucontext_t *);
__attribute__((visibility("hidden"))) int (*goroutine_system_swapcontext)(
    ucontext_t *, const ucontext_t *);
}

namespace {
bool system_contexts_probed = false; // the constructor has looked

// True if the C library's functions were found. A -static program has no
// dynamic linker to find them with (RTLD_NEXT), and libc.a's objects that
// define them are not linked in, since the runtime's definitions win.
bool lookup_system_contexts() {
  auto find = [](auto *&f, const char *name) {
    f = reinterpret_cast<std::remove_reference_t<decltype(f)>>(
        dlsym(RTLD_NEXT, name));
    return f != nullptr;
  };
  return find(goroutine_system_getcontext, "getcontext") &&
         find(goroutine_system_setcontext, "setcontext") &&
         find(goroutine_system_swapcontext, "swapcontext");
}

// Before main, so that no goroutine calls dlsym; a -static program that never
// uses the ucontext functions runs as usual.
__attribute__((constructor)) void probe_system_contexts() {
  lookup_system_contexts();
  system_contexts_probed = true;
}
} // namespace

// At a use: looks them up if the constructor has not run yet (a library's
// initializer, before any goroutine exists). If it ran and found nothing
// (a -static program), dies without calling dlsym again, which may be on a
// small goroutine stack.
extern "C" __attribute__((visibility("hidden"))) void
goroutine_find_system_contexts() {
  if (goroutine_system_swapcontext != nullptr)
    return;
  if (system_contexts_probed || !lookup_system_contexts())
    fatal("getcontext, setcontext and swapcontext are not available to a "
          "-static program linked with the goroutine runtime (it finds the C "
          "library's through the dynamic linker): link it dynamically");
}

// The assembly's helpers. getcontext: ucp was just filled (as if by a call
// returning to the program). setcontext/swapcontext: the switch to ucp is
// about to happen; swapcontext saves the current context in oucp, with the
// stack pointer the program will have when swapcontext returns.
extern "C" __attribute__((visibility("hidden"))) int
goroutine_context_saved(ucontext_t *ucp) {
  record_saved_context(ucp,
                       static_cast<uintptr_t>(ucp->uc_mcontext.gregs[REG_RSP]));
  save_side_stack(ucp, __goroutine_side_sp, __goroutine_side_limit);
  return 0;
}

extern "C" __attribute__((visibility("hidden"))) void
goroutine_context_entering(ucontext_t *ucp) {
  goroutine_find_system_contexts();
  if (const Goroutine *g = this_thread().g)
    relocate_saved_context(ucp, g);
  load_side_stack(ucp);
  enter_context(static_cast<uintptr_t>(ucp->uc_mcontext.gregs[REG_RSP]));
}

extern "C" __attribute__((visibility("hidden"))) void
goroutine_context_leaving(ucontext_t *oucp, ucontext_t *ucp, uintptr_t sp) {
  record_saved_context(oucp, sp);
  save_side_stack(oucp, __goroutine_side_sp, __goroutine_side_limit);
  goroutine_context_entering(ucp);
}

// getcontext, setcontext and swapcontext call glibc's with the program's own
// stack pointer and return address, so that a saved context resumes in the
// program's frame, not in one of ours. Offsets: ucontext_t's saved %rsp and
// %rip (static_asserted below).
//
// getcontext(ucp): glibc's records our frame; it is rewritten to the caller's
// (the callee-saved registers it saved are the caller's: we keep them).
// setcontext(ucp), swapcontext(oucp, ucp): goroutine_context_entering (and
// _leaving) run first; every argument is kept for glibc's.
static_assert(offsetof(ucontext_t, uc_mcontext.gregs) + 8 * REG_RSP == 160);
static_assert(offsetof(ucontext_t, uc_mcontext.gregs) + 8 * REG_RIP == 168);
asm(R"(
        .text
        .globl  getcontext
        .type   getcontext, @function
        .p2align 4
getcontext:
        .cfi_startproc
        pushq   %rdi
        .cfi_adjust_cfa_offset 8
        cmpq    $0, goroutine_system_getcontext(%rip)
        jne     2f
        call    goroutine_find_system_contexts
        movq    (%rsp), %rdi
2:      call    *goroutine_system_getcontext(%rip)
        popq    %rdi
        .cfi_adjust_cfa_offset -8
        testl   %eax, %eax
        jnz     1f
        leaq    8(%rsp), %rcx           // the caller's %rsp once we return
        movq    %rcx, 160(%rdi)
        movq    (%rsp), %rcx            // and where it continues
        movq    %rcx, 168(%rdi)
        jmp     goroutine_context_saved // returns 0 to the caller
1:      ret
        .cfi_endproc
        .size   getcontext, . - getcontext

        .globl  setcontext
        .type   setcontext, @function
        .p2align 4
setcontext:
        .cfi_startproc
        pushq   %rdi
        .cfi_adjust_cfa_offset 8
        call    goroutine_context_entering
        popq    %rdi
        .cfi_adjust_cfa_offset -8
        jmp     *goroutine_system_setcontext(%rip)
        .cfi_endproc
        .size   setcontext, . - setcontext

        .globl  swapcontext
        .type   swapcontext, @function
        .p2align 4
swapcontext:
        .cfi_startproc
        pushq   %rdi
        .cfi_adjust_cfa_offset 8
        pushq   %rsi
        .cfi_adjust_cfa_offset 8
        leaq    24(%rsp), %rdx          // the caller's %rsp once we return
        subq    $8, %rsp
        .cfi_adjust_cfa_offset 8
        call    goroutine_context_leaving
        addq    $8, %rsp
        .cfi_adjust_cfa_offset -8
        popq    %rsi
        .cfi_adjust_cfa_offset -8
        popq    %rdi
        .cfi_adjust_cfa_offset -8
        jmp     *goroutine_system_swapcontext(%rip)
        .cfi_endproc
        .size   swapcontext, . - swapcontext
)");

extern "C" int clone(int (*fn)(void *), void *stack, int flags, void *arg,
                     ...) noexcept {
  va_list ap;
  va_start(ap, arg);
  // glibc reads these whether or not flags use them; so do we.
  pid_t *parent_tid = va_arg(ap, pid_t *);
  void *tls = va_arg(ap, void *);
  pid_t *child_tid = va_arg(ap, pid_t *);
  va_end(ap);
  const bool shared_block = (flags & CLONE_VM) && !(flags & CLONE_SETTLS);
  if (fn == nullptr || stack == nullptr ||
      (shared_block && !(flags & CLONE_VFORK)))
    return __clone(fn, stack, flags, arg, parent_tid, tls, child_tid);

  const auto top = reinterpret_cast<uintptr_t>(stack);
  auto *start = reinterpret_cast<CloneStart *>((top - sizeof(CloneStart)) &
                                               ~uintptr_t{15});
  *start = CloneStart{fn, arg, !(flags & CLONE_SETTLS)};
  if (!shared_block)
    return __clone(clone_child, start, flags, start, parent_tid, tls,
                   child_tid);
  // The child clears this thread block (and may leave the side stack's
  // thread-locals anywhere); we are suspended until it execs or exits, and
  // take ours back then.
  const ThreadState saved = goroutine_thread_state;
  const uintptr_t limit = stack_limit();
  const uintptr_t side_sp = __goroutine_side_sp;
  const uintptr_t side_limit = __goroutine_side_limit;
  const int rc =
      __clone(clone_child, start, flags, start, parent_tid, tls, child_tid);
  goroutine_thread_state = saved;
  set_stack_limit(limit);
  __goroutine_side_sp = side_sp; // (its side frames went below ours)
  __goroutine_side_limit = side_limit;
  return rc;
}

extern "C" pid_t vfork() noexcept {
  const long pid =
      syscall(SYS_clone, CLONE_VFORK | SIGCHLD, nullptr, nullptr, nullptr, 0UL);
  if (pid == 0)
    forget_goroutines(true);
  return static_cast<pid_t>(pid);
}

extern "C" pid_t __vfork() noexcept { return vfork(); }

// A function started by makecontext returns here (its return address), with
// %rbx pointing at the uc_link slot; see makecontext.
extern "C" [[noreturn]] void goroutine_context_return(const ucontext_t *link) {
  side_stack_release_beyond(__goroutine_side_limit); // its side stack is empty
  if (link == nullptr)
    std::exit(0); // as glibc: the thread of control ends with the process
  setcontext(link);
  fatal("setcontext to uc_link failed: %s", strerror(errno));
}

extern "C" __attribute__((naked)) void goroutine_context_start() {
  asm(".cfi_undefined rip\n\t" // the end of the context's frames
      "movq %rbx, %rsp\n\t"
      "movq (%rsp), %rdi\n\t"
      "andq $-16, %rsp\n\t"
      "call goroutine_context_return\n\t"
      "ud2");
}

// Bytes of a context's stack that makecontext gives its side stack.
size_t side_stack_share(size_t stack_bytes) {
  constexpr size_t kMin = 256, kMax = size_t{16} * 1024;
  return std::min(std::max(stack_bytes / 16, kMin), kMax) & ~size_t{15};
}

// glibc's layout: func's arguments 1-6 in registers, the rest on the stack
// above its return address, then uc_link; %rbx points at uc_link. The side
// stack's first chunk is above all of it.
extern "C" void makecontext(ucontext_t *ucp, void (*func)(), int argc,
                            ...) noexcept {
  const int stack_args = argc > 6 ? argc - 6 : 0;
  const size_t side_bytes = side_stack_share(ucp->uc_stack.ss_size);
  const uintptr_t top = (reinterpret_cast<uintptr_t>(ucp->uc_stack.ss_sp) +
                         ucp->uc_stack.ss_size - side_bytes) &
                        ~uintptr_t{15}; // the side stack's first chunk
  uintptr_t side_limit;
  const uintptr_t side_sp =
      side_stack_in(reinterpret_cast<void *>(top), side_bytes, &side_limit);
  save_side_stack(ucp, side_sp, side_limit);
  const uintptr_t base = (top - (stack_args + 1) * 8) & ~uintptr_t{15};
  auto *sp = reinterpret_cast<uint64_t *>(base - 8); // %rsp at func's entry
  sp[0] = reinterpret_cast<uint64_t>(&goroutine_context_start);
  sp[stack_args + 1] = reinterpret_cast<uint64_t>(ucp->uc_link);
  greg_t *regs = ucp->uc_mcontext.gregs;
  regs[REG_RIP] = reinterpret_cast<greg_t>(func);
  regs[REG_RSP] = reinterpret_cast<greg_t>(sp);
  regs[REG_RBX] = reinterpret_cast<greg_t>(&sp[stack_args + 1]);
  regs[REG_RBP] = 0;    // frame-pointer walks end here
  regs[REG_TRAPNO] = 0; // not a context saved on a goroutine stack
  static constexpr int arg_regs[] = {REG_RDI, REG_RSI, REG_RDX,
                                     REG_RCX, REG_R8,  REG_R9};
  va_list ap;
  va_start(ap, argc);
  for (int i = 0; i < argc; ++i) {
    const auto value = va_arg(ap, uint64_t);
    if (i < 6)
      regs[arg_regs[i]] = static_cast<greg_t>(value);
    else
      sp[i - 5] = value;
  }
  va_end(ap);
}

namespace {
// The program's alternate signal stack for this runtime thread.
constinit thread_local stack_t program_signal_stack
    __attribute__((tls_model("initial-exec"))) = {nullptr, SS_DISABLE, 0};
} // namespace

extern "C" int sigaltstack(const stack_t *ss, stack_t *old) noexcept {
  if (this_thread().g == nullptr)
    return static_cast<int>(syscall(SYS_sigaltstack, ss, old));
  stack_t real;
  if (syscall(SYS_sigaltstack, nullptr, &real) != 0)
    return -1;
  const bool on_stack = (real.ss_flags & SS_ONSTACK) != 0;
  if (ss != nullptr) {
    if (on_stack) {
      errno = EPERM;
      return -1;
    }
    const int mode = ss->ss_flags & ~(1 << 31); // SS_AUTODISARM
    if (mode != 0 && mode != SS_DISABLE) {
      errno = EINVAL;
      return -1;
    }
    if (mode == 0 && ss->ss_size < static_cast<size_t>(MINSIGSTKSZ)) {
      errno = ENOMEM;
      return -1;
    }
  }
  stack_t &mine = program_signal_stack;
  if (old != nullptr) {
    *old = mine;
    if (on_stack)
      old->ss_flags = SS_ONSTACK;
  }
  if (ss != nullptr) {
    mine = *ss;
    if (ss->ss_flags & SS_DISABLE)
      mine = stack_t{nullptr, SS_DISABLE, 0};
  }
  return 0;
}
