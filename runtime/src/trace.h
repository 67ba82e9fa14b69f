// Walking goroutine stacks: Go-style traces for go::stack_trace, fatal
// errors, panics and SIGQUIT, and the frame inspection stack_shrink needs.
// Uses libunwind to walk and libdw to find file:line (see trace.cpp).
#ifndef GOROUTINE_TRACE_H
#define GOROUTINE_TRACE_H

#include <cstddef>
#include <cstdint>
#include <ucontext.h>

#include "runtime.h"

namespace go::runtime {

// The registers an unwind starts from.
struct TraceContext {
  uint64_t pc = 0, sp = 0, rbp = 0, rbx = 0, r12 = 0, r13 = 0, r14 = 0, r15 = 0;
  // pc is exact (a trap, a signal or a captured point), not a return address.
  bool exact_pc = false;

  // Callee-saved registers from a morestack frame; pc and sp are the caller's
  // to fill in.
  static TraceContext from_frame(const RegisterFrame &frame);
  // A goroutine suspended in goroutine_switch at saved_sp (context.S layout).
  static TraceContext from_switch(uintptr_t saved_sp);
  // The interrupted context of a signal handler.
  static TraceContext from_ucontext(const ucontext_t &uc);
};

// Where a trace goes: a file descriptor, or a caller's buffer (truncated when
// full; total() still counts everything, like snprintf).
class TraceWriter {
public:
  explicit TraceWriter(int fd) : fd_(fd) {}
  TraceWriter(char *buf, size_t cap) : buf_(buf), cap_(cap) {}
  void write(const char *s, size_t n);
  void printf(const char *fmt, ...) __attribute__((format(printf, 2, 3)));
  size_t total() const { return total_; }

private:
  int fd_ = -1;
  char *buf_ = nullptr;
  size_t cap_ = 0;
  size_t total_ = 0;
};

// How far to resolve frames. Source lines need libdw, which allocates and
// takes a lock: a trace on the way to a crash does not wait for another
// thread's lookup (LinesIfIdle), and one printed where malloc itself may
// have been interrupted (a fault inside libc) asks for names only.
enum class Symbolize : uint8_t { Lines, LinesIfIdle, NamesOnly };

// Writes "goroutine N [state]:" and the symbolized frames from ctx.
void trace_print(TraceWriter &w, const Goroutine *g, const char *state,
                 const TraceContext &ctx, Symbolize how = Symbolize::Lines);
// The same to stderr.
void trace_print(const Goroutine *g, const char *state, const TraceContext &ctx,
                 Symbolize how = Symbolize::Lines);
// The trace of the calling code (on any stack), to stderr. Frames of the
// runtime's error path, up to and including goroutine_systemstack, are left
// out.
void trace_print_current(const Goroutine *g, const char *state);
// The trace of the calling code into w, leaving out the frames up to and
// including the function that starts at skip_through, if it is on the stack
// (0: none). g may be null (a thread that runs no goroutine).
void trace_print_current(TraceWriter &w, const Goroutine *g, const char *state,
                         uintptr_t skip_through, Symbolize how);
// The trace of a goroutine other than the caller: parked, runnable or not
// started, from its saved context; running (in go::blocking), its header
// only. Its stack must not change meanwhile: the world is stopped, or it is
// known to stay parked.
void trace_print_stopped(TraceWriter &w, const Goroutine *g);

// True if any frame of the switched-out goroutine g belongs to a function
// without a split-stack check (code compiled without the plugin), other than
// the runtime's own park path.
bool trace_has_uninstrumented_frames(const Goroutine *g);

// Prints "fatal error: <msg>", the trace of g from ctx, and exits with
// status 2.
[[noreturn]] void fatal_with_trace(const Goroutine *g, const TraceContext &ctx,
                                   const char *msg,
                                   Symbolize how = Symbolize::LinesIfIdle);

} // namespace go::runtime

#endif // GOROUTINE_TRACE_H
