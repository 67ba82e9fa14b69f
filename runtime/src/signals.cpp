// signals.cpp: signal handlers never run on goroutine stacks.
//
// A goroutine stack may have a few hundred bytes free; a signal handler
// pushing a ~1 KiB signal frame (more with AVX-512 state) plus its own frames
// would overrun it. So:
//  - every runtime thread has an alternate signal stack (ThreadSignalStack);
//  - every handler is installed with SA_ONSTACK: the runtime's own, and the
//    program's, because this file interposes sigaction(), signal(),
//    bsd_signal(), sysv_signal() and sigset() (the executable exports them, see
//    the link flags in cmake/GoroutineInstrument.cmake);
//  - the program's handlers run through signal_trampoline, which clears the
//    split-stack limit while they run: instrumented code in a handler, on the
//    signal stack, must not be checked against the interrupted goroutine's
//    limit. A handler that siglongjmps back into the goroutine gets the limit
//    restored by longjmp (setjmp.S).
// On threads without an alternate stack SA_ONSTACK changes nothing, and their
// limit is 0 anyway.
//
// Faults on a goroutine (SIGSEGV, SIGBUS) are reported like Go's runtime does,
// with the goroutine's stack trace; a write into the guard page below a stack
// (GOROUTINE_DEBUG=guardpages=1) is reported as a stack overflow.
#include "signals.h"

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <sys/mman.h>
#include <ucontext.h>
#include <unistd.h>

#include "stack.h"
#include "trace.h"

// The program's text, from the linker.
extern "C" const char __executable_start[];
extern "C" const char etext[];

// glibc's real sigaction, which its own signal() also uses.
extern "C" int __sigaction(int sig, const struct sigaction *act,
                           struct sigaction *old) noexcept;

