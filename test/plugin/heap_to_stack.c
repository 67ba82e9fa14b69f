// Heap allocations that do not escape become stack allocations when their
// size is a constant of at most 64 KiB, they are not in a loop, and every
// path frees them.
// RUN: %clang -O0 -fplugin=%plugin -Rpass=goroutine-escape -Rpass-missed=goroutine-escape -c %s -o /dev/null 2>&1 | FileCheck %s --check-prefix=REMARK
// RUN: %clang -O2 -fplugin=%plugin -Rpass=goroutine-escape -Rpass-missed=goroutine-escape -c %s -o /dev/null 2>&1 | FileCheck %s --check-prefix=REMARK
// RUN: %clang -O2 -fplugin=%plugin -S -emit-llvm %s -o - | FileCheck %s
// And the program still computes the same thing on a goroutine:
// RUN: %goroutine-clang -O2 -DMAIN %s -o %t && %t | FileCheck %s --check-prefix=OUT
// RUN: %goroutine-clang -O0 -DMAIN %s -o %t0 && %t0 | FileCheck %s --check-prefix=OUT
// RUN: %goroutine-clang -O2 -DMAIN -fplugin-arg-goroutine-no-heap-to-stack %s -o %t1 && %t1 | FileCheck %s --check-prefix=OUT
// RUN: %clang -O2 -DMAIN -DNO_GOROUTINE %s -o %t2 && %t2 | FileCheck %s --check-prefix=OUT
// OUT: promoted=1920 zeroed=1 variable=9 big=1 loop=40 paths=1 escapes=5
#include <stdlib.h>
#include <string.h>

__attribute__((noinline)) void consume(char *__attribute__((noescape)) p,
                                       int n) {
  for (int i = 0; i < n; ++i)
    p[i] = (char)(p[i] + 1);
}
void *kept;
__attribute__((noinline)) void keep(void *p) { kept = p; }

// CHECK-LABEL: define {{.*}} @promoted(
// CHECK: alloca [128 x i8], align 16
// CHECK-NOT: @malloc
// CHECK-NOT: @free
// CHECK-NOT: tail call void @consume
// CHECK: ret
int promoted(int n) {
  // REMARK-DAG: heap_to_stack.c:[[@LINE+1]]:{{[0-9]+}}: remark: malloc(128) does not escape
  char *buf = malloc(128);
  memset(buf, n, 128);
  consume(buf, 128);
  int r = 0;
  for (int i = 0; i < 128; ++i)
    r += buf[i];
  free(buf);
  return r;
}

// calloc's memory is zeroed on the stack too.
// CHECK-LABEL: define {{.*}} @zeroed(
// CHECK-NOT: @calloc
// CHECK: ret
int zeroed(void) {
  // REMARK-DAG: heap_to_stack.c:[[@LINE+1]]:{{[0-9]+}}: remark: calloc(16, 4) does not escape
  int *counts = calloc(16, sizeof(int));
  counts[3]++;
  consume((char *)counts, 1);
  int r = counts[3] + counts[15];
  free(counts);
  return r;
}

// CHECK-LABEL: define {{.*}} @variable_size(
// CHECK: @malloc
int variable_size(int n) {
  // REMARK-DAG: heap_to_stack.c:[[@LINE+1]]:{{[0-9]+}}: remark: malloc(...) does not escape, but stays on the heap: its size is not a constant
  char *buf = malloc(n);
  memset(buf, 8, n);
  consume(buf, n);
  int r = buf[n - 1];
  free(buf);
  return r;
}

// CHECK-LABEL: define {{.*}} @too_big(
// CHECK: @malloc
int too_big(void) {
  // REMARK-DAG: heap_to_stack.c:[[@LINE+1]]:{{[0-9]+}}: remark: malloc(1048576) does not escape, but stays on the heap: it is larger than 64 KiB
  char *buf = malloc(1 << 20);
  buf[0] = 0;
  consume(buf, 1);
  int r = buf[0];
  free(buf);
  return r;
}

// CHECK-LABEL: define {{.*}} @in_loop(
// CHECK: @malloc
int in_loop(int n) {
  int s = 0;
  for (int i = 0; i < n; ++i) {
    // REMARK-DAG: heap_to_stack.c:[[@LINE+1]]:{{[0-9]+}}: remark: malloc(32) does not escape, but stays on the heap: it is allocated in a loop
    char *buf = malloc(32);
    buf[0] = 3;
    consume(buf, 1);
    s += buf[0];
    free(buf);
  }
  return s;
}

// CHECK-LABEL: define {{.*}} @not_freed_on_every_path(
// CHECK: @malloc
int not_freed_on_every_path(int n) {
  // REMARK-DAG: heap_to_stack.c:[[@LINE+1]]:{{[0-9]+}}: remark: malloc(32) does not escape, but stays on the heap: it is not freed on every path
  char *buf = malloc(32);
  consume(buf, 0);
  if (n) {
    free(buf);
    return 1;
  }
  return 0; // leaks: staying on the heap keeps the program's behavior
}

// CHECK-LABEL: define {{.*}} @escapes(
// CHECK: @malloc
int escapes(void) {
  // REMARK-DAG: heap_to_stack.c:[[@LINE+1]]:{{[0-9]+}}: remark: malloc(32) escapes to heap
  char *buf = malloc(32);
  buf[0] = 4;
  consume(buf, 1);
  keep(buf);
  return buf[0];
}

#ifdef MAIN
#include <stdio.h>
#ifndef NO_GOROUTINE
#include <goroutine/goroutine.h>
#endif
static void body(void *arg) {
  (void)arg;
  printf("promoted=%d zeroed=%d variable=%d big=%d loop=%d paths=%d "
         "escapes=%d\n",
         promoted(14), zeroed(), variable_size(100), too_big(), in_loop(10),
         not_freed_on_every_path(1), escapes());
  free(kept);
}
int main(void) {
#ifdef NO_GOROUTINE
  body(0);
#else
  goroutine_run(body, 0);
#endif
  return 0;
}
#endif
