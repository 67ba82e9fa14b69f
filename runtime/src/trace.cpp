// trace.cpp: walking goroutine stacks with libunwind.
//
// libunwind is loaded with dlopen(RTLD_LOCAL) the first time a trace is
// needed, not linked: libunwind.so also exports the _Unwind_* functions of
// the C++ exception ABI, and linking it would let them interpose libgcc's
// unwinder for every exception in the program. Loaded locally, it serves only
// this file.
//
// A walk starts from explicit registers (a morestack frame, a switched-out
// goroutine's saved context, or the current context) and ends at
// goroutine_trampoline, whose CFI marks the return address undefined.
#include "trace.h"

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
    auto sym = [h](auto &fn, const char *name) {
      fn = reinterpret_cast<std::remove_reference_t<decltype(fn)>>(
          dlsym(h, name));
      return fn != nullptr;
    };
    lib.ok = sym(lib.init_local2, "_ULx86_64_init_local2") &&
             sym(lib.step, "_ULx86_64_step") &&
             sym(lib.get_reg, "_ULx86_64_get_reg") &&
             sym(lib.get_proc_name, "_ULx86_64_get_proc_name") &&
             sym(lib.get_proc_info, "_ULx86_64_get_proc_info") &&
             sym(lib.getcontext, "_Ux86_64_getcontext");
  });
  return lib;
}

void emit(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void emit(const char *fmt, ...) {
  char buf[1024];
  va_list ap;
  va_start(ap, fmt);
  int n = std::vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  if (n > static_cast<int>(sizeof buf) - 1)
    n = sizeof buf - 1;
  if (n > 0 && ::write(STDERR_FILENO, buf, static_cast<size_t>(n)) < 0)
    return;
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

// Prints the frames reachable from cursor c, skipping the first `skip`.
void print_frames(const Libunwind &lib, unw_cursor_t *c, int skip) {
  for (int depth = 0; depth < kMaxFrames + skip; ++depth) {
    unw_word_t ip = 0, offset = 0;
    lib.get_reg(c, UNW_REG_IP, &ip);
    if (depth >= skip) {
      char name[512];
      if (lib.get_proc_name(c, name, sizeof name, &offset) == 0) {
        int status = -1;
        char *demangled = abi::__cxa_demangle(name, nullptr, nullptr, &status);
        emit("%s\n\t+%#lx pc=%#lx\n", status == 0 ? demangled : name,
             static_cast<unsigned long>(offset),
             static_cast<unsigned long>(ip));
        std::free(demangled);
      } else {
        emit("?\n\tpc=%#lx\n", static_cast<unsigned long>(ip));
      }
    }
    if (lib.step(c) <= 0)
      return;
  }
  emit("...additional frames elided...\n");
}

// The byte patterns LLVM's split-stack prologue (and the plugin's prologue
// checks) start with; see morestack.S.
bool starts_with_stack_check(const uint8_t *p) {
  static constexpr uint8_t kEndbr64[] = {0xf3, 0x0f, 0x1e, 0xfa};
  static constexpr uint8_t kCmpRsp[] = {0x64, 0x48, 0x3b, 0x24, 0x25,
                                        0x70, 0x00, 0x00, 0x00};
  static constexpr uint8_t kLeaR11[] = {0x4c, 0x8d, 0x9c, 0x24};
  static constexpr uint8_t kCmpR11[] = {0x64, 0x4c, 0x3b, 0x1c, 0x25,
                                        0x70, 0x00, 0x00, 0x00};
  if (std::memcmp(p, kEndbr64, sizeof kEndbr64) == 0)
    p += sizeof kEndbr64;
  if (std::memcmp(p, kCmpRsp, sizeof kCmpRsp) == 0)
    return true;
  return std::memcmp(p, kLeaR11, sizeof kLeaR11) == 0 &&
         std::memcmp(p + 8, kCmpR11, sizeof kCmpR11) == 0;
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
  const auto *s = reinterpret_cast<const uint64_t *>(saved_sp);
  TraceContext t; // context.S: csr, r15, r14, r13, r12, rbx, rbp, return
  t.r15 = s[1];
  t.r14 = s[2];
  t.r13 = s[3];
  t.r12 = s[4];
  t.rbx = s[5];
  t.rbp = s[6];
  t.pc = s[7];
  t.sp = saved_sp + 64;
  return t;
}

void trace_print(const Goroutine *g, const char *state,
                 const TraceContext &ctx) {
  emit("goroutine %llu [%s]:\n", static_cast<unsigned long long>(g->id), state);
  const Libunwind &lib = libunwind();
  if (!lib.ok) {
    emit("(no stack trace: libunwind.so.8 could not be loaded)\n\tpc=%#lx\n",
         static_cast<unsigned long>(ctx.pc));
    return;
  }
  unw_context_t uc;
  fill_context(&uc, ctx);
  unw_cursor_t c;
  if (lib.init_local2(&c, &uc, ctx.exact_pc ? UNW_INIT_SIGNAL_FRAME : 0) != 0)
    return;
  print_frames(lib, &c, 0);
}

void trace_print_current(const Goroutine *g, const char *state) {
  emit("goroutine %llu [%s]:\n", static_cast<unsigned long long>(g->id), state);
  const Libunwind &lib = libunwind();
  if (!lib.ok) {
    emit("(no stack trace: libunwind.so.8 could not be loaded)\n");
    return;
  }
  unw_context_t uc;
  lib.getcontext(&uc);
  unw_cursor_t c;
  if (lib.init_local2(&c, &uc, 0) != 0)
    return;
  print_frames(lib, &c, 1); // not this function
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
