// morestack.S: the two ways instrumented code asks the runtime for stack.
//
// Both entry points leave the goroutine stack at once, build a RegisterFrame on
// the thread's system stack (g0), save the vector state below it, and call
// goroutine_morestack (stack.cpp), which may move the goroutine's stack to a
// larger (or, in torture mode, a different) one and relocate every pointer
// into it, including the registers saved here. They then restore every
// register from the (relocated) frame and resume on the stack the C++ side
// chose: goroutine_morestack returns that %rsp, with the resume address stored
// at 0(%rsp), so the final instruction is a plain `ret`.
//
// ---------------------------------------------------------------------------
// __morestack: called by LLVM's split-stack prologue (X86FrameLowering::
// adjustForSegmentedStacks):
//
//     F:  cmp %fs:0x70, %rsp        (or lea -N(%rsp),%r11; cmp %fs:0x70,%r11)
//         jbe alloc
//     body: ...
//     alloc:
//         mov $N, %r10               frame bytes F needs below its entry %rsp
//         mov $A, %r11               bytes of stack arguments (unused here)
//         call __morestack
//         ret                        the byte at the return address (0xc3)
//         [jmp body]                 (present when block placement moved alloc)
//
//   Entry:  0(%rsp) = return address RA, pointing at that `ret`;
//           8(%rsp) = F's own return address (F's entry %rsp is %rsp+8);
//           %r10 = N; %r11 = A; every argument register live; %rax live for
//           functions that use it as an argument (preserve_most, nest).
//   Exit:   every register but %r10, %r11 and the flags as at entry (pointers
//           into the old stack relocated); %rsp = F's entry %rsp on the
//           (possibly new) stack; execution continues at RA + 1, i.e. in F's
//           body as if the check had passed. The `ret` at RA is never run.
//
// ---------------------------------------------------------------------------
// __goroutine_morestack: called by the checks the plugin inserts (variadic
// functions, dynamic allocas, calls into uninstrumented code):
//
//   Entry:  0(%rsp) = return address; %r10 = bytes the caller needs below its
//           current %rsp (%rsp+8 here); everything else live.
//   Exit:   every register but %r10, %r11 and the flags as at entry (relocated);
//           returns normally, possibly on a new stack.
//
// ---------------------------------------------------------------------------
// Both entries on a thread that runs no goroutine (ThreadState::g == 0): the
// limit slot holds a stale value (glibc reuses thread control blocks without
// clearing it). Clear it and resume without touching anything else.
//
// The frame on g0: a RegisterFrame (struct goroutine_morestack_frame in
// <goroutine/abi.h>) just below ThreadState::g0_sp, and the 64-byte-aligned
// XSAVE (or FXSAVE) area below it.

#include "asm_offsets.h" // generated: see asm_offsets.cpp
#include "vector_state.inc"

        .text

// \reg = &goroutine_thread_state (initial-exec TLS; one %fs access).
.macro LOAD_THREAD_STATE reg
        movq    %fs:0, \reg
        addq    goroutine_thread_state@gottpoff(%rip), \reg
.endm

// Fast path, on the goroutine stack, for a trap that needs nothing: the
// frame fits above the real limit (g->stackguard), no preemption is pending
// (g->preempt) and this is not the trap on which torture mode moves the stack. That is every trap but the Nth when the
// limit slot holds kStackPoison (stackmove=N), so torture runs at a few
// nanoseconds per function entry instead of a full register save.
// Uses 16 bytes below %rsp (inside the guard area), %r11 = thread state;
// \resume_pc_adjust is 1 for __morestack (skip the `ret`), else 0.
// Falls through when the slow path is needed, with every register intact.
.macro FAST_PATH resume_pc_adjust
        pushq   %rax
        pushq   %rcx
        movq    TLS_G(%r11), %rax
        leaq    24(%rsp), %rcx          // the caller's live sp: entry %rsp + 8
        subq    %r10, %rcx              // minus the bytes it needs
        jb      2f                      // (an absurd request: slow path)
        cmpq    G_STACKGUARD(%rax), %rcx
        jbe     2f                      // does not fit: grow
        cmpb    $0, G_PREEMPT(%rax)
        jne     2f                      // sysmon asks it to yield
        decq    TLS_TORTURE_COUNTDOWN(%r11)
        jz      2f                      // torture: the Nth trap moves
        popq    %rcx
        popq    %rax
        .if \resume_pc_adjust
        addq    $1, (%rsp)
        .endif
        ret
2:      popq    %rcx
        popq    %rax
.endm

// Leaves the goroutine stack: saves the entry %rsp and the entry kind in a
// RegisterFrame on g0 and continues at goroutine_morestack_common. Uses %r11.
.macro SWITCH_TO_G0 kind
        movq    %rsp, TLS_MORESTACK_SP(%r11)
        movq    TLS_G0_SP(%r11), %rsp
        subq    $FRAME_SIZE, %rsp
        movq    $\kind, FRAME_KIND(%rsp)
        movq    TLS_MORESTACK_SP(%r11), %r11
        movq    %r11, FRAME_SP(%rsp)
        jmp     goroutine_morestack_common
.endm

// __morestack_non_split: where ld.lld and gold send the __morestack call of
// an instrumented function that calls code without split-stack notes (see
// split_stack_notes.h). The plugin's own checks give such calls their
// reserve, so it is __morestack itself.
        .globl  __morestack
        .globl  __morestack_non_split
        .type   __morestack, @function
        .type   __morestack_non_split, @function
        .p2align 4
