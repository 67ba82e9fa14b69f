// setjmp.S: setjmp/longjmp that survive stack moves.
//
// glibc's setjmp stores %rsp, %rbp and the return address mangled with the
// thread's pointer guard (PTR_MANGLE), so no scan can relocate them, and a
// jmp_buf may live anywhere (Lua keeps its chain in heap objects). These
// versions store every saved register whose value lies inside the calling
// goroutine's stack [lo, hi) as the offset hi - value instead, which a move
// does not change: a move copies the stack to the top of the new one, so
// every live address keeps its distance from hi. longjmp converts back with
// the stack's current hi.
//
// Buffer format: glibc's struct __jmp_buf_tag, so code compiled against
// glibc's <setjmp.h> allocates the right size:
//     0 rbx   8 rbp*  16 r12  24 r13  32 r14  40 r15  48 rsp*  56 pc*
//    64 __mask_was_saved (int)   68 tag (int, glibc's padding)
//    72 __saved_mask
//   (* mangled like glibc's PTR_MANGLE: xor %fs:0x30, rol $0x11)
// tag = JB_MAGIC | bits, where bit i set means slot i holds an offset from hi.
// With no goroutine (or no stack-relative value) the bits are 0 and the
// buffer is exactly what glibc's setjmp writes, so glibc's longjmp can use it.
//
// The runtime exports setjmp, _setjmp, __sigsetjmp, longjmp, _longjmp,
// siglongjmp and __longjmp_chk from the executable (see
// cmake/GoroutineInstrument.cmake), so uninstrumented libraries that call them
// (libpng's error handling, say) use the same format.
//
// int __goroutine_sigsetjmp(struct __jmp_buf_tag *env, int savemask)
//   Entry: %rdi = env, %esi = savemask, 0(%rsp) = return address.
//   Exit:  %eax = 0; env filled; the signal mask saved in env when savemask.
//          Clobbers rax, rcx, rdx, rsi, rdi, r8-r11 and the flags.
// void __goroutine_longjmp(struct __jmp_buf_tag *env, int val)
//   Restores the signal mask if it was saved (never blocking glibc's
//   internal SIGCANCEL and SIGSETXID), then rbx, rbp, r12-r15 and %rsp, and
//   returns from the matching setjmp with %eax = val (1 if val is 0). When the
//   buffer was filled on a goroutine, also restores the split-stack limit of
//   the goroutine (a handler that siglongjmps out ran with it cleared).
// void __goroutine_longjmp_chk(struct __jmp_buf_tag *env, int val)
//   The same, but like glibc's _FORTIFY_SOURCE variant refuses to jump to a
//   deeper frame (goroutine_longjmp_check reports it).

#include "asm_offsets.h" // generated: see asm_offsets.cpp

#define JB_MAGIC 0x676f7200
#define SYS_rt_sigprocmask 14
#define SIG_BLOCK 0
#define SIG_SETMASK 2

        .text

// %rax = value; if it lies in [%r8, %r8 + %r9), replace it by %r10 - value and
// set bit \bit of %r11d. Clobbers %rcx.
.macro TO_OFFSET bit
        movq    %rax, %rcx
        subq    %r8, %rcx
        cmpq    %r9, %rcx
        jae     1f
        movq    %r10, %rcx
        subq    %rax, %rcx
        movq    %rcx, %rax
        orl     $(1 << \bit), %r11d
1:
.endm

.macro MANGLE reg
        xorq    %fs:TCB_POINTER_GUARD, \reg
        rolq    $0x11, \reg
.endm

.macro DEMANGLE reg
        rorq    $0x11, \reg
        xorq    %fs:TCB_POINTER_GUARD, \reg
.endm

        .globl  __goroutine_sigsetjmp
        .type   __goroutine_sigsetjmp, @function
        .p2align 4
__goroutine_sigsetjmp:
        .cfi_startproc
        // %r8 = lo, %r9 = hi - lo, %r10 = hi of the running goroutine's
        // stack; all 0 (nothing matches) on a thread without one.
        xorl    %r8d, %r8d
        xorl    %r9d, %r9d
        xorl    %r10d, %r10d
        xorl    %r11d, %r11d
        movq    %fs:0, %rax
        addq    goroutine_thread_state@gottpoff(%rip), %rax
        movq    TLS_G(%rax), %rax
        testq   %rax, %rax
        jz      2f
        movq    G_STACK_LO(%rax), %r8
        movq    G_STACK_HI(%rax), %r10
        movq    %r10, %r9
        subq    %r8, %r9
