// Locals aligned beyond 64 bytes are aligned by hand, so the frame the
// split-stack prologue checks is the frame used (the backend's stack
// realignment is not counted by the check).
// RUN: %clang -O2 -g -fplugin=%plugin -S -emit-llvm -o - %s 2>%t.err | FileCheck %s
// RUN: FileCheck %s --check-prefix=WARN < %t.err
extern void use(void *);

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

// Beyond the smallest stack size a move cannot keep the alignment: warn.
// WARN: warning: goroutine: local 'buf' is aligned to 4096 bytes; goroutine stack moves keep alignments up to 1024 bytes only
void aligned4096(void) {
  _Alignas(4096) char buf[100];
  use(buf);
}
