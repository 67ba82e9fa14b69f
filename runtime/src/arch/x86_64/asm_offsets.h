// Offsets shared by the assembly in this folder and the C++ runtime.
//
// The C++ side static_asserts every value against offsetof() (see
// runtime/src/runtime.h), so a layout change that forgets this file does not
// compile. This header is included from .S files: numbers and macros only.
#ifndef GOROUTINE_ARCH_X86_64_ASM_OFFSETS_H
#define GOROUTINE_ARCH_X86_64_ASM_OFFSETS_H

// glibc's tcbhead_t.__private_ss: the split-stack limit slot that LLVM's
// x86-64 split-stack prologue compares %rsp against.
#define TCB_STACK_LIMIT 0x70
// glibc's tcbhead_t.pointer_guard (PTR_MANGLE's key), used by setjmp.S.
#define TCB_POINTER_GUARD 0x30

// struct ThreadState (runtime.h), a thread_local reached via %fs.
#define TLS_G0_SP 0        // where g0 is suspended while a goroutine runs
#define TLS_MORESTACK_SP 8 // %rsp at entry to a morestack entry point
#define TLS_G 16           // the goroutine this thread runs, or 0
#define TLS_STACK_LIMIT 24 // the limit slot's value while that goroutine runs
#define TLS_TORTURE_COUNTDOWN 32 // traps left before the next torture move

// struct Goroutine (runtime.h).
#define G_STACK_LO 0
#define G_STACK_HI 8
#define G_STACKGUARD 16
#define G_SCHED_SP 24
#define G_PREEMPT 32 // a byte

// struct RegisterFrame (runtime.h): what morestack.S stores on g0's stack.
// The callee-saved registers sit below offset 64 so that the CFI in
// morestack.S can address them with one-byte SLEB128 offsets.
#define FRAME_SP 0
#define FRAME_KIND 8
#define FRAME_R15 16
#define FRAME_R14 24
#define FRAME_R13 32
#define FRAME_R12 40
#define FRAME_RBP 48
#define FRAME_RBX 56
#define FRAME_R11 64
#define FRAME_R10 72
#define FRAME_R9 80
#define FRAME_R8 88
#define FRAME_RDI 96
#define FRAME_RSI 104
#define FRAME_RDX 112
#define FRAME_RCX 120
#define FRAME_RAX 128
#define FRAME_SIZE 144

// RegisterFrame.kind: where a morestack entry resumes.
#define MORESTACK_KIND_PROLOGUE                                                \
  0 // LLVM's prologue: resume at return address + 1
#define MORESTACK_KIND_CALL                                                    \
  1 // plugin-inserted checks: resume at return address

// Layout of glibc's struct __jmp_buf_tag, which setjmp.S fills.
#define JB_RBX 0
#define JB_RBP 8
#define JB_R12 16
#define JB_R13 24
#define JB_R14 32
#define JB_R15 40
#define JB_RSP 48
#define JB_PC 56
#define JB_MASK_WAS_SAVED 64
#define JB_TAG 68 // glibc's padding before __saved_mask
#define JB_SAVED_MASK 72

#endif // GOROUTINE_ARCH_X86_64_ASM_OFFSETS_H
