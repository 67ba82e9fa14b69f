// context.S: switching between goroutine stacks and the system stack (g0).
//
// A suspended context is just a stack pointer. Everything else the System V
// ABI asks a callee to preserve (rbx, rbp, r12-r15, the MXCSR control bits and
// the x87 control word) is pushed on the suspended stack itself, so a parked
// goroutine's saved registers move with its stack and are relocated by the
// same scan as the rest of it. The layout at a saved %rsp is struct
// goroutine_switch_frame (<goroutine/abi.h>): the control words, then r15,
// r14, r13, r12, rbx, rbp as pushed below, and the return address.
//
// stack.cpp builds the same layout for a new goroutine, with the return address
// pointing at goroutine_trampoline and %r12 holding the Goroutine*.

#include "asm_offsets.h" // generated: see asm_offsets.cpp
#include "vector_state.inc"

// The six pushes and the 8 bytes of control words below, with the return
// address, are one goroutine_switch_frame (abi.h asserts the order).
.if SWITCH_SIZE != 6 * 8 + 8 + 8
.error "goroutine_switch_frame does not match goroutine_switch's pushes"
.endif

// goroutine_switch and goroutine_trampoline can be on a switched-out
// goroutine's stack; trace.cpp recognizes the frames of this section as the
// runtime's own, bounded park path.
        .section goroutine_park_text, "ax", @progbits

// void goroutine_switch(uintptr_t *save_sp, uintptr_t new_sp)
//   Entry: %rdi = where to store this context's %rsp; %rsi = a saved %rsp.
//   Exit:  returns in the context saved at new_sp, with its callee-saved
//          registers and control words restored. Caller-saved registers
//          (%rax, %rcx included) are clobbered as by any call.
        .globl  goroutine_switch
        .type   goroutine_switch, @function
        .p2align 4
goroutine_switch:
        .cfi_startproc
        pushq   %rbp
        .cfi_adjust_cfa_offset 8
        .cfi_rel_offset rbp, 0
        pushq   %rbx
        .cfi_adjust_cfa_offset 8
        .cfi_rel_offset rbx, 0
        pushq   %r12
        .cfi_adjust_cfa_offset 8
        .cfi_rel_offset r12, 0
        pushq   %r13
        .cfi_adjust_cfa_offset 8
        .cfi_rel_offset r13, 0
        pushq   %r14
        .cfi_adjust_cfa_offset 8
        .cfi_rel_offset r14, 0
        pushq   %r15
        .cfi_adjust_cfa_offset 8
        .cfi_rel_offset r15, 0
        subq    $8, %rsp
        .cfi_adjust_cfa_offset 8
        stmxcsr SWITCH_MXCSR(%rsp)
        fnstcw  SWITCH_X87_CONTROL(%rsp)
        movl    SWITCH_MXCSR(%rsp), %eax        // loads of the sizes just
        movzwl  SWITCH_X87_CONTROL(%rsp), %ecx  // stored: they are forwarded
        movq    %rsp, (%rdi)
        movq    %rsi, %rsp              // same frame layout on the other side
        cmpl    SWITCH_MXCSR(%rsp), %eax        // same control words: skip
        jne     2f                      // the loads (ldmxcsr, fldcw are slow)
        cmpw    SWITCH_X87_CONTROL(%rsp), %cx
        jne     2f
1:      addq    $8, %rsp
        .cfi_adjust_cfa_offset -8
        popq    %r15
        .cfi_adjust_cfa_offset -8
        popq    %r14
        .cfi_adjust_cfa_offset -8
        popq    %r13
        .cfi_adjust_cfa_offset -8
        popq    %r12
        .cfi_adjust_cfa_offset -8
        popq    %rbx
        .cfi_adjust_cfa_offset -8
        popq    %rbp
        .cfi_adjust_cfa_offset -8
        ret
        .cfi_adjust_cfa_offset SWITCH_SIZE
2:      ldmxcsr SWITCH_MXCSR(%rsp)
        fldcw   SWITCH_X87_CONTROL(%rsp)
        jmp     1b
        .cfi_endproc
        .size   goroutine_switch, . - goroutine_switch

// The first code a new goroutine runs, reached by goroutine_switch's `ret`.
//   Entry: %rsp 16-byte aligned near the top of the new stack; %r12 = the
//          Goroutine*. goroutine_main never returns.
// The undefined return address ends every unwind here (stack traces, and C++
// exceptions that no goroutine frame catches: those reach std::terminate at
// the throw site, with the whole stack intact for the panic trace).
        .globl  goroutine_trampoline
        .type   goroutine_trampoline, @function
        .p2align 4
