// Dynamic allocas are checked before they grow the frame, with the byte count
// in a register; the backend's own slow path is then never taken.
// RUN: %clang -O2 -fplugin=%plugin -S -emit-llvm -o - %s | FileCheck %s
// RUN: %clang -O0 -fplugin=%plugin -S -emit-llvm -o - %s | FileCheck %s --check-prefix=O0
#include <alloca.h>
#include <string.h>

// noescape: these tests are about stack checks, not escapes.
extern void use(char *__attribute__((noescape)));

// CHECK-LABEL: define{{.*}} void @vla(
// CHECK: [[BYTES:%[0-9]+]] = add i64 %{{[0-9]+}}, 80
// CHECK-NEXT: call void asm sideeffect "movq %rsp, %r11\0A\09subq $0, %r11\0A\09jb 2f{{.*}}callq __goroutine_morestack@PLT{{.*}}", "r,~{r10},~{r11}{{.*}}"(i64 [[BYTES]])
// CHECK-NEXT: alloca i8, i64
// O0-LABEL: define{{.*}} void @vla(
// O0: call void asm sideeffect "movq %rsp, %r11{{.*}}"(i64
// O0-NEXT: alloca i8, i64
void vla(int n) {
  char a[n];
  memset(a, 0, (size_t)n);
  use(a);
}

// alloca() in a loop: one check per allocation.
// CHECK-LABEL: define{{.*}} void @loop(
// CHECK: call void asm sideeffect "movq %rsp, %r11{{.*}}"(i64
// CHECK-NEXT: alloca i8, i64 %
void loop(int n, int size) {
  for (int i = 0; i < n; ++i)
    use(alloca((unsigned)size));
}

// With a dynamic alloca, %rsp moves, so a reserve check does not cover later
// calls.
// CHECK-LABEL: define{{.*}} void @no_elision(
// CHECK: asm sideeffect "leaq{{.*}}(i64 16384)
// CHECK-NEXT: call void @use(
// CHECK: asm sideeffect "leaq{{.*}}(i64 16384)
// CHECK-NEXT: call void @use(
void no_elision(int n) {
  char a[n];
  use(a);
  use(a + 1);
}
