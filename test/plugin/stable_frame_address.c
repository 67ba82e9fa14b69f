// Stack addresses kept as integers: the plugin gives the integer view of a
// frame address, of %rsp and of a probe local's address the goroutine's
// stable stack coordinate, which stack moves do not change (QuickJS's
// js_check_stack_overflow idiom). Where the integer becomes a pointer again,
// or the address is kept as a pointer, it stays a real address and a missed
// remark names the line.
//
// RUN: %clang -O2 -fplugin=%plugin -S -emit-llvm %s -o - | FileCheck %s
// RUN: %clang -O0 -fplugin=%plugin -S -emit-llvm %s -o - | FileCheck %s --check-prefix=O0
// RUN: %goroutine-clang -O2 -Rpass=goroutine-escape -Rpass-missed=goroutine-escape -c %s -o /dev/null 2>&1 | FileCheck %s --check-prefix=REMARK
#include <stddef.h>
#include <stdint.h>

struct runtime {
  uintptr_t stack_top, stack_limit;
};

static inline uintptr_t stack_pointer(void) {
  // Said once, though inlined twice.
  // REMARK: [[@LINE+2]]:{{.*}}remark: frame address kept as an integer: made stable across stack moves
  // REMARK-NOT: [[@LINE+1]]:{{.*}}remark: frame address kept as an integer
  return (uintptr_t)__builtin_frame_address(0);
}

// CHECK-LABEL: define {{.*}}@update_stack_top(
// CHECK: %[[FA:.*]] = {{.*}}call ptr @llvm.frameaddress.p0(i32 0)
// CHECK-NOT: ptrtoint
// CHECK: call i64 @goroutine_stable_stack_address(ptr nocapture readnone %[[FA]])
// O0-LABEL: define {{.*}}@stack_pointer(
// O0: call i64 @goroutine_stable_stack_address(
// O0-NOT: ptrtoint
// O0: ret i64
void update_stack_top(struct runtime *rt, size_t size) {
  rt->stack_top = stack_pointer();
  rt->stack_limit = rt->stack_top - size;
}

// CHECK-LABEL: define {{.*}}@check_stack_overflow(
// CHECK: call i64 @goroutine_stable_stack_address(
// CHECK: icmp
int check_stack_overflow(struct runtime *rt, size_t alloca_size) {
  uintptr_t sp = stack_pointer() - alloca_size;
  return sp < rt->stack_limit;
}

// `mov %rsp` read by inline assembly: its integer result.
// CHECK-LABEL: define {{.*}}@asm_stack_pointer(
// CHECK: %[[SP:.*]] = {{.*}}call i64 asm sideeffect "mov %rsp, $0"
// CHECK: %[[P:.*]] = inttoptr i64 %[[SP]] to ptr
// CHECK: %[[S:.*]] = {{.*}}call i64 @goroutine_stable_stack_address(ptr nocapture readnone %[[P]])
// CHECK: ret i64 %[[S]]
uintptr_t asm_stack_pointer(void) {
  uintptr_t sp;
  // REMARK: [[@LINE+1]]:{{.*}}remark: stack pointer kept as an integer: made stable across stack moves
  __asm__ volatile("mov %%rsp, %0" : "=r"(sp));
  return sp;
}

// The probe idiom, a local whose address is only looked at, is left alone:
// the optimizer stores pointers as integers too (a std::ref in a closure), and
// such a local may be reached through its integer. Converted by hand instead.
// CHECK-LABEL: define {{.*}}@probe(
// CHECK-NOT: goroutine_stable_stack_address
// CHECK: ret i64
uintptr_t probe(void) {
  char c;
#pragma clang diagnostic ignored "-Wreturn-stack-address"
  return (uintptr_t)&c;
}