2:
        movq    %rbx, %rax
        TO_OFFSET 0
        movq    %rax, JB_RBX(%rdi)
        movq    %rbp, %rax
        TO_OFFSET 1
        MANGLE  %rax
        movq    %rax, JB_RBP(%rdi)
        movq    %r12, %rax
        TO_OFFSET 2
        movq    %rax, JB_R12(%rdi)
        movq    %r13, %rax
        TO_OFFSET 3
        movq    %rax, JB_R13(%rdi)
        movq    %r14, %rax
        TO_OFFSET 4
        movq    %rax, JB_R14(%rdi)
        movq    %r15, %rax
        TO_OFFSET 5
        movq    %rax, JB_R15(%rdi)
        leaq    8(%rsp), %rax           // the caller's %rsp after we return
        TO_OFFSET 6
        MANGLE  %rax
        movq    %rax, JB_RSP(%rdi)
        movq    (%rsp), %rax
        MANGLE  %rax
        movq    %rax, JB_PC(%rdi)
        orl     $JB_MAGIC, %r11d
        movl    %r11d, JB_TAG(%rdi)

        movl    $0, JB_MASK_WAS_SAVED(%rdi)
        testl   %esi, %esi
        jz      3f
        movl    $1, JB_MASK_WAS_SAVED(%rdi)
        leaq    JB_SAVED_MASK(%rdi), %rdx   // oldset
        xorl    %esi, %esi                  // set = NULL: only read the mask
        movl    $SIG_BLOCK, %edi
        movl    $8, %r10d                   // sizeof the kernel's sigset
        movl    $SYS_rt_sigprocmask, %eax
        syscall
3:      xorl    %eax, %eax
        ret
        .cfi_endproc
        .size   __goroutine_sigsetjmp, . - __goroutine_sigsetjmp

// Restores the saved signal mask if env has one. %r8 = env; clobbers rax,
// rcx, rdx, rsi, rdi, r10, r11 and 8 bytes below %rsp.
.macro RESTORE_SIGNAL_MASK
        cmpl    $0, JB_MASK_WAS_SAVED(%r8)
        je      1f
        movq    JB_SAVED_MASK(%r8), %rax
        btrq    $31, %rax               // SIGCANCEL (32) stays unblocked
        btrq    $32, %rax               // SIGSETXID (33) too, as glibc does
        movq    %rax, -8(%rsp)
        leaq    -8(%rsp), %rsi
        xorl    %edx, %edx
        movl    $SIG_SETMASK, %edi
        movl    $8, %r10d
        movl    $SYS_rt_sigprocmask, %eax
        syscall
1:
.endm

// %rax = slot \off of env (%r8), demangled if \mangled, converted back from an
// offset when bit \bit of %r11d is set (%r10 = current hi). Clobbers %rcx.
.macro LOAD_SLOT off, bit, mangled
        movq    \off(%r8), %rax
        .if \mangled
        DEMANGLE %rax
        .endif
        btl     $\bit, %r11d
        jnc     1f
        movq    %r10, %rcx
        subq    %rax, %rcx
        movq    %rcx, %rax
1:
.endm

// Common body of the longjmp variants. \check: refuse deeper frames.
.macro LONGJMP check
        movq    %rdi, %r8               // env
        movl    %esi, %r9d              // val
        RESTORE_SIGNAL_MASK
        // %r11d = the stack-relative bits (0 for a glibc-format buffer).
        xorl    %r11d, %r11d
        movl    JB_TAG(%r8), %eax
        movl    %eax, %ecx
        andl    $0xffffff00, %ecx
        cmpl    $JB_MAGIC, %ecx
        jne     2f
        movzbl  %al, %r11d
