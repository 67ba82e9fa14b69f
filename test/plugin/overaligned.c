// Locals aligned beyond 64 bytes are aligned by hand, so the frame the
// split-stack prologue checks is the frame used (the backend's stack
// realignment is not counted by the check). Moves keep any alignment (they
// shift addresses by multiples of 4 GiB), so there is nothing to warn about.
// RUN: %clang -O2 -fplugin=%plugin -S -emit-llvm -o - %s 2>%t.err | FileCheck %s
// RUN: count 0 < %t.err
// noescape: this test is about frames, not escapes.
extern void use(void *__attribute__((noescape)));

// CHECK-LABEL: define{{.*}} void @aligned256(
// CHECK: [[RAW:%.*]] = alloca i8, i64 {{[0-9]+}}, align 16
// CHECK: [[ADDR:%.*]] = ptrtoint ptr [[RAW]] to i64
// CHECK: [[NEG:%.*]] = sub i64 0, [[ADDR]]
// CHECK: [[PAD:%.*]] = and i64 [[NEG]], 255
// CHECK: getelementptr inbounds i8, ptr [[RAW]], i64 [[PAD]]
void aligned256(void) {
  _Alignas(256) char buf[100];
  use(buf);
}

// 64 bytes stays as it is: its realignment fits in the guard area.
// CHECK-LABEL: define{{.*}} void @aligned64(
// CHECK: alloca [100 x i8], align 64
void aligned64(void) {
  _Alignas(64) char buf[100];
  use(buf);
}

// CHECK-LABEL: define{{.*}} void @aligned4096(
// CHECK: alloca i8, i64 4180, align 16
// CHECK: and i64 %{{.*}}, 4095
void aligned4096(void) {
  _Alignas(4096) char buf[100];
  use(buf);
}