// %rsp as a global register variable (llvm.read_register).
register uintptr_t current_stack_pointer __asm__("rsp");
// CHECK-LABEL: define {{.*}}@register_stack_pointer(
// CHECK: %[[R:.*]] = {{.*}}call i64 @llvm.read_register.i64(
// CHECK: %[[P:.*]] = inttoptr i64 %[[R]] to ptr
// CHECK: call i64 @goroutine_stable_stack_address(ptr nocapture readnone %[[P]])
uintptr_t register_stack_pointer(void) { return current_stack_pointer; }

// A pointer compared with a stack position in integers is converted too, so
// both sides are in the same coordinates ("is p on my stack?"). (-O2 compares
// the pointers themselves: real addresses, nothing to convert.)
// O0-LABEL: define {{.*}}@on_stack_above(
// O0-COUNT-2: call i64 @goroutine_stable_stack_address(
// O0-NOT: ptrtoint
// O0: ret i32
int on_stack_above(const void *p) {
  uintptr_t here = (uintptr_t)__builtin_frame_address(0);
  return (uintptr_t)p >= here;
}

// A local whose address is also passed on is not a probe: it stays a real
// address (the escape analysis sees to it).
void use(void *);
// CHECK-LABEL: define {{.*}}@not_a_probe(
// CHECK-NOT: goroutine_stable_stack_address
// CHECK: ret i64
uintptr_t not_a_probe(void) {
  int x = 0;
  use(&x);
  return (uintptr_t)&x;
}

// A pointer compared with a stack position, whose integer is also stored,
// is not converted: it may be a pointer kept as an integer.
// O0-LABEL: define {{.*}}@compared_and_kept(
// O0: ptrtoint ptr %{{.*}} to i64
// O0-NOT: goroutine_stable_stack_address
// O0: call i64 @goroutine_stable_stack_address(
// O0-NOT: goroutine_stable_stack_address
// O0: ret i32
uintptr_t kept;
int compared_and_kept(const void *p) {
  uintptr_t bits = (uintptr_t)p;
  kept = bits;
  return bits >= (uintptr_t)__builtin_frame_address(0);
}

// Turned back into a pointer: must stay a real address.
// CHECK-LABEL: define {{.*}}@aligned_frame(
// CHECK-NOT: goroutine_stable_stack_address
// CHECK: ret ptr
char *aligned_frame(void) {
  uintptr_t a = (uintptr_t)__builtin_frame_address(0);
  // REMARK: [[@LINE+1]]:{{.*}}remark: frame address is used as an integer and turned back into a pointer: it is not made stable across stack moves (convert it with goroutine_stable_stack_address)
  return (char *)(a & ~(uintptr_t)15);
}

// Kept as a pointer (a conservative collector's stack bottom).
void *stack_bottom;
// CHECK-LABEL: define {{.*}}@record_bottom(
// CHECK-NOT: goroutine_stable_stack_address
void record_bottom(void) {
  // REMARK: [[@LINE+1]]:{{.*}}remark: frame address is kept as a pointer: it is not made stable across stack moves (convert it with goroutine_stable_stack_address)
  stack_bottom = __builtin_frame_address(0);
}

// Assembly that does more than read %rsp.
// CHECK-LABEL: define {{.*}}@asm_more(
// CHECK-NOT: goroutine_stable_stack_address
// CHECK: ret i64
uintptr_t asm_more(void) {
  uintptr_t sp;
  // REMARK: [[@LINE+1]]:{{.*}}remark: inline assembly reads %rsp: its result is not made stable across stack moves (convert it with goroutine_stable_stack_address)
  __asm__ volatile("mov %%rsp, %0\n\tadd $8, %0" : "=r"(sp));
  return sp;
}

// Converted by hand: left as written (no remark for passing the frame
// address to the runtime's own function).
// CHECK-LABEL: define {{.*}}@by_hand(
// CHECK: call i64 @goroutine_stable_stack_address(
// CHECK-NOT: goroutine_stable_stack_address
// CHECK: ret i64
uintptr_t goroutine_stable_stack_address(const void *);
uintptr_t by_hand(void) {
  return goroutine_stable_stack_address(__builtin_frame_address(0));
}
// REMARK-NOT: kept as a pointer
