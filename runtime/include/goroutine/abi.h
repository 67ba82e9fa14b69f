/* abi.h: the contract between the goroutine plugin and libgoroutine.
 *
 * Everything the code the plugin emits and the runtime that receives it must
 * agree on, in one place (Go's stackGuard and stackNosplit, which compiler,
 * linker and runtime import): the limit slot the prologue checks compare
 * %rsp with, the runtime symbols instrumented code calls or reads, the guard
 * area below the limit, the default reserves below uninstrumented calls, the
 * machine code of the checks (the plugin emits it, the runtime's stack walker
 * recognizes it), and the frames the runtime's assembly saves registers in.
 * docs/design.md explains the contract as a whole.
 *
 * Included by the plugin (plugin/ *.cpp), by the runtime (runtime/src), and by
 * C and C++ alike; the assembly gets the values it needs from asm_offsets.h,
 * which the build generates from this header and the runtime's structs
 * (runtime/src/arch/x86_64/asm_offsets.cpp), as Go generates go_asm.h. The gdb
 * helper reads the frame layouts from the program's debug information.
 *
 * Every layout and encoding below is pinned by static assertions at the end
 * of this file (C and C++), and by the generator for what the assembly uses:
 * a change that forgets a user does not compile. */
#ifndef GOROUTINE_ABI_H
#define GOROUTINE_ABI_H

#include <stdint.h>

#include <goroutine/goroutine.h>

#define GOROUTINE_ABI_STR_(x) #x
#define GOROUTINE_ABI_STR(x) GOROUTINE_ABI_STR_(x)

/* ---- Thread control block slots (%fs-relative, glibc's tcbhead_t) -------- */

/* tcbhead_t.__private_ss: the split-stack limit slot. LLVM's split-stack
 * prologue and the plugin's checks compare %rsp with %fs:0x70; the runtime
 * keeps the running goroutine's limit there, and 0 elsewhere. */
#define GOROUTINE_TCB_STACK_LIMIT 0x70
/* The same as an AT&T assembly operand, for inline assembly. */
#define GOROUTINE_STACK_LIMIT_OPERAND                                          \
  "%fs:" GOROUTINE_ABI_STR(GOROUTINE_TCB_STACK_LIMIT)
/* tcbhead_t.pointer_guard: PTR_MANGLE's key, used by the runtime's setjmp. */
#define GOROUTINE_TCB_POINTER_GUARD 0x30

/* ---- Sizes -------------------------------------------------------------- */

/* Bytes below the limit that instrumented code may touch without a check:
 * a short-form check's frame (< 256), realignment and a frameless leaf's
 * return address and red zone. The runtime keeps it free on every stack
 * (runtime/src/stack.h explains the sum); the plugin relies on it for
 * frameless functions and realigned frames. */
#define GOROUTINE_STACK_GUARD 512

/* Bytes guaranteed free below every call into code that was not instrumented
 * (the plugin's reserve=N default). */
#define GOROUTINE_DEFAULT_RESERVE 16384
/* Each instrumented object file records the reserve it was built with as a
 * uint64_t in this section; the runtime never shrinks a stack that has
 * uninstrumented frames on it below the largest one (the default if no object
 * recorded one). A C identifier, so the linker defines __start_ and __stop_
 * symbols for it. */
#define GOROUTINE_RESERVE_SECTION "goroutine_reserve"
#define GOROUTINE_RESERVE_RECORD_NAME "__goroutine_reserve"
/* The same below calls into libm and compiler runtime leaves (pow, fmod, ...;
 * the plugin's libm-reserve=N default). */
#define GOROUTINE_DEFAULT_LIBM_RESERVE 2048

/* ---- Symbols ------------------------------------------------------------ */

/* Called by LLVM's split-stack prologue (resume at return address + 1). */
#define GOROUTINE_MORESTACK_NAME "__morestack"
/* Called by the plugin's checks: %r10 = bytes needed below %rsp + 8. */
#define GOROUTINE_MORESTACK_CALL_NAME "__goroutine_morestack"
/* The side stack (runtime/src/side_stack.cpp): two initial-exec thread-local
 * uint64_t words, the next free byte and the chunk's end, and the function
 * that allocates a new chunk: uint64_t (uint64_t bytes, uint64_t align). */
#define GOROUTINE_SIDE_SP_NAME "__goroutine_side_sp"
#define GOROUTINE_SIDE_LIMIT_NAME "__goroutine_side_limit"
#define GOROUTINE_SIDE_ALLOC_NAME "__goroutine_side_alloc"
/* What the plugin calls on a stack position kept as an integer (a frame
 * address, %rsp, a probe local's address): uintptr_t (const void *), the
 * stable coordinate of goroutine.h. Stable coordinates of a goroutine's
 * stack have this bit set (a non-canonical address: never a pointer, so the
 * relocation never mistakes one for a stack address). */
#define GOROUTINE_STABLE_STACK_ADDRESS_NAME "goroutine_stable_stack_address"
#define GOROUTINE_STABLE_STACK_BIT (UINT64_C(1) << 62)