namespace go::runtime {
namespace {

// Room for the handler of a fatal fault, which symbolizes the trace with
// libdw (tens of KiB of stack when it first reads the DWARF). Pages are only
// touched when used.
constexpr size_t kSignalStackSize = size_t{512} * 1024;
constexpr size_t kGuardPage = 4096;

bool is_handler(const struct sigaction &sa) {
  if (sa.sa_flags & SA_SIGINFO)
    return sa.sa_sigaction != nullptr;
  return sa.sa_handler != SIG_DFL && sa.sa_handler != SIG_IGN &&
         sa.sa_handler != SIG_ERR;
}

// The program's handlers, by signal number. The kernel is given
// signal_trampoline instead, which runs them with the limit slot cleared: a
// handler runs on the signal stack, and instrumented code in it must not
// compare that stack against the interrupted goroutine's limit.
struct ProgramHandler {
  std::atomic<void *> fn{nullptr}; // sa_handler or sa_sigaction
  std::atomic<bool> siginfo{false};
};
ProgramHandler program_handlers[NSIG];
std::mutex program_handlers_mu; // serializes changes through sigaction()

void signal_trampoline(int sig, siginfo_t *info, void *uctx) {
  const uintptr_t saved = stack_limit();
  set_stack_limit(0);
  const ProgramHandler &h = program_handlers[sig];
  void *fn = h.fn.load(std::memory_order_acquire);
  if (h.siginfo.load(std::memory_order_relaxed))
    reinterpret_cast<void (*)(int, siginfo_t *, void *)>(fn)(sig, info, uctx);
  else
    reinterpret_cast<void (*)(int)>(fn)(sig);
  set_stack_limit(saved); // (a handler that longjmps out never gets here;
                          // longjmp restores the limit itself)
}

// What the program installed, as the program should see it: the kernel's
// action, with the trampoline replaced by the program's handler.
void report(const struct sigaction &kernel, const ProgramHandler &prev,
            struct sigaction *out) {
  *out = kernel;
  if (!(kernel.sa_flags & SA_SIGINFO) ||
      kernel.sa_sigaction != signal_trampoline)
    return;
  if (prev.siginfo.load(std::memory_order_relaxed)) {
    out->sa_sigaction = reinterpret_cast<void (*)(int, siginfo_t *, void *)>(
        prev.fn.load(std::memory_order_relaxed));
  } else {
    out->sa_flags &= ~SA_SIGINFO;
    out->sa_handler =
        reinterpret_cast<sighandler_t>(prev.fn.load(std::memory_order_relaxed));
  }
}

int install(int sig, const struct sigaction *act, struct sigaction *old) {
  if (sig < 1 || sig >= NSIG)
    return __sigaction(sig, act, old); // glibc reports EINVAL
  std::lock_guard<std::mutex> lock(program_handlers_mu);
  ProgramHandler &h = program_handlers[sig];
  ProgramHandler prev;
  prev.fn.store(h.fn.load(std::memory_order_relaxed));
  prev.siginfo.store(h.siginfo.load(std::memory_order_relaxed));
  struct sigaction kernel_old;
  int rc;
  if (act == nullptr || !is_handler(*act)) {
    rc = __sigaction(sig, act, &kernel_old);
  } else {
    const bool siginfo = (act->sa_flags & SA_SIGINFO) != 0;
    h.siginfo.store(siginfo, std::memory_order_relaxed);
    h.fn.store(siginfo ? reinterpret_cast<void *>(act->sa_sigaction)
                       : reinterpret_cast<void *>(act->sa_handler),
               std::memory_order_release);
    struct sigaction copy = *act;
    copy.sa_sigaction = signal_trampoline;
    copy.sa_flags |= SA_SIGINFO | SA_ONSTACK;
    rc = __sigaction(sig, &copy, &kernel_old);
    if (rc != 0) {
      h.siginfo.store(prev.siginfo.load(std::memory_order_relaxed));
      h.fn.store(prev.fn.load(std::memory_order_relaxed));
    }
  }
  if (rc == 0 && old != nullptr)
    report(kernel_old, prev, old);
  return rc;
}

const char *signal_name(int sig) {
  switch (sig) {
  case SIGSEGV:
    return "SIGSEGV: segmentation violation";
  case SIGBUS:
    return "SIGBUS: bus error";
  default:
    return "signal";
  }
}

void on_fault(int sig, siginfo_t *info, void *uctx) {
  const Goroutine *g = goroutine_thread_state.g;
  if (g == nullptr) {
    // Not ours: restore the default action; returning re-runs the faulting
    // instruction, which now kills the process the usual way.
    signal(sig, SIG_DFL);
    return;
  }
  const auto addr = reinterpret_cast<uintptr_t>(info->si_addr);
  const TraceContext ctx =
      TraceContext::from_ucontext(*static_cast<const ucontext_t *>(uctx));
  // Outside the program's own code the fault may have interrupted malloc
  // (heap corruption): no source lines then, which would call malloc again.
  const Symbolize how =
      ctx.pc >= reinterpret_cast<uintptr_t>(__executable_start) &&
              ctx.pc < reinterpret_cast<uintptr_t>(etext)
          ? Symbolize::LinesIfIdle
          : Symbolize::NamesOnly;
  // A fault in the guard region, or with %rsp already below the stack, is
  // the stack overflowing: code that was not instrumented needed more than
  // the reserve its caller guaranteed. Not on a user context (stackguard 0,
  // contexts.cpp): its stack may lie anywhere below the goroutine's.
  const bool sp_below = g->stackguard != 0 && ctx.sp < g->stack.lo &&
                        ctx.sp + (1u << 30) > g->stack.lo;
  if (stack_guard_contains(g->stack, addr) || sp_below) {
    print(
        "goroutine %llu wrote below its stack [%#lx, %#lx) at %#lx (sp=%#lx): "
        "code that was not instrumented, or that ran past the reserve, "
        "overflowed the stack",
        static_cast<unsigned long long>(g->id),
        static_cast<unsigned long>(g->stack.lo),
        static_cast<unsigned long>(g->stack.hi),
        static_cast<unsigned long>(addr), static_cast<unsigned long>(ctx.sp));
    fatal_with_trace(g, ctx, "stack overflow", how);
  }
  if (stack_quarantine_contains(addr)) {
    print("goroutine %llu accessed %#lx, in a stack that a goroutine has moved "
          "away from: a pointer into a goroutine stack was kept where stack "
          "moves cannot update it (in the heap, a global, another stack or a "
          "register of uninstrumented code); see docs/guide.md, \"The "
          "pointer contract\"",
          static_cast<unsigned long long>(g->id),
          static_cast<unsigned long>(addr));
    fatal_with_trace(g, ctx, "use of a moved stack", how);
  }
  char msg[160];
  std::snprintf(msg, sizeof msg,
                "unexpected signal\n[signal %s code=%#x addr=%#lx pc=%#lx]",
                signal_name(sig), static_cast<unsigned>(info->si_code),
                static_cast<unsigned long>(addr),
                static_cast<unsigned long>(ctx.pc));
  fatal_with_trace(g, ctx, msg, how);
}

void install_fault_handler(int sig) {
  struct sigaction current;
  if (__sigaction(sig, nullptr, &current) != 0 || is_handler(current) ||
      current.sa_handler == SIG_IGN)
    return; // the program's choice stands
  struct sigaction sa;
  std::memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = on_fault;
  sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_NODEFER;
  sigemptyset(&sa.sa_mask);
  __sigaction(sig, &sa, nullptr);
}

} // namespace

void signals_init() {
  install_fault_handler(SIGSEGV);
  install_fault_handler(SIGBUS);
}

constinit thread_local uintptr_t signal_stack_lo = 0, signal_stack_hi = 0;

ThreadSignalStack::ThreadSignalStack() {
  long min = sysconf(_SC_SIGSTKSZ);
  const size_t usable =
      kSignalStackSize + (min > 0 ? static_cast<size_t>(min) : 0);
  // An inaccessible page below it: a handler that overflows faults rather
  // than writing over whatever is mapped there.
  size_ = usable + kGuardPage;
  memory_ = mmap(nullptr, size_, PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (memory_ == MAP_FAILED)
    fatal("cannot allocate a signal stack: %s", std::strerror(errno));
  mprotect(memory_, kGuardPage, PROT_NONE);
  stack_t ss{};
  ss.ss_sp = static_cast<char *>(memory_) + kGuardPage;
  ss.ss_size = usable;
  if (sigaltstack(&ss, &previous_) != 0)
    fatal("sigaltstack: %s", std::strerror(errno));
  signal_stack_lo = reinterpret_cast<uintptr_t>(ss.ss_sp);
  signal_stack_hi = signal_stack_lo + usable;
}

ThreadSignalStack::~ThreadSignalStack() {
  signal_stack_lo = signal_stack_hi = 0;
  if (previous_.ss_flags & SS_DISABLE)
    previous_.ss_size = MINSIGSTKSZ; // the kernel checks it even then
  sigaltstack(&previous_, nullptr);
  munmap(memory_, size_);
}

} // namespace go::runtime

// ---------------------------------------------------------------------------
// Interposed glibc functions: the program's handlers get SA_ONSTACK too.

extern "C" int sigaction(int sig, const struct sigaction *act,
                         struct sigaction *old) noexcept {
  return go::runtime::install(sig, act, old);
}

namespace {

// glibc's signal()/bsd_signal(): BSD semantics (handler stays, the signal is
// blocked while it runs, interrupted calls restart).
// Installs a signal()-style handler with `flags`; `block_self` blocks the
// signal while the handler runs.
sighandler_t install_plain_handler(int sig, sighandler_t handler, int flags,
                                   bool block_self) {
  if (handler == SIG_ERR || sig < 1 || sig >= NSIG) {
    errno = EINVAL;
    return SIG_ERR;
  }
  struct sigaction act, old;
  std::memset(&act, 0, sizeof act);
  act.sa_handler = handler;
  sigemptyset(&act.sa_mask);
  if (block_self)
    sigaddset(&act.sa_mask, sig);
  act.sa_flags = flags;
  if (go::runtime::install(sig, &act, &old) < 0)
    return SIG_ERR;
  return old.sa_handler;
}

sighandler_t bsd_style_signal(int sig, sighandler_t handler) {
  return install_plain_handler(sig, handler, SA_RESTART, /*block_self=*/true);
}

} // namespace

extern "C" sighandler_t signal(int sig, sighandler_t handler) noexcept {
  return bsd_style_signal(sig, handler);
}

extern "C" sighandler_t bsd_signal(int sig, sighandler_t handler) noexcept {
  return bsd_style_signal(sig, handler);
}

// System V semantics: one-shot, not blocked while running, no restart.
extern "C" sighandler_t sysv_signal(int sig, sighandler_t handler) noexcept {
  return install_plain_handler(sig, handler, SA_RESETHAND | SA_NODEFER,
                               /*block_self=*/false);
}

// X/Open sigset(): like sysv_signal but the handler stays installed; SIG_HOLD
// blocks the signal instead.
extern "C" sighandler_t sigset(int sig, sighandler_t disp) noexcept {
  if (sig < 1 || sig >= NSIG) {
    errno = EINVAL;
    return SIG_ERR;
  }
  sigset_t set, old_mask;
  sigemptyset(&set);
  sigaddset(&set, sig);
  struct sigaction old;
  if (disp == SIG_HOLD) {
    if (go::runtime::install(sig, nullptr, &old) < 0 ||
        sigprocmask(SIG_BLOCK, &set, &old_mask) < 0)
      return SIG_ERR;
    return sigismember(&old_mask, sig) ? SIG_HOLD : old.sa_handler;
  }
  struct sigaction act;
  std::memset(&act, 0, sizeof act);
  act.sa_handler = disp;
  sigemptyset(&act.sa_mask);
  if (go::runtime::install(sig, &act, &old) < 0 ||
      sigprocmask(SIG_UNBLOCK, &set, &old_mask) < 0)
    return SIG_ERR;
  return sigismember(&old_mask, sig) ? SIG_HOLD : old.sa_handler;
}

// setjmp.S: __longjmp_chk found a target below the current %rsp. As in glibc,
// that is only valid when leaving a handler on the alternate signal stack.
extern "C" void goroutine_longjmp_check(uintptr_t target_sp, uintptr_t) {
  stack_t ss;
  if (sigaltstack(nullptr, &ss) == 0 && (ss.ss_flags & SS_ONSTACK) != 0) {
    const auto lo = reinterpret_cast<uintptr_t>(ss.ss_sp);
    if (target_sp < lo || target_sp >= lo + ss.ss_size)
      return;
  }
  go::runtime::fatal("longjmp causes uninitialized stack frame");
}

// setjmp.S: a buffer filled on a goroutine is used on a thread running none.
extern "C" void goroutine_longjmp_misuse() {
  go::runtime::fatal("longjmp: the jmp_buf was filled by setjmp on a "
                     "goroutine, but longjmp runs outside any goroutine");
}
