// Walking goroutine stacks: traces for fatal errors and panics, and the
// frame inspection stack_shrink needs. Uses libunwind (see trace.cpp).
#ifndef GOROUTINE_TRACE_H
#define GOROUTINE_TRACE_H

#include <cstdint>

#include "runtime.h"

namespace go::runtime {

// The registers an unwind starts from.
struct TraceContext {
  uint64_t pc = 0, sp = 0, rbp = 0, rbx = 0, r12 = 0, r13 = 0, r14 = 0, r15 = 0;
  // pc is exact (a trap or signal), not a return address.
  bool exact_pc = false;

  // Callee-saved registers from a morestack frame; pc and sp are the caller's
  // to fill in.
  static TraceContext from_frame(const RegisterFrame &frame);
  // A goroutine suspended in goroutine_switch at saved_sp (context.S layout).
  static TraceContext from_switch(uintptr_t saved_sp);
};

// The reserve (bytes) the plugin guarantees below calls into uninstrumented
// code by default (its `reserve` argument).
constexpr size_t kShrinkReserve = 16384;

// Writes "goroutine N [state]:" and the symbolized frames to stderr.
void trace_print(const Goroutine *g, const char *state,
                 const TraceContext &ctx);
// The same for the calling code (on any stack).
void trace_print_current(const Goroutine *g, const char *state);

// True if any frame of the switched-out goroutine g belongs to a function
// without a split-stack check (code compiled without the plugin), other than
// the runtime's own park path.
bool trace_has_uninstrumented_frames(const Goroutine *g);

// Prints "fatal error: <msg>", the trace of g from ctx, and exits with
// status 2.
[[noreturn]] void fatal_with_trace(const Goroutine *g, const TraceContext &ctx,
                                   const char *msg);

} // namespace go::runtime

#endif // GOROUTINE_TRACE_H
