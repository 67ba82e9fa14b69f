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

// The module records the reserve it promises, for the runtime's shrinking.
// CHECK: @__goroutine_reserve = internal constant i64 16384, section "goroutine_reserve", align 8
// ARGS: @__goroutine_reserve = internal constant i64 8192, section "goroutine_reserve", align 8
// NONE-NOT: @__goroutine_reserve =

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

// A check covers a later call that needs no more while %rsp does not move
// and no call in between may park: libm leaves cannot.
// CHECK-LABEL: define{{.*}} double @covered(
// CHECK: asm sideeffect{{.*}}(i64 2048)
// CHECK-NEXT: call double @pow(
// CHECK-NOT: asm sideeffect
// CHECK: call double @pow(
// CHECK: ret double
double covered(double x) { return pow(x, 2.5) + pow(x, 1.5); }

// The goroutine may park in an uninstrumented call (it may call back into
// instrumented code), so the stack may have shrunk after it: the next call
// is checked again.
// CHECK-LABEL: define{{.*}} i32 @after_external(
// CHECK: asm sideeffect{{.*}}(i64 16384)
// CHECK-NEXT: call i32 @external(
// CHECK: asm sideeffect{{.*}}(i64 16384)
// CHECK-NEXT: call i32 @external(
// CHECK: ret i32
int after_external(int x) { return external(&x) + external(&x); }

// A yield may shrink the stack to its minimum: a check before it covers
// nothing after it, at -O2 and at -O0.
// CHECK-LABEL: define{{.*}} i32 @across_yield(
// CHECK: asm sideeffect{{.*}}(i64 2048)
// CHECK-NEXT: call double @pow(
// CHECK: call void @goroutine_yield(
// CHECK: asm sideeffect{{.*}}(i64 2048)
// CHECK-NEXT: call double @pow(
// O0-LABEL: define{{.*}} i32 @across_yield(
// O0: asm sideeffect{{.*}}(i64 2048)
// O0: call void @goroutine_yield(
// O0: asm sideeffect{{.*}}(i64 2048)
// O0: ret i32
int across_yield(double x) {
  int r = (int)pow(x, 2.5);
  goroutine_yield();
  return r + (int)pow(x, 3.5);
}

// The same through a join: one path parks, so the call after the join is
// checked; a loop that cannot park keeps its entry's coverage.
// CHECK-LABEL: define{{.*}} double @join(
// CHECK: asm sideeffect{{.*}}(i64 2048)
// CHECK-NEXT: call double @pow(
// CHECK: call void @goroutine_yield(
// CHECK: asm sideeffect{{.*}}(i64 2048)
// CHECK-NEXT: call double @pow(
// CHECK-NOT: asm sideeffect
// CHECK: ret double
double join(double x, int y) {
  double r = pow(x, 2.5);
  if (y)
    goroutine_yield();
  return r + pow(x, 3.5);
}

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
