// Variadic functions become a wrapper with a checked prologue and a
// non-variadic body with LLVM's split-stack prologue.
// RUN: %clang -O2 -fplugin=%plugin -S -emit-llvm -o - %s | FileCheck %s
// RUN: %clang -O0 -fplugin=%plugin -S -emit-llvm -o - %s | FileCheck %s
// RUN: %clang -O2 -fplugin=%plugin -S -o - %s | FileCheck %s --check-prefix=ASM
#include <stdarg.h>

struct big { long a[8]; };

// The wrapper: prologue data holding the entry check, then va_start and a
// call to the body with the va_list.
// CHECK-LABEL: define{{.*}} i64 @sum(i32 noundef %{{.*}}, ...)
// CHECK-SAME: prologue <{ [4 x i8], i32, [9 x i8], [2 x i8], [2 x i8], i32, i8, i32 }>
// CHECK-SAME: c"L\8D\9C$", i32 -[[N:[0-9]+]],
// CHECK-SAME: c"dL;\1C%p\00\00\00"
// CHECK-SAME: i32 [[N]], i8 -24, i32 trunc (i64 sub (i64 ptrtoint (ptr dso_local_equivalent @__goroutine_morestack to i64)
// CHECK: call void @llvm.va_start
// CHECK: call{{.*}} i64 @sum.body(i32 noundef %{{.*}}, ptr %{{.*}})
// CHECK: call void @llvm.va_end
long sum(int n, ...) {
  va_list ap;
  va_start(ap, n);
  long s = 0;
  char scratch[2000];
  for (int i = 0; i < n; ++i)
    scratch[i % 2000] = (char)(s += va_arg(ap, long));
  va_end(ap);
  return s + scratch[n];
}

// A byval struct is passed on to the body as a plain pointer.
// CHECK-LABEL: define{{.*}} i64 @with_struct(ptr {{.*}}byval(%struct.big)
// CHECK: call{{.*}} i64 @with_struct.body(ptr {{[^,]*}}%{{[0-9a-z]+}}, i32
long with_struct(struct big b, int n, ...) {
  va_list ap;
  va_start(ap, n);
  long s = b.a[7] + va_arg(ap, int);
  va_end(ap);
  return s;
}

// The bodies: internal, not variadic, va_start replaced by va_copy.
// CHECK-LABEL: define internal i64 @sum.body(
// CHECK-SAME: i32 noundef %{{.*}}, ptr %[[VA:[0-9a-z_]+]])
// CHECK-NOT: llvm.va_start
// CHECK: call void @llvm.va_copy.p0(ptr %{{.*}}, ptr %[[VA]])
// CHECK-LABEL: define internal i64 @with_struct.body(ptr
// CHECK-NOT: byval

// In the object code the check is the first thing the wrapper runs.
// ASM-LABEL: sum:
// ASM-NEXT: .cfi_startproc
// ASM-NEXT: .ascii "L\215\234$"
// ASM-NEXT: .long
// ASM-NEXT: .asciz "dL;\034%p\000\000"
// ASM-NEXT: .ascii "w\013"
// ASM-NEXT: .ascii "A\272"
// ASM-NEXT: .long
// ASM-NEXT: .byte 232
// ASM-NEXT: .long (__goroutine_morestack@PLT-sum)-30
// ASM-LABEL: sum.body:
// ASM: callq __morestack
