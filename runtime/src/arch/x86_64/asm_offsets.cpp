// asm_offsets.cpp: the source of the generated asm_offsets.h, the constants
// and struct offsets the assembly in this folder uses (Go's go_asm.h, Linux's
// asm-offsets.c).
//
// The build compiles this file to assembly only (-S; runtime/CMakeLists.txt):
// each DEFINE leaves a line `.ascii "->NAME value"` in the output, and
// gen_asm_offsets.cmake turns those lines into `#define NAME value`. So the
// offsets come from the structs themselves (runtime.h, and the frames and
// values of the plugin-runtime contract in <goroutine/abi.h>), and nothing is
// written twice by hand. The assertions here pin what the assembly assumes
// beyond an offset: the width of the instructions that access each field.
#include <csetjmp>
#include <cstddef>

#include "runtime.h"

#define DEFINE(name, value)                                                    \
  asm volatile("\n.ascii \"->" #name " %c0\"" ::"i"(value))
#define OFFSET(name, type, member) DEFINE(name, offsetof(type, member))

namespace go::runtime {
namespace {

// The assembly reads these with 8-byte moves (and G_PREEMPT with cmpb).
template <class T> constexpr bool kWord = sizeof(T) == 8;
static_assert(kWord<decltype(Stack::lo)> && kWord<decltype(Stack::hi)>);
static_assert(kWord<decltype(Goroutine::stackguard)> &&
              kWord<decltype(Goroutine::sched_sp)>);
static_assert(sizeof(Goroutine::preempt) == 1);
static_assert(kWord<decltype(ThreadState::g0_sp)> &&
              kWord<decltype(ThreadState::morestack_sp)> &&
              kWord<decltype(ThreadState::g)> &&
              kWord<decltype(ThreadState::stack_limit)> &&
              kWord<decltype(ThreadState::torture_countdown)>);

// glibc's struct __jmp_buf_tag (setjmp.S fills it): __jmpbuf is 8 words in
// glibc's order (its sysdeps/x86_64/jmpbuf-offsets.h); the 4 bytes of padding
// after __mask_was_saved hold the runtime's tag.
using JmpBuf = struct __jmp_buf_tag;
constexpr size_t kJmpBufTag = offsetof(JmpBuf, __mask_was_saved) + 4;
static_assert(offsetof(JmpBuf, __jmpbuf) == 0 &&
              sizeof(JmpBuf::__jmpbuf) == 8 * 8);
static_assert(sizeof(JmpBuf::__mask_was_saved) == 4);
static_assert(kJmpBufTag + 4 <= offsetof(JmpBuf, __saved_mask),
              "no padding for the tag in glibc's jmp_buf");

} // namespace

// Never called: compiled only for the lines its asm statements leave.
void asm_offsets() {
  DEFINE(TCB_STACK_LIMIT, GOROUTINE_TCB_STACK_LIMIT);
  DEFINE(TCB_POINTER_GUARD, GOROUTINE_TCB_POINTER_GUARD);

  // struct ThreadState: reached through %fs.
  OFFSET(TLS_G0_SP, ThreadState, g0_sp);
  OFFSET(TLS_MORESTACK_SP, ThreadState, morestack_sp);
  OFFSET(TLS_G, ThreadState, g);
  OFFSET(TLS_STACK_LIMIT, ThreadState, stack_limit);
  OFFSET(TLS_TORTURE_COUNTDOWN, ThreadState, torture_countdown);

  // struct Goroutine.
  DEFINE(G_STACK_LO, offsetof(Goroutine, stack) + offsetof(Stack, lo));
  DEFINE(G_STACK_HI, offsetof(Goroutine, stack) + offsetof(Stack, hi));
  OFFSET(G_STACKGUARD, Goroutine, stackguard);
  OFFSET(G_SCHED_SP, Goroutine, sched_sp);
  OFFSET(G_PREEMPT, Goroutine, preempt);

  // struct goroutine_morestack_frame (RegisterFrame), morestack.S.
  OFFSET(FRAME_SP, RegisterFrame, sp);
  OFFSET(FRAME_KIND, RegisterFrame, kind);
  OFFSET(FRAME_R15, RegisterFrame, r15);
  OFFSET(FRAME_R14, RegisterFrame, r14);
  OFFSET(FRAME_R13, RegisterFrame, r13);
  OFFSET(FRAME_R12, RegisterFrame, r12);
  OFFSET(FRAME_RBP, RegisterFrame, rbp);
  OFFSET(FRAME_RBX, RegisterFrame, rbx);
  OFFSET(FRAME_R11, RegisterFrame, r11);
  OFFSET(FRAME_R10, RegisterFrame, r10);
  OFFSET(FRAME_R9, RegisterFrame, r9);
  OFFSET(FRAME_R8, RegisterFrame, r8);
  OFFSET(FRAME_RDI, RegisterFrame, rdi);
  OFFSET(FRAME_RSI, RegisterFrame, rsi);
  OFFSET(FRAME_RDX, RegisterFrame, rdx);
  OFFSET(FRAME_RCX, RegisterFrame, rcx);
  OFFSET(FRAME_RAX, RegisterFrame, rax);
  DEFINE(FRAME_SIZE, sizeof(RegisterFrame));
  DEFINE(MORESTACK_KIND_PROLOGUE, GOROUTINE_MORESTACK_KIND_PROLOGUE);
  DEFINE(MORESTACK_KIND_CALL, GOROUTINE_MORESTACK_KIND_CALL);

  // struct goroutine_switch_frame, context.S.
  OFFSET(SWITCH_MXCSR, goroutine_switch_frame, mxcsr);
  OFFSET(SWITCH_X87_CONTROL, goroutine_switch_frame, x87_control);
  DEFINE(SWITCH_SIZE, sizeof(goroutine_switch_frame));

  // struct __jmp_buf_tag, setjmp.S.
  DEFINE(JB_RBX, 0 * 8);
  DEFINE(JB_RBP, 1 * 8);
  DEFINE(JB_R12, 2 * 8);
  DEFINE(JB_R13, 3 * 8);
  DEFINE(JB_R14, 4 * 8);
  DEFINE(JB_R15, 5 * 8);
  DEFINE(JB_RSP, 6 * 8);
  DEFINE(JB_PC, 7 * 8);
  OFFSET(JB_MASK_WAS_SAVED, JmpBuf, __mask_was_saved);
  DEFINE(JB_TAG, kJmpBufTag);
  OFFSET(JB_SAVED_MASK, JmpBuf, __saved_mask);
}

} // namespace go::runtime
