// trace.cpp: Go-style stack traces of goroutines.
//
//   goroutine 7 [chan receive]:
//   consume(go::chan<int>&)
//           /src/app.cpp:42 +0x3c
//
// Walking uses libunwind; names come from libunwind (the symbol tables) and
// file:line and inlined calls from symbolize.cpp (libdw) where the program
// has debug information. libunwind is loaded with dlopen(RTLD_LOCAL) the
// first time a trace is needed, not linked: libunwind.so also exports the
// _Unwind_* functions of the C++ exception ABI, and linking it would let them
// interpose libgcc's unwinder for every exception in the program.
//
// A walk starts from explicit registers (a morestack frame, a switched-out
// goroutine's saved context, a signal's context, or the current context) and
// ends at goroutine_trampoline, whose CFI marks the return address undefined.
// Return addresses are looked up at pc-1, the call instruction, as Go does.
#include "trace.h"

#include "symbolize.h"

#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <cxxabi.h>
#include <dlfcn.h>
#include <mutex>
#include <unistd.h>

#define UNW_LOCAL_ONLY
#include <libunwind.h>

// Functions that may be on a switched-out goroutine's stack between its user
// frames and goroutine_switch live in this section (proc.cpp, context.S):
// their stack use is bounded, so they do not need the reserve that frames of
// uninstrumented code need.
extern "C" const char __start_goroutine_park_text[];
extern "C" const char __stop_goroutine_park_text[];
extern "C" void goroutine_systemstack(void (*)(void *), void *);
extern "C" void goroutine_preempt_stub();

