// A goroutine may resume on another thread after any call, so errno's
// address (and pthread_self) must be asked for again after each call: the
// plugin drops glibc's `const` from them before the optimizer runs.
// RUN: %clang -O2 -fplugin=%plugin -S -emit-llvm %s -o - | FileCheck %s
// RUN: %clang -O2 -S -emit-llvm %s -o - | FileCheck %s --check-prefix=PLAIN
#include <errno.h>
#include <pthread.h>

void may_park(void);

// CHECK-LABEL: define {{.*}}@errno_after_call(
// CHECK: call {{.*}}@__errno_location()
// CHECK: call void @may_park()
// CHECK: call {{.*}}@__errno_location()
// PLAIN-LABEL: define {{.*}}@errno_after_call(
// PLAIN: call {{.*}}@__errno_location()
// PLAIN-NOT: call {{.*}}@__errno_location()
// PLAIN: ret i32
int errno_after_call(void) {
  errno = 0;
  may_park();
  return errno;
}

// CHECK-LABEL: define {{.*}}@thread_after_call(
// CHECK: call {{.*}}@pthread_self()
// CHECK: call void @may_park()
// CHECK: call {{.*}}@pthread_self()
int thread_after_call(void) {
  pthread_t before = pthread_self();
  may_park();
  return pthread_equal(before, pthread_self());
}
