// Calls into code that was not instrumented get a reserve check; calls the
// plugin knows check their own stack do not.
// RUN: %clang -O2 -fplugin=%plugin -S -emit-llvm -o - %s | FileCheck %s
// RUN: %clang -O0 -fplugin=%plugin -S -emit-llvm -o - %s | FileCheck %s --check-prefix=O0
// RUN: %clang -O2 -fplugin=%plugin -fplugin-arg-goroutine-reserve=8192 -fplugin-arg-goroutine-libm-reserve=1024 -S -emit-llvm -o - %s | FileCheck %s --check-prefix=ARGS
// RUN: %clang -O2 -fplugin=%plugin -fplugin-arg-goroutine-no-reserve -S -emit-llvm -o - %s | FileCheck %s --check-prefix=NONE
#include <string.h>

extern int external(int *);
extern double pow(double, double);
extern void goroutine_yield(void);
int (*callback)(int *);

// CHECK-LABEL: define{{.*}} i32 @calls_external(
// CHECK: call void asm sideeffect "leaq -${0:c}(%rsp), %r11{{.*}}callq __goroutine_morestack@PLT{{.*}}"(i64 16384)
// CHECK-NEXT: call i32 @external(
// O0-LABEL: define{{.*}} i32 @calls_external(
// O0: call void asm sideeffect "leaq{{.*}}"(i64 16384)
// O0-NEXT: call i32 @external(
// ARGS-LABEL: define{{.*}} i32 @calls_external(
// ARGS: (i64 8192)
// NONE-LABEL: define{{.*}} i32 @calls_external(
// NONE-NOT: asm sideeffect
// NONE: ret i32
int calls_external(int x) { return external(&x); }

// Indirect calls may reach anything.
// CHECK-LABEL: define{{.*}} i32 @calls_indirect(
// CHECK: asm sideeffect{{.*}}(i64 16384)
// CHECK-NEXT: call i32 %
int calls_indirect(int x) { return callback(&x); }

// A check dominating later calls covers them while %rsp does not move.
// CHECK-LABEL: define{{.*}} i32 @dominated(
// CHECK: asm sideeffect{{.*}}(i64 16384)
// CHECK-NEXT: call i32 @external(
// CHECK-NOT: asm sideeffect
// CHECK: call i32 @external(
// CHECK: ret i32
int dominated(int x) { return external(&x) + external(&x); }

// Functions defined (and instrumented) here, the runtime, and libc leaves
// that use no stack need no check.
static __attribute__((noinline)) int helper(int *p) { return *p + 1; }
// CHECK-LABEL: define{{.*}} i32 @calls_known(
// CHECK-NOT: asm sideeffect
// CHECK: call {{.*}}@helper(
// CHECK-NOT: asm sideeffect
// CHECK: ret i32
// O0-LABEL: define{{.*}} i32 @calls_known(
// O0-NOT: asm sideeffect
// O0: ret i32
int calls_known(int x, char *a, const char *b) {
  goroutine_yield();
  memcpy(a, b, 16);
  return helper(&x) + (int)strlen(b);
}

// A function that opted out is not instrumented: calls to it need the
// reserve, and it gets no checks itself.
// CHECK-LABEL: define{{.*}} i32 @opted_out(
// CHECK-NOT: asm sideeffect
// CHECK: ret i32
__attribute__((no_split_stack, noinline)) int opted_out(int x) { return external(&x); }
// CHECK-LABEL: define{{.*}} i32 @calls_opted_out(
// CHECK: asm sideeffect{{.*}}(i64 16384)
// CHECK-NEXT: call i32 @opted_out(
int calls_opted_out(int x) { return opted_out(x); }

// libm leaves get the smaller libm reserve.
// CHECK-LABEL: define{{.*}} double @calls_libm(
// CHECK: asm sideeffect{{.*}}(i64 2048)
// CHECK-NEXT: call double @pow(
// ARGS-LABEL: define{{.*}} double @calls_libm(
// ARGS: (i64 1024)
double calls_libm(double x) { return pow(x, 2.5); }

// frem becomes a call to fmod.
// CHECK-LABEL: define{{.*}} double @float_remainder(
// CHECK: asm sideeffect{{.*}}(i64 2048)
// CHECK-NEXT: {{frem double|call double @fmod}}
double float_remainder(double x, double y) { return __builtin_fmod(x, y); }

// Functions that got a check are marked noredzone: the check calls from
// inline assembly, which the compiler does not see as a call.
// CHECK: attributes #{{[0-9]+}} = { {{.*}}noredzone{{.*}}"split-stack"
