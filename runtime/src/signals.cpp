// signals.cpp: signal handlers never run on goroutine stacks.
//
// A goroutine stack may have a few hundred bytes free; a signal handler
// pushing a ~1 KiB signal frame (more with AVX-512 state) plus its own frames
// would overrun it. So:
//  - every runtime thread has an alternate signal stack (ThreadSignalStack);
//  - every handler is installed with SA_ONSTACK: the runtime's own, and the
//    program's, because this file interposes sigaction(), signal(),
//    bsd_signal(), sysv_signal() and sigset() (the executable exports them, see
//    the link flags in cmake/GoroutineInstrument.cmake) and adds SA_ONSTACK to
//    every handler before passing it to glibc.
// On threads without an alternate stack SA_ONSTACK changes nothing.
//
// Faults on a goroutine (SIGSEGV, SIGBUS) are reported like Go's runtime does,
// with the goroutine's stack trace; a write into the guard page below a stack
// (GOROUTINE_DEBUG=guardpages=1) is reported as a stack overflow.
#include "signals.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <sys/mman.h>
#include <ucontext.h>
#include <unistd.h>

#include "stack.h"
#include "trace.h"

// glibc's real sigaction, which its own signal() also uses.
extern "C" int __sigaction(int sig, const struct sigaction *act,
                           struct sigaction *old) noexcept;

namespace go::runtime {
namespace {

constexpr size_t kSignalStackSize = 64 * 1024;

bool is_handler(const struct sigaction &sa) {
  if (sa.sa_flags & SA_SIGINFO)
    return sa.sa_sigaction != nullptr;
  return sa.sa_handler != SIG_DFL && sa.sa_handler != SIG_IGN &&
         sa.sa_handler != SIG_ERR;
}

int install(int sig, const struct sigaction *act, struct sigaction *old) {
  if (act == nullptr || !is_handler(*act))
    return __sigaction(sig, act, old);
  struct sigaction copy = *act;
  copy.sa_flags |= SA_ONSTACK;
  return __sigaction(sig, &copy, old);
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
  const auto *uc = static_cast<const ucontext_t *>(uctx);
  const greg_t *r = uc->uc_mcontext.gregs;
  const auto addr = reinterpret_cast<uintptr_t>(info->si_addr);
  TraceContext ctx;
  ctx.pc = static_cast<uint64_t>(r[REG_RIP]);
  ctx.sp = static_cast<uint64_t>(r[REG_RSP]);
  ctx.rbp = static_cast<uint64_t>(r[REG_RBP]);
  ctx.rbx = static_cast<uint64_t>(r[REG_RBX]);
  ctx.r12 = static_cast<uint64_t>(r[REG_R12]);
  ctx.r13 = static_cast<uint64_t>(r[REG_R13]);
  ctx.r14 = static_cast<uint64_t>(r[REG_R14]);
  ctx.r15 = static_cast<uint64_t>(r[REG_R15]);
  ctx.exact_pc = true;
  if (stack_guard_page_contains(g->stack, addr)) {
    print("goroutine %llu wrote below its stack [%#lx, %#lx) at %#lx "
          "(guard page): code that was not instrumented, or that ran past "
          "the reserve, overflowed the stack",
          static_cast<unsigned long long>(g->id),
          static_cast<unsigned long>(g->stack.lo),
          static_cast<unsigned long>(g->stack.hi),
          static_cast<unsigned long>(addr));
    fatal_with_trace(g, ctx, "stack overflow");
  }
  char msg[160];
  std::snprintf(msg, sizeof msg,
                "unexpected signal\n[signal %s code=%#x addr=%#lx pc=%#lx]",
                signal_name(sig), static_cast<unsigned>(info->si_code),
                static_cast<unsigned long>(addr),
                static_cast<unsigned long>(ctx.pc));
  fatal_with_trace(g, ctx, msg);
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

ThreadSignalStack::ThreadSignalStack() {
  long min = sysconf(_SC_SIGSTKSZ);
  size_ = kSignalStackSize + (min > 0 ? static_cast<size_t>(min) : 0);
  memory_ = mmap(nullptr, size_, PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (memory_ == MAP_FAILED)
    fatal("cannot allocate a signal stack: %s", std::strerror(errno));
  stack_t ss{};
  ss.ss_sp = memory_;
  ss.ss_size = size_;
  if (sigaltstack(&ss, &previous_) != 0)
    fatal("sigaltstack: %s", std::strerror(errno));
}

ThreadSignalStack::~ThreadSignalStack() {
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
sighandler_t bsd_style_signal(int sig, sighandler_t handler) {
  if (handler == SIG_ERR || sig < 1 || sig >= NSIG) {
    errno = EINVAL;
    return SIG_ERR;
  }
  struct sigaction act, old;
  std::memset(&act, 0, sizeof act);
  act.sa_handler = handler;
  sigemptyset(&act.sa_mask);
  sigaddset(&act.sa_mask, sig);
  act.sa_flags = SA_RESTART;
  if (go::runtime::install(sig, &act, &old) < 0)
    return SIG_ERR;
  return old.sa_handler;
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
  if (handler == SIG_ERR || sig < 1 || sig >= NSIG) {
    errno = EINVAL;
    return SIG_ERR;
  }
  struct sigaction act, old;
  std::memset(&act, 0, sizeof act);
  act.sa_handler = handler;
  sigemptyset(&act.sa_mask);
  act.sa_flags = SA_RESETHAND | SA_NODEFER;
  if (go::runtime::install(sig, &act, &old) < 0)
    return SIG_ERR;
  return old.sa_handler;
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
    if (__sigaction(sig, nullptr, &old) < 0 ||
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
