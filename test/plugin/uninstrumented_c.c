// C code compiled without the plugin has no stack checks, so it cannot run on
// a goroutine: calling goroutine_run from it is a build error naming the fix,
// as go::run's static_assert is in C++ (instrumented_macro.cpp).
// RUN: not %clang -I%include -c %s -o %t.o 2>&1 | FileCheck %s
// RUN: not %clang -O2 -I%include -c %s -o %t.o 2>&1 | FileCheck %s
// CHECK: error: call to 'goroutine_run' declared with 'error' attribute: this translation unit was not compiled with the goroutine plugin; its code cannot run on a growable stack. Compile it with goroutine-clang or -fplugin=<path to libgoroutine-plugin.so>
// The override, and the same file with the plugin:
// RUN: %clang -DGOROUTINE_ALLOW_UNINSTRUMENTED -I%include -c %s -o %t.o
// RUN: %clang -fplugin=%plugin -I%include -c %s -o %t.o
// RUN: %goroutine-clang %s -o %t && %t | FileCheck %s --check-prefix=OUT
// OUT: ok
#include <goroutine/goroutine.h>
#include <stdio.h>

static void body(void *arg) {
  (void)arg;
  puts("ok");
}

int main(void) {
  goroutine_run(body, NULL);
  return 0;
}
