// With the plugin, __GOROUTINE_INSTRUMENTED__ is defined; without it, go::run
// refuses to compile.
// RUN: %clangxx -fplugin=%plugin -I%include -fsyntax-only %s
// RUN: not %clangxx -I%include -fsyntax-only %s 2>&1 | FileCheck %s
// CHECK: error: static assertion failed{{.*}}go::run: this translation unit was not compiled with the goroutine plugin
#include <goroutine/goroutine.hpp>
#ifndef __GOROUTINE_INSTRUMENTED__
// Only the go::run below must fail.
#endif
void start() {
  go::run([] {});
}