namespace go::runtime {
namespace {

struct Libunwind {
  int (*init_local2)(unw_cursor_t *, unw_context_t *, int) = nullptr;
  int (*step)(unw_cursor_t *) = nullptr;
  int (*get_reg)(unw_cursor_t *, unw_regnum_t, unw_word_t *) = nullptr;
  int (*get_proc_name)(unw_cursor_t *, char *, size_t, unw_word_t *) = nullptr;
  int (*get_proc_info)(unw_cursor_t *, unw_proc_info_t *) = nullptr;
  int (*getcontext)(unw_context_t *) = nullptr;
  bool ok = false;
};

const Libunwind &libunwind() {
  static Libunwind lib;
  static std::once_flag once;
  std::call_once(once, [] {
    void *h = dlopen("libunwind.so.8", RTLD_NOW | RTLD_LOCAL);
    if (h == nullptr)
      return;
    lib.ok = dl_symbol(h, lib.init_local2, "_ULx86_64_init_local2") &&
             dl_symbol(h, lib.step, "_ULx86_64_step") &&
             dl_symbol(h, lib.get_reg, "_ULx86_64_get_reg") &&
             dl_symbol(h, lib.get_proc_name, "_ULx86_64_get_proc_name") &&
             dl_symbol(h, lib.get_proc_info, "_ULx86_64_get_proc_info") &&
             dl_symbol(h, lib.getcontext, "_Ux86_64_getcontext");
  });
  return lib;
}

void fill_context(unw_context_t *uc, const TraceContext &t) {
  std::memset(uc, 0, sizeof *uc);
  greg_t *r = uc->uc_mcontext.gregs;
  r[REG_RIP] = static_cast<greg_t>(t.pc);
  r[REG_RSP] = static_cast<greg_t>(t.sp);
  r[REG_RBP] = static_cast<greg_t>(t.rbp);
  r[REG_RBX] = static_cast<greg_t>(t.rbx);
  r[REG_R12] = static_cast<greg_t>(t.r12);
  r[REG_R13] = static_cast<greg_t>(t.r13);
  r[REG_R14] = static_cast<greg_t>(t.r14);
  r[REG_R15] = static_cast<greg_t>(t.r15);
}

constexpr int kMaxFrames = 100;

// Prints prefix, the demangled function name (or "?") and suffix, a line.
void print_function(TraceWriter &w, const char *name, const char *prefix = "",
                    const char *suffix = "") {
  int status = -1;
  char *demangled = name != nullptr
                        ? abi::__cxa_demangle(name, nullptr, nullptr, &status)
                        : nullptr;
  w.printf("%s%s%s\n", prefix,
           status == 0       ? demangled
           : name != nullptr ? name
                             : "?",
           suffix);
  std::free(demangled);
}

constexpr int kMaxInlined = 16;

// Prints the frame at pc: the calls inlined there, innermost first, then its
// function (name, from the symbol table), each with its source line; without
// debug information, the module and the pc's offset in it instead.
void print_frame(TraceWriter &w, const char *name, uintptr_t pc,
                 unsigned long offset, bool exact, Symbolize how) {
  // A return address points after the call: the call is at pc-1.
  const uintptr_t lookup_pc = exact ? pc : pc - 1;
  SourceLocation loc[kMaxInlined];
  const int n =
      how == Symbolize::NamesOnly
          ? 0
          : symbolize(lookup_pc, how == Symbolize::Lines, loc, kMaxInlined);
  for (int i = 0; i + 1 < n; ++i) {
    if (loc[i].line == 0)
      continue; // code the compiler made up for it, with no line of its own
    print_function(w, loc[i].function);
    w.printf("\t%s:%d\n", loc[i].file != nullptr ? loc[i].file : "?",
             loc[i].line);
  }
  print_function(w, name);
  if (n > 0 && loc[n - 1].file != nullptr && loc[n - 1].line > 0) {
    w.printf("\t%s:%d +%#lx\n", loc[n - 1].file, loc[n - 1].line, offset);
    return;
  }
  Dl_info info;
  if (dladdr(reinterpret_cast<void *>(lookup_pc), &info) != 0 &&
      info.dli_fname != nullptr)
    w.printf("\t%s+%#lx +%#lx\n", info.dli_fname,
             static_cast<unsigned long>(
                 pc - reinterpret_cast<uintptr_t>(info.dli_fbase)),
             offset);
  else
    w.printf("\tpc=%#lx\n", static_cast<unsigned long>(pc));
}

// Prints the frames reachable from cursor c. With skip_through, the frames up
// to and including the function that starts there are left out (the
// runtime's own path to the code printing the trace), if it is on the stack.
void print_frames(TraceWriter &w, const Libunwind &lib, unw_cursor_t *c,
                  bool exact, Symbolize how, uintptr_t skip_through = 0) {
  int skip = 0;
  if (skip_through != 0) {
    unw_cursor_t probe = *c;
    for (int depth = 1; depth < 4 * kMaxFrames; ++depth) {
      unw_proc_info_t pi;
      if (lib.get_proc_info(&probe, &pi) == 0 && pi.start_ip == skip_through) {
        skip = depth;
        break;
      }
      if (lib.step(&probe) <= 0)
        break;
    }
  }
  for (int depth = 0; depth < skip + kMaxFrames; ++depth) {
    if (depth >= skip) {
      unw_word_t ip = 0, offset = 0;
      lib.get_reg(c, UNW_REG_IP, &ip);
      char name[512];
      const bool named = lib.get_proc_name(c, name, sizeof name, &offset) == 0;
      print_frame(w, named ? name : nullptr, ip,
                  static_cast<unsigned long>(offset), exact, how);
    }
    // The frame below goroutine_preempt_stub was interrupted at an exact pc
    // (a function entry), not at a return address.
    unw_proc_info_t pi;
    exact = lib.get_proc_info(c, &pi) == 0 &&
            pi.start_ip == reinterpret_cast<uintptr_t>(&goroutine_preempt_stub);
    if (lib.step(c) <= 0)
      return;
  }
  w.printf("...additional frames elided...\n");
}

// True for a (mangled) name in namespace go: the library's own inline
// functions, which a "created by" line looks through.
bool in_namespace_go(const char *name) {
  if (name == nullptr)
    return false;
  for (const char *prefix : {GOROUTINE_RUNTIME_CXX_PREFIXES})
    if (std::strncmp(name, prefix, std::strlen(prefix)) == 0)
      return true;
  return false;
}

// Go's last line of a goroutine's trace: the function with the go statement
// that started it, and the line. go::spawn is always inlined, so the spawn
// call's return address has the go statement's function in its inline chain
// (or as the function itself).
void print_created_by(TraceWriter &w, const Goroutine *g, Symbolize how) {
  if (g == nullptr || g->creator_pc == 0)
    return;
  const uintptr_t call = g->creator_pc - 1; // the call, not the return
  const bool may_wait = how == Symbolize::Lines;
  char symbol[512];
  SourceLocation loc[kMaxInlined];
  const bool named = how != Symbolize::NamesOnly &&
                     symbol_name(call, symbol, sizeof symbol, may_wait);
  const int n = how != Symbolize::NamesOnly
                    ? symbolize(call, may_wait, loc, kMaxInlined)
                    : 0;
  // The innermost frame outside namespace go; the outermost is the real
  // function, named by the symbol table.
  int at = n - 1;
  for (int i = 0; i + 1 < n; ++i)
    if (!in_namespace_go(loc[i].function)) {
      at = i;
      break;
    }
  const char *name = at >= 0 && at + 1 < n ? loc[at].function
                     : named               ? symbol
                                           : nullptr;
  char in[48] = "";
  if (g->creator_id != 0)
    std::snprintf(in, sizeof in, " in goroutine %llu",
                  static_cast<unsigned long long>(g->creator_id));
  print_function(w, name, "created by ", in);
  if (at >= 0 && loc[at].file != nullptr && loc[at].line > 0)
    w.printf("\t%s:%d\n", loc[at].file, loc[at].line);
  else
    w.printf("\tpc=%#lx\n", static_cast<unsigned long>(g->creator_pc));
}

void print_header(TraceWriter &w, const Goroutine *g, const char *state) {
  w.printf("goroutine %llu [%s]:\n", static_cast<unsigned long long>(g->id),
           state);
}

// The byte patterns LLVM's split-stack prologue and the plugin's prologue
// checks (VariadicSplit.cpp) start with; see morestack.S and
// <goroutine/abi.h>. ld.lld replaces the short compare by `stc` and a nop of
// the same length (split_stack_notes.h).
bool starts_with_stack_check(const uint8_t *p) {
  using namespace go::contract;
  if (std::memcmp(p, kEndbr64, sizeof kEndbr64) == 0)
    p += sizeof kEndbr64;
  if (std::memcmp(p, kCmpRspLimit, sizeof kCmpRspLimit) == 0)
    return true;
  static constexpr uint8_t kLldStcNop[] = {0xf9, 0x0f, 0x1f, 0x84, 0x00,
                                           0x00, 0x00, 0x00, 0x00};
  static_assert(sizeof kLldStcNop == sizeof kCmpRspLimit);
  if (std::memcmp(p, kLldStcNop, sizeof kLldStcNop) == 0)
    return true;
  return std::memcmp(p, kLeaR11Rsp, sizeof kLeaR11Rsp) == 0 &&
         std::memcmp(p + sizeof kLeaR11Rsp + 4, kCmpR11Limit,
                     sizeof kCmpR11Limit) == 0; // after lea's disp32
}

} // namespace

TraceContext TraceContext::from_frame(const RegisterFrame &f) {
  TraceContext t;
  t.rbp = f.rbp;
  t.rbx = f.rbx;
  t.r12 = f.r12;
  t.r13 = f.r13;
  t.r14 = f.r14;
  t.r15 = f.r15;
  t.exact_pc = true;
  return t;
}

TraceContext TraceContext::from_switch(uintptr_t saved_sp) {
  const auto *f = reinterpret_cast<const goroutine_switch_frame *>(saved_sp);
  TraceContext t;
  t.r15 = f->r15;
  t.r14 = f->r14;
  t.r13 = f->r13;
  t.r12 = f->r12;
  t.rbx = f->rbx;
  t.rbp = f->rbp;
  t.pc = f->return_address;
  t.sp = saved_sp + sizeof *f; // goroutine_switch's `ret` pops the frame
  return t;
}

TraceContext TraceContext::from_ucontext(const ucontext_t &uc) {
  const greg_t *r = uc.uc_mcontext.gregs;
  TraceContext t;
  t.pc = static_cast<uint64_t>(r[REG_RIP]);
  t.sp = static_cast<uint64_t>(r[REG_RSP]);
  t.rbp = static_cast<uint64_t>(r[REG_RBP]);
  t.rbx = static_cast<uint64_t>(r[REG_RBX]);
  t.r12 = static_cast<uint64_t>(r[REG_R12]);
  t.r13 = static_cast<uint64_t>(r[REG_R13]);
  t.r14 = static_cast<uint64_t>(r[REG_R14]);
  t.r15 = static_cast<uint64_t>(r[REG_R15]);
  t.exact_pc = true;
  return t;
}

void TraceWriter::write(const char *s, size_t n) {
  total_ += n;
  if (fd_ >= 0) {
    while (n > 0) {
      const ssize_t k = ::write(fd_, s, n);
      if (k <= 0)
        return;
      s += k;
      n -= static_cast<size_t>(k);
    }
    return;
  }
  const size_t used = total_ - n;
  if (used < cap_)
    std::memcpy(buf_ + used, s, std::min(n, cap_ - used));
}

void TraceWriter::printf(const char *fmt, ...) {
  char line[1024];
  va_list ap;
  va_start(ap, fmt);
  int n = std::vsnprintf(line, sizeof line, fmt, ap);
  va_end(ap);
  if (n > static_cast<int>(sizeof line) - 1)
    n = sizeof line - 1;
  if (n > 0)
    write(line, static_cast<size_t>(n));
}

void trace_print(TraceWriter &w, const Goroutine *g, const char *state,
                 const TraceContext &ctx, Symbolize how) {
  print_header(w, g, state);
  const Libunwind &lib = libunwind();
  if (!lib.ok) {
    w.printf("\t(no stack trace: libunwind.so.8 could not be loaded)\n"
             "\tpc=%#lx\n",
             static_cast<unsigned long>(ctx.pc));
    return;
  }
  unw_context_t uc;
  fill_context(&uc, ctx);
  unw_cursor_t c;
  if (lib.init_local2(&c, &uc, ctx.exact_pc ? UNW_INIT_SIGNAL_FRAME : 0) != 0)
    return;
  print_frames(w, lib, &c, ctx.exact_pc, how);
  print_created_by(w, g, how);
}

void trace_print(const Goroutine *g, const char *state, const TraceContext &ctx,
                 Symbolize how) {
  TraceWriter w(STDERR_FILENO);
  trace_print(w, g, state, ctx, how);
}

void trace_print_current(TraceWriter &w, const Goroutine *g, const char *state,
                         uintptr_t skip_through, Symbolize how) {
  if (g != nullptr)
    print_header(w, g, state);
  else
    w.printf("thread (no goroutine) [%s]:\n", state);
  const Libunwind &lib = libunwind();
  if (!lib.ok) {
    w.printf("\t(no stack trace: libunwind.so.8 could not be loaded)\n");
    return;
  }
  unw_context_t uc;
  lib.getcontext(&uc);
  unw_cursor_t c;
  if (lib.init_local2(&c, &uc, 0) != 0)
    return;
  lib.step(&c); // not this function
  print_frames(w, lib, &c, false, how, skip_through);
  print_created_by(w, g, how);
}

void trace_print_current(const Goroutine *g, const char *state) {
  TraceWriter w(STDERR_FILENO);
  trace_print_current(w, g, state,
                      reinterpret_cast<uintptr_t>(&goroutine_systemstack),
                      Symbolize::LinesIfIdle);
}

void trace_print_stopped(TraceWriter &w, const Goroutine *g) {
  const GoroutineStatus status = g->status.load(std::memory_order_acquire);
  if (status == GoroutineStatus::Running) { // in go::blocking, as Go says
    print_header(w, g, "running");
    w.printf("\tgoroutine running on other thread; stack unavailable\n");
    return;
  }
  if (g->stack.lo == 0) { // never run: only its entry function is known
    print_header(w, g, "runnable");
    const auto entry = reinterpret_cast<uintptr_t>(g->entry);
    char name[512];
    const bool named = symbol_name(entry, name, sizeof name);
    print_frame(w, named ? name : nullptr, entry, 0, true, Symbolize::Lines);
    w.printf("\t(not started)\n");
    print_created_by(w, g, Symbolize::Lines);
    return;
  }
  const char *state = status == GoroutineStatus::Waiting
                          ? wait_reason_string(g->wait_reason)
                          : "runnable";
  trace_print(w, g, state, TraceContext::from_switch(g->sched_sp));
}

bool trace_has_uninstrumented_frames(const Goroutine *g) {
  const Libunwind &lib = libunwind();
  if (!lib.ok)
    return true; // cannot tell: assume the worst
  unw_context_t uc;
  fill_context(&uc, TraceContext::from_switch(g->sched_sp));
  unw_cursor_t c;
  if (lib.init_local2(&c, &uc, 0) != 0)
    return true;
  for (int depth = 0; depth < 4096; ++depth) {
    unw_proc_info_t pi;
    if (lib.get_proc_info(&c, &pi) != 0)
      return true;
    const auto *start = reinterpret_cast<const char *>(pi.start_ip);
    const bool park_path = start >= __start_goroutine_park_text &&
                           start < __stop_goroutine_park_text;
    if (!park_path &&
        !starts_with_stack_check(reinterpret_cast<const uint8_t *>(start)))
      return true;
    const int more = lib.step(&c);
    if (more == 0)
      return false; // reached goroutine_trampoline
    if (more < 0)
      return true;
  }
  return true;
}

} // namespace go::runtime