__morestack:
__morestack_non_split:
        .cfi_startproc
        LOAD_THREAD_STATE %r11
        cmpq    $0, TLS_G(%r11)
        je      1f
        FAST_PATH 1
        SWITCH_TO_G0 MORESTACK_KIND_PROLOGUE
1:      movq    $0, %fs:TCB_STACK_LIMIT
        addq    $1, (%rsp)              // skip the `ret` after the call
        ret
        .cfi_endproc
        .size   __morestack, . - __morestack
        .size   __morestack_non_split, . - __morestack_non_split

        .globl  __goroutine_morestack
        .type   __goroutine_morestack, @function
        .p2align 4
__goroutine_morestack:
        .cfi_startproc
        LOAD_THREAD_STATE %r11
        cmpq    $0, TLS_G(%r11)
        je      1f
        FAST_PATH 0
        SWITCH_TO_G0 MORESTACK_KIND_CALL
1:      movq    $0, %fs:TCB_STACK_LIMIT
        ret
        .cfi_endproc
        .size   __goroutine_morestack, . - __goroutine_morestack

// Entered by jmp with %rsp = the RegisterFrame on g0 (sp and kind filled in).
// The CFA is described through the frame's saved sp so that debuggers and
// libunwind can walk from here back into the goroutine:
//   CFA = FRAME_SP(%rbx) + 8 once %rbx holds the frame address, and every
//   general register is saved at a fixed offset from %rbx.
        .type   goroutine_morestack_common, @function
        .p2align 4
goroutine_morestack_common:
        .cfi_startproc
        .cfi_undefined rip
        movq    %rax, FRAME_RAX(%rsp)
        movq    %rbx, FRAME_RBX(%rsp)
        movq    %rcx, FRAME_RCX(%rsp)
        movq    %rdx, FRAME_RDX(%rsp)
        movq    %rsi, FRAME_RSI(%rsp)
        movq    %rdi, FRAME_RDI(%rsp)
        movq    %rbp, FRAME_RBP(%rsp)
        movq    %r8, FRAME_R8(%rsp)
        movq    %r9, FRAME_R9(%rsp)
        movq    %r10, FRAME_R10(%rsp)
        movq    %r11, FRAME_R11(%rsp)
        movq    %r12, FRAME_R12(%rsp)
        movq    %r13, FRAME_R13(%rsp)
        movq    %r14, FRAME_R14(%rsp)
        movq    %r15, FRAME_R15(%rsp)
        movq    %rsp, %rbx
        // DW_OP_breg3's offsets below are one-byte SLEB128 numbers.
        .if FRAME_SP > 63 || FRAME_RBX > 63 || FRAME_RBP > 63 || FRAME_R12 > 63 || FRAME_R13 > 63 || FRAME_R14 > 63 || FRAME_R15 > 63
        .error "goroutine_morestack_frame: CFI offsets need more than a byte"
        .endif
        // CFA = *(%rbx + FRAME_SP) + 8: DW_CFA_def_cfa_expression
        //   DW_OP_breg3(rbx) FRAME_SP; DW_OP_deref; DW_OP_plus_uconst 8
        .cfi_escape 0x0f, 0x05, 0x73, FRAME_SP, 0x06, 0x23, 0x08
        // Saved registers: DW_CFA_expression reg, DW_OP_breg3 offset.
        .cfi_escape 0x10, 0x03, 0x02, 0x73, FRAME_RBX
        .cfi_escape 0x10, 0x06, 0x02, 0x73, FRAME_RBP
        .cfi_escape 0x10, 0x0c, 0x02, 0x73, FRAME_R12
        .cfi_escape 0x10, 0x0d, 0x02, 0x73, FRAME_R13
        .cfi_escape 0x10, 0x0e, 0x02, 0x73, FRAME_R14
        .cfi_escape 0x10, 0x0f, 0x02, 0x73, FRAME_R15
        // Return address: at the saved sp (DW_OP_breg3 FRAME_SP; DW_OP_deref).
        .cfi_escape 0x10, 0x10, 0x03, 0x73, FRAME_SP, 0x06

        // Vector state, including the upper halves of %ymm/%zmm argument
        // registers that glibc's memcpy would otherwise clobber.
        movl    goroutine_xsave_size(%rip), %ecx
        subq    %rcx, %rsp
        andq    $-64, %rsp
        SAVE_VECTOR_STATE
        movq    %rbx, %rdi              // RegisterFrame*
        movq    %rsp, %rsi              // vector state
        call    goroutine_morestack     // -> %rax = %rsp to resume with
        movq    %rax, FRAME_KIND(%rbx)

        RESTORE_VECTOR_STATE
        movq    %rbx, %rsp
        movq    FRAME_RAX(%rsp), %rax
        movq    FRAME_RCX(%rsp), %rcx
        movq    FRAME_RDX(%rsp), %rdx
        movq    FRAME_RSI(%rsp), %rsi
        movq    FRAME_RDI(%rsp), %rdi
        movq    FRAME_RBP(%rsp), %rbp
        movq    FRAME_R8(%rsp), %r8
        movq    FRAME_R9(%rsp), %r9
        movq    FRAME_R10(%rsp), %r10
        movq    FRAME_R11(%rsp), %r11
        movq    FRAME_R12(%rsp), %r12
        movq    FRAME_R13(%rsp), %r13
        movq    FRAME_R14(%rsp), %r14
        movq    FRAME_R15(%rsp), %r15
        movq    FRAME_RBX(%rsp), %rbx
        movq    FRAME_KIND(%rsp), %rsp  // back on the goroutine stack
        ret                             // to the resume address stored there
        .cfi_endproc
        .size   goroutine_morestack_common, . - goroutine_morestack_common

        .section .note.GNU-stack, "", @progbits
