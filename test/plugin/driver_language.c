// -x LANG names the language of the inputs that follow it; the drivers' own
// link inputs (the runtime archive) must not be read as source.
// RUN: rm -rf %t && mkdir %t && cp %s %t/prog.txt
// RUN: %goroutine-clang -x c %t/prog.txt -o %t/c && %t/c | FileCheck %s
// RUN: %goroutine-clang++ -x c++ %t/prog.txt -o %t/cxx && %t/cxx | FileCheck %s
// RUN: %goroutine-clang -xc %t/prog.txt -o %t/c2 && %t/c2 | FileCheck %s
// RUN: %goroutine-clang -x c -c %t/prog.txt -o %t/prog.o
// RUN: %goroutine-clang -x none %t/prog.o -o %t/c3 && %t/c3 | FileCheck %s
// CHECK: deep=20000 grew=yes
#include <goroutine/goroutine.h>
#include <stdio.h>
#include <string.h>

static int deep(int n) {
  char buf[128];
  memset(buf, 1, sizeof buf);
  return n == 0 ? 0 : deep(n - 1) + buf[n % 128];
}

static void body(void *arg) {
  (void)arg;
  const int d = deep(20000);
  printf("deep=%d grew=%s\n", d,
         goroutine_stack_size() >= 1024 * 1024 ? "yes" : "no");
}

int main(void) {
  goroutine_run(body, NULL);
  return 0;
}