goroutine_trampoline:
        .cfi_startproc
        .cfi_undefined rip
        movq    %r12, %rdi
        call    goroutine_main
        ud2
        .cfi_endproc
        .size   goroutine_trampoline, . - goroutine_trampoline


// Where a preempted goroutine goes (proc.cpp, sysmon): goroutine_morestack
// returns here instead of to the function whose prologue trapped.
//   Entry: %rsp = the trapped function's entry %rsp - 8, holding the address
//          to resume at (its body, as if the check had passed); every
//          register as at the trap (%r10, %r11 and the flags are dead there).
//   Exit:  every general register, the flags and the vector state restored;
//          `ret` to the resume address.
// In between it saves them on the goroutine stack and calls
// goroutine_preempt_park, which switches to g0 until the goroutine runs
// again. goroutine_morestack made sure the stack has room for all of it
// (kPreemptStubBytes + XSAVE area). Saved words that point into the stack
// are relocated with the rest if the stack moves meanwhile.
        .globl  goroutine_preempt_stub
        .type   goroutine_preempt_stub, @function
        .p2align 4
goroutine_preempt_stub:
        .cfi_startproc
        .cfi_signal_frame               // the return address is exact
        pushq   %rbp
        .cfi_adjust_cfa_offset 8
        .cfi_rel_offset rbp, 0
        movq    %rsp, %rbp
        .cfi_def_cfa_register rbp
        pushfq
        pushq   %rax
        pushq   %rcx
        pushq   %rdx
        pushq   %rsi
        pushq   %rdi
        pushq   %r8
        pushq   %r9
        pushq   %r10
        pushq   %r11
        movl    goroutine_xsave_size(%rip), %ecx
        subq    %rcx, %rsp
        andq    $-64, %rsp
        SAVE_VECTOR_STATE
        call    goroutine_preempt_park
        RESTORE_VECTOR_STATE
        leaq    -80(%rbp), %rsp
        popq    %r11
        popq    %r10
        popq    %r9
        popq    %r8
        popq    %rdi
        popq    %rsi
        popq    %rdx
        popq    %rcx
        popq    %rax
        popfq
        popq    %rbp
        .cfi_def_cfa rsp, 8
        ret
        .cfi_endproc
        .size   goroutine_preempt_stub, . - goroutine_preempt_stub

        .text

// void goroutine_systemstack(void (*fn)(void *), void *arg)
//   Runs fn(arg) on the thread's system stack (Go's systemstack), with the
//   split-stack limit cleared, and returns on the calling stack. Called when
//   not on a goroutine's stack (no goroutine, or already on the system stack,
//   e.g. inside morestack, or on the signal stack), it just calls fn(arg).
//   Uses 24 bytes of the calling goroutine's stack.
        .globl  goroutine_systemstack
        .type   goroutine_systemstack, @function
        .p2align 4
goroutine_systemstack:
        .cfi_startproc
        movq    %fs:0, %r11
        addq    goroutine_thread_state@gottpoff(%rip), %r11
        movq    TLS_G(%r11), %rax
        testq   %rax, %rax
        jz      1f
        cmpq    G_STACK_LO(%rax), %rsp
        jb      1f
        cmpq    G_STACK_HI(%rax), %rsp
        jae     1f
        pushq   %rbp
        .cfi_adjust_cfa_offset 8
        .cfi_rel_offset rbp, 0
        movq    %rsp, %rbp
        .cfi_def_cfa_register rbp
        pushq   %rbx
        .cfi_rel_offset rbx, -8
        movq    %fs:TCB_STACK_LIMIT, %rbx
        movq    $0, %fs:TCB_STACK_LIMIT
        movq    TLS_G0_SP(%r11), %rsp
        andq    $-16, %rsp
        movq    %rdi, %rax
        movq    %rsi, %rdi
        call    *%rax
        movq    %rbx, %fs:TCB_STACK_LIMIT
        leaq    -8(%rbp), %rsp
        popq    %rbx
        popq    %rbp
        .cfi_def_cfa rsp, 8
        ret
1:      movq    %rdi, %rax
        movq    %rsi, %rdi
        jmp     *%rax
        .cfi_endproc
        .size   goroutine_systemstack, . - goroutine_systemstack

        .section .note.GNU-stack, "", @progbits
