// The driver compiles, links and runs a program, in one step or separately,
// and the program's variadic, VLA and deep recursion work on a goroutine
// (under whatever GOROUTINE_DEBUG mode the suite runs in).
// RUN: %goroutine-clang -O2 %s -o %t && %t | FileCheck %s
// RUN: %goroutine-clang -O0 -c %s -o %t.o && %goroutine-clang %t.o -o %t2 && %t2 | FileCheck %s
// CHECK: sum=55 vla=7 deep=20000 grew=yes
// Linked with -z now, so lazy binding never runs on a goroutine stack:
// RUN: llvm-readelf -d %t | FileCheck %s --check-prefix=NOW
// NOW: (FLAGS) BIND_NOW
// NOW: (FLAGS_1) NOW
#include <goroutine/goroutine.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static long sum(int n, ...) {
  va_list ap;
  va_start(ap, n);
  long s = 0;
  for (int i = 0; i < n; ++i)
    s += va_arg(ap, int);
  va_end(ap);
  return s;
}

static int vla(int n) {
  char a[n];
  memset(a, 7, (size_t)n);
  return a[n - 1];
}

static int deep(int n) {
  char buf[128];
  memset(buf, 1, sizeof buf);
  return n == 0 ? 0 : deep(n - 1) + buf[n % 128];
}

static void body(void *arg) {
  (void)arg;
  const int d = deep(20000);
  printf("sum=%ld vla=%d deep=%d grew=%s\n", sum(10, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10),
         vla(100000), d, goroutine_stack_size() >= 1024 * 1024 ? "yes" : "no");
}

int main(void) {
  goroutine_run(body, NULL);
  return 0;
}
