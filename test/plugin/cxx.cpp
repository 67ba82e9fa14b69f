// C++: methods, lambdas, templates and static initializers are instrumented;
// virtual calls and throwing go through the reserve.
// RUN: %clangxx -O2 -fplugin=%plugin -S -emit-llvm -o - %s | FileCheck %s
// RUN: %clangxx -O0 -fplugin=%plugin -S -emit-llvm -o - %s | FileCheck %s --check-prefix=O0
#include <stdexcept>

struct Shape {
  virtual ~Shape() = default;
  virtual int area() const = 0;
};

// Virtual calls are indirect: anything may be behind them.
// CHECK-LABEL: define{{.*}} i32 @_Z9area_of_2PK5ShapeS1_(
// CHECK: asm sideeffect "leaq{{.*}}(i64 16384)
// CHECK-NEXT: call noundef i32 %
// O0-LABEL: define{{.*}} i32 @_Z9area_of_2PK5ShapeS1_(
// O0: asm sideeffect "leaq{{.*}}(i64 16384)
// O0-NEXT: call noundef i32 %
int area_of_2(const Shape *a, const Shape *b) { return a->area() + b->area(); }

// Throwing calls into the C++ runtime (uninstrumented). Each is checked: the
// goroutine may park in any of them (through a callback), so one check does
// not cover the next.
// CHECK-LABEL: define{{.*}} void @_Z5raisei(
// CHECK: asm sideeffect "leaq{{.*}}(i64 16384)
// CHECK-NEXT: call ptr @__cxa_allocate_exception(
// CHECK: asm sideeffect "leaq{{.*}}(i64 16384)
// CHECK-NEXT: invoke void @_ZNSt13runtime_errorC1EPKc(
// CHECK: asm sideeffect "leaq{{.*}}(i64 16384)
// CHECK-NEXT: call void @__cxa_throw(
void raise(int code) {
  if (code != 0)
    throw std::runtime_error("code");
}

template <class T> __attribute__((noinline)) T twice(T x) { return x + x; }
int use_template(int x) { return twice(x); }

int global_init();
int initialized = global_init(); // run by a compiler-generated initializer

// Every defined function carries the split-stack attribute.
// CHECK-DAG: define linkonce_odr{{.*}} i32 @_Z5twiceIiET_S0_({{.*}} #[[SPLIT:[0-9]+]]
// CHECK-DAG: define internal void @_GLOBAL__sub_I_cxx.cpp() #[[INIT:[0-9]+]]
// CHECK-DAG: attributes #[[SPLIT]] = {{{.*}}"split-stack"
// CHECK-DAG: attributes #[[INIT]] = {{{.*}}"split-stack"