/* Names of the runtime's own functions, which goroutines call without a
 * reserve: their stack use is bounded (C names, and mangled C++ names in
 * namespace go). Initializer lists of string literals. */
#define GOROUTINE_RUNTIME_C_PREFIXES "goroutine_", "__goroutine_"
#define GOROUTINE_RUNTIME_CXX_PREFIXES "_ZN2go", "_ZNK2go"

/* Pointer parameters the runtime keeps while the caller is parked, in records
 * it relocates when the caller's stack moves (the escape analysis does not
 * count them as escapes): the function's name and the parameter's index. */
#define GOROUTINE_CHAN_SEND_NAME GOROUTINE_ABI_STR(goroutine_chan_send)
#define GOROUTINE_CHAN_SEND_ELEM 1
#define GOROUTINE_CHAN_RECV_NAME GOROUTINE_ABI_STR(goroutine_chan_recv)
#define GOROUTINE_CHAN_RECV_ELEM 1
#define GOROUTINE_CHAN_RECV_RECEIVED 3
#define GOROUTINE_SELECT_NAME GOROUTINE_ABI_STR(goroutine_select)
#define GOROUTINE_SELECT_CASES 0

/* ---- Check encodings (x86-64 machine code, initializer lists of bytes) --- */

#define GOROUTINE_ABI_LE32(v)                                                  \
  ((v) & 0xff), (((v) >> 8) & 0xff), (((v) >> 16) & 0xff), (((v) >> 24) & 0xff)

/* endbr64, before a check under -fcf-protection. */
#define GOROUTINE_ENC_ENDBR64 0xf3, 0x0f, 0x1e, 0xfa
/* cmp %fs:LIMIT, %rsp: LLVM's check for frames under 256 bytes. */
#define GOROUTINE_ENC_CMP_RSP_LIMIT                                            \
  0x64, 0x48, 0x3b, 0x24, 0x25, GOROUTINE_ABI_LE32(GOROUTINE_TCB_STACK_LIMIT)
/* lea disp32(%rsp), %r11 (disp32 follows): the larger frames' check starts
 * with it, then compares %r11. */
#define GOROUTINE_ENC_LEA_R11_RSP 0x4c, 0x8d, 0x9c, 0x24
/* cmp %fs:LIMIT, %r11 */
#define GOROUTINE_ENC_CMP_R11_LIMIT                                            \
  0x64, 0x4c, 0x3b, 0x1c, 0x25, GOROUTINE_ABI_LE32(GOROUTINE_TCB_STACK_LIMIT)
/* ja rel8; mov imm32, %r10d; call rel32 (operands follow each). */
#define GOROUTINE_ENC_JA_REL8 0x77
#define GOROUTINE_ENC_MOV_R10D_IMM32 0x41, 0xba
#define GOROUTINE_ENC_CALL_REL32 0xe8
/* The `ret` LLVM's prologue puts after `call __morestack`; __morestack
 * resumes one byte later. */
#define GOROUTINE_ENC_RET 0xc3

/* ---- Frames the runtime's assembly builds -------------------------------- */

/* Where __morestack and __goroutine_morestack resume (kind below). */
#define GOROUTINE_MORESTACK_KIND_PROLOGUE 0 /* return address + 1 */
#define GOROUTINE_MORESTACK_KIND_CALL 1     /* return address */

/* What morestack.S stores on the thread's system stack: the entry %rsp, the
 * entry kind and the 15 general registers. The callee-saved registers sit
 * below offset 64 so that its CFI addresses them with one-byte SLEB128
 * offsets. */
struct goroutine_morestack_frame {
  uint64_t sp;   /* %rsp at the entry point: it points at the return address */
  uint64_t kind; /* GOROUTINE_MORESTACK_KIND_*; then the %rsp to resume with */
  uint64_t r15, r14, r13, r12, rbp, rbx;
  uint64_t r11, r10, r9, r8, rdi, rsi, rdx, rcx, rax;
  uint64_t padding; /* keeps the size a multiple of 16 */
};

/* What goroutine_switch (context.S) pushes on a goroutine's own stack when it
 * switches out, lowest address first; the goroutine's saved %rsp points at
 * it, and after its `ret` %rsp is one frame higher. */
struct goroutine_switch_frame {
  uint32_t mxcsr;
  uint16_t x87_control;
  uint16_t padding;
  uint64_t r15, r14, r13, r12, rbx, rbp;
  uint64_t return_address;
};

/* ---- Static assertions ----------------------------------------------------
 */

#ifdef __cplusplus
#define GOROUTINE_ABI_ASSERT(e, msg) static_assert(e, msg)
#else
#define GOROUTINE_ABI_ASSERT(e, msg) _Static_assert(e, msg)
#endif

/* The layout morestack.S's CFI and its 16-byte stack alignment rely on. */
#define GOROUTINE_ABI_MORESTACK_CFI_OFFSET(r)                                  \
  (__builtin_offsetof(struct goroutine_morestack_frame, r) < 64)