2:      xorl    %r10d, %r10d
        testl   %r11d, %r11d
        jz      3f
        movq    %fs:0, %rax
        addq    goroutine_thread_state@gottpoff(%rip), %rax
        movq    TLS_G(%rax), %rcx
        testq   %rcx, %rcx
        jz      goroutine_longjmp_without_goroutine
        movq    G_STACK_HI(%rcx), %r10
        // Back into goroutine code (perhaps out of a signal handler, which
        // ran with the limit cleared): the goroutine's limit applies again.
        movq    TLS_STACK_LIMIT(%rax), %rcx
        movq    %rcx, %fs:TCB_STACK_LIMIT
3:
        LOAD_SLOT JB_RSP, 6, 1
        movq    %rax, %rdx              // the target %rsp
        .if \check
        cmpq    %rsp, %rdx
        jae     4f
        pushq   %r8
        pushq   %r9
        pushq   %r10
        pushq   %r11
        pushq   %rdx
        movq    %rdx, %rdi
        leaq    40(%rsp), %rsi
        call    goroutine_longjmp_check // returns only if the jump is valid
        popq    %rdx
        popq    %r11
        popq    %r10
        popq    %r9
        popq    %r8
4:
        .endif
        LOAD_SLOT JB_PC, 7, 1           // bit 7 is never set: code address
        movq    %rax, %rsi
        LOAD_SLOT JB_RBX, 0, 0
        movq    %rax, %rbx
        LOAD_SLOT JB_RBP, 1, 1
        movq    %rax, %rbp
        LOAD_SLOT JB_R12, 2, 0
        movq    %rax, %r12
        LOAD_SLOT JB_R13, 3, 0
        movq    %rax, %r13
        LOAD_SLOT JB_R14, 4, 0
        movq    %rax, %r14
        LOAD_SLOT JB_R15, 5, 0
        movq    %rax, %r15
        movl    %r9d, %eax
        testl   %eax, %eax
        jnz     5f
        movl    $1, %eax                // longjmp(env, 0) returns 1
5:      movq    %rdx, %rsp
        jmp     *%rsi
.endm

        .globl  __goroutine_longjmp
        .type   __goroutine_longjmp, @function
        .p2align 4
__goroutine_longjmp:
        .cfi_startproc
        LONGJMP 0
        .cfi_endproc
        .size   __goroutine_longjmp, . - __goroutine_longjmp

        .globl  __goroutine_longjmp_chk
        .type   __goroutine_longjmp_chk, @function
        .p2align 4
__goroutine_longjmp_chk:
        .cfi_startproc
        LONGJMP 1
        .cfi_endproc
        .size   __goroutine_longjmp_chk, . - __goroutine_longjmp_chk

// A buffer holding stack-relative values used on a thread that runs no
// goroutine: report it (goroutine_longjmp_misuse does not return).
        .type   goroutine_longjmp_without_goroutine, @function
goroutine_longjmp_without_goroutine:
        .cfi_startproc
        andq    $-16, %rsp
        call    goroutine_longjmp_misuse
        ud2
        .cfi_endproc
        .size   goroutine_longjmp_without_goroutine, . - goroutine_longjmp_without_goroutine

// ---------------------------------------------------------------------------
// glibc's names, so that every setjmp in the program writes this format.

        .globl  setjmp
        .type   setjmp, @function
        .p2align 4
setjmp:                                 // BSD setjmp saves the signal mask
        .cfi_startproc
        movl    $1, %esi
        jmp     __goroutine_sigsetjmp
        .cfi_endproc
        .size   setjmp, . - setjmp

        .globl  _setjmp
        .type   _setjmp, @function
        .p2align 4
_setjmp:
        .cfi_startproc
        xorl    %esi, %esi
        jmp     __goroutine_sigsetjmp
        .cfi_endproc
        .size   _setjmp, . - _setjmp

        .globl  __sigsetjmp
        .set    __sigsetjmp, __goroutine_sigsetjmp
        .globl  longjmp
        .set    longjmp, __goroutine_longjmp
        .globl  _longjmp
        .set    _longjmp, __goroutine_longjmp
        .globl  siglongjmp
        .set    siglongjmp, __goroutine_longjmp
        .globl  __longjmp_chk
        .set    __longjmp_chk, __goroutine_longjmp_chk

        .section .note.GNU-stack, "", @progbits
