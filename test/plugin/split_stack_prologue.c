// Every function defined in the translation unit gets LLVM's split-stack
// prologue, except frameless leaves (which fit in the guard area) and
// functions that opt out with no_split_stack.
// RUN: %clang -O2 -fplugin=%plugin -S -o - %s | FileCheck %s
// RUN: %clang -O0 -fplugin=%plugin -S -o - %s | FileCheck %s --check-prefix=O0

// noescape: these tests are about stack checks, not escapes.
extern void use(char *__attribute__((noescape)));

// CHECK-LABEL: leaf:
// CHECK-NOT: %fs:112
// CHECK: retq
int leaf(int x) { return x * 2; }

// Frames under 256 bytes compare %rsp itself with the limit.
// CHECK-LABEL: small_frame:
// CHECK: # %bb.0:
// CHECK-NEXT: cmpq %fs:112, %rsp
// CHECK-NEXT: jbe
// CHECK: callq __morestack
// CHECK-NEXT: retq
// O0-LABEL: small_frame:
// O0: cmpq %fs:112, %rsp
// O0: callq __morestack
void small_frame(void) {
  char buf[64];
  use(buf);
}

// Larger frames compare %rsp minus the frame size.
// CHECK-LABEL: large_frame:
// CHECK: # %bb.0:
// CHECK-NEXT: leaq -{{[0-9]+}}(%rsp), %r11
// CHECK-NEXT: cmpq %fs:112, %r11
// CHECK: movl ${{[0-9]+}}, %r10d
// CHECK: callq __morestack
// O0-LABEL: large_frame:
// O0: leaq -{{[0-9]+}}(%rsp), %r11
// O0-NEXT: cmpq %fs:112, %r11
void large_frame(void) {
  char buf[8192];
  use(buf);
}

// CHECK-LABEL: opted_out:
// CHECK-NOT: %fs:112
// CHECK-NOT: __morestack
// CHECK: .Lfunc_end
// O0-LABEL: opted_out:
// O0-NOT: %fs:112
// O0: .Lfunc_end
__attribute__((no_split_stack)) void opted_out(void) {
  char buf[8192];
  use(buf);
}

// CHECK-LABEL: naked:
// CHECK-NOT: %fs:112
// CHECK: .Lfunc_end
__attribute__((naked)) void naked(void) { __asm__("ret"); }