GOROUTINE_ABI_ASSERT(GOROUTINE_ABI_MORESTACK_CFI_OFFSET(sp) &&
                         GOROUTINE_ABI_MORESTACK_CFI_OFFSET(r15) &&
                         GOROUTINE_ABI_MORESTACK_CFI_OFFSET(r14) &&
                         GOROUTINE_ABI_MORESTACK_CFI_OFFSET(r13) &&
                         GOROUTINE_ABI_MORESTACK_CFI_OFFSET(r12) &&
                         GOROUTINE_ABI_MORESTACK_CFI_OFFSET(rbp) &&
                         GOROUTINE_ABI_MORESTACK_CFI_OFFSET(rbx),
                     "morestack.S's CFI needs one-byte register offsets");
GOROUTINE_ABI_ASSERT(sizeof(struct goroutine_morestack_frame) % 16 == 0,
                     "morestack.S keeps the system stack 16-byte aligned");
/* The order of goroutine_switch's pushes (pushq %rbp first, then %rbx, %r12 to
 * %r15, then 8 bytes for the control words). */
GOROUTINE_ABI_ASSERT(
    __builtin_offsetof(struct goroutine_switch_frame, x87_control) == 4 &&
        __builtin_offsetof(struct goroutine_switch_frame, r15) == 8 &&
        __builtin_offsetof(struct goroutine_switch_frame, r14) == 16 &&
        __builtin_offsetof(struct goroutine_switch_frame, r13) == 24 &&
        __builtin_offsetof(struct goroutine_switch_frame, r12) == 32 &&
        __builtin_offsetof(struct goroutine_switch_frame, rbx) == 40 &&
        __builtin_offsetof(struct goroutine_switch_frame, rbp) == 48 &&
        __builtin_offsetof(struct goroutine_switch_frame, return_address) ==
            56 &&
        sizeof(struct goroutine_switch_frame) == 64,
    "goroutine_switch_frame must match goroutine_switch's pushes (context.S)");
GOROUTINE_ABI_ASSERT(GOROUTINE_DEFAULT_LIBM_RESERVE <=
                         GOROUTINE_DEFAULT_RESERVE,
                     "libm leaves need less than arbitrary code");

#ifdef __cplusplus
#include <tuple>
#include <type_traits>

namespace go::contract {

// The check encodings as arrays, for the code that emits or decodes them.
inline constexpr uint8_t kEndbr64[] = {GOROUTINE_ENC_ENDBR64};
inline constexpr uint8_t kCmpRspLimit[] = {GOROUTINE_ENC_CMP_RSP_LIMIT};
inline constexpr uint8_t kLeaR11Rsp[] = {GOROUTINE_ENC_LEA_R11_RSP};
inline constexpr uint8_t kCmpR11Limit[] = {GOROUTINE_ENC_CMP_R11_LIMIT};
inline constexpr uint8_t kMovR10dImm32[] = {GOROUTINE_ENC_MOV_R10D_IMM32};
inline constexpr const char *kRuntimeNamePrefixes[] = {
    GOROUTINE_RUNTIME_C_PREFIXES, GOROUTINE_RUNTIME_CXX_PREFIXES};

// The limit slot is the disp32 of both compares.
static_assert(kCmpRspLimit[5] == GOROUTINE_TCB_STACK_LIMIT &&
                  kCmpR11Limit[5] == GOROUTINE_TCB_STACK_LIMIT &&
                  kCmpRspLimit[6] == 0 && kCmpR11Limit[6] == 0,
              "the checks' disp32 is the limit slot");
static_assert(sizeof kCmpRspLimit == 9 && sizeof kCmpR11Limit == 9 &&
                  sizeof kLeaR11Rsp == 4,
              "x86-64 encodes these checks in 9 and 4(+4) bytes");

template <class F> struct Params;
template <class R, class... A> struct Params<R (*)(A...)> {
  template <unsigned I> using Type = std::tuple_element_t<I, std::tuple<A...>>;
};
template <auto F, unsigned I>
constexpr bool kPointerParam =
    std::is_pointer_v<typename Params<decltype(F)>::template Type<I>>;

// The runtime-relocated parameters are the pointer parameters of
// goroutine.h's functions named above.
static_assert(kPointerParam<&goroutine_chan_send, GOROUTINE_CHAN_SEND_ELEM>);
static_assert(kPointerParam<&goroutine_chan_recv, GOROUTINE_CHAN_RECV_ELEM>);
static_assert(
    kPointerParam<&goroutine_chan_recv, GOROUTINE_CHAN_RECV_RECEIVED>);
static_assert(kPointerParam<&goroutine_select, GOROUTINE_SELECT_CASES>);

// The plugin calls it by name with this type (the conversion fails to
// compile if the declaration changes).
inline constexpr uintptr_t (*kStableStackAddress)(const void *) =
    &goroutine_stable_stack_address;

} // namespace go::contract
#endif

#endif /* GOROUTINE_ABI_H */
