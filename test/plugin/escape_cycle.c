// Escape analysis gives up soundly: a cycle of 40 recursive functions whose
// summaries do not settle within the analysis' iteration bound. g0 stores its
// parameter in a global; each g<i> passes its parameter on to g<i-1> and
// calls g<i+1>, so the call graph is visited g39 first and the fact "g<i>'s
// parameter escapes" reaches g38 one round per function. g39's local y is
// passed to g38: it escapes, and must be moved off the stack even though the
// fixpoint was cut short.
// RUN: %clang -O0 -fplugin=%plugin -c -o /dev/null %s -Rpass=goroutine-escape 2>&1 | FileCheck %s
// RUN: %clang -O2 -fplugin=%plugin -c -o /dev/null %s -Rpass=goroutine-escape 2>&1 | FileCheck %s
// CHECK: remark: moved to heap: y

int *kept;
int dummy;
int depth;

__attribute__((noinline)) void g0(int *p);
__attribute__((noinline)) void g1(int *p);
__attribute__((noinline)) void g2(int *p);
__attribute__((noinline)) void g3(int *p);
__attribute__((noinline)) void g4(int *p);
__attribute__((noinline)) void g5(int *p);
__attribute__((noinline)) void g6(int *p);
__attribute__((noinline)) void g7(int *p);
__attribute__((noinline)) void g8(int *p);
__attribute__((noinline)) void g9(int *p);
__attribute__((noinline)) void g10(int *p);
__attribute__((noinline)) void g11(int *p);
__attribute__((noinline)) void g12(int *p);
__attribute__((noinline)) void g13(int *p);
__attribute__((noinline)) void g14(int *p);
__attribute__((noinline)) void g15(int *p);
__attribute__((noinline)) void g16(int *p);
__attribute__((noinline)) void g17(int *p);
__attribute__((noinline)) void g18(int *p);
__attribute__((noinline)) void g19(int *p);
__attribute__((noinline)) void g20(int *p);
__attribute__((noinline)) void g21(int *p);
__attribute__((noinline)) void g22(int *p);
__attribute__((noinline)) void g23(int *p);
__attribute__((noinline)) void g24(int *p);
__attribute__((noinline)) void g25(int *p);
__attribute__((noinline)) void g26(int *p);
__attribute__((noinline)) void g27(int *p);
__attribute__((noinline)) void g28(int *p);
__attribute__((noinline)) void g29(int *p);
__attribute__((noinline)) void g30(int *p);
__attribute__((noinline)) void g31(int *p);
__attribute__((noinline)) void g32(int *p);
__attribute__((noinline)) void g33(int *p);
__attribute__((noinline)) void g34(int *p);
__attribute__((noinline)) void g35(int *p);
__attribute__((noinline)) void g36(int *p);
__attribute__((noinline)) void g37(int *p);
__attribute__((noinline)) void g38(int *p);
__attribute__((noinline)) void g39(int *p);

__attribute__((noinline)) void g0(int *p) {
  kept = p;
  if (depth-- > 0) g1(&dummy);
}
__attribute__((noinline)) void g1(int *p) {
  if (depth-- > 0) g2(&dummy);
  if (depth-- > 0) g0(p);
}
__attribute__((noinline)) void g2(int *p) {
  if (depth-- > 0) g3(&dummy);
  if (depth-- > 0) g1(p);
}
__attribute__((noinline)) void g3(int *p) {
  if (depth-- > 0) g4(&dummy);
  if (depth-- > 0) g2(p);
}
__attribute__((noinline)) void g4(int *p) {
  if (depth-- > 0) g5(&dummy);
  if (depth-- > 0) g3(p);
}
__attribute__((noinline)) void g5(int *p) {
  if (depth-- > 0) g6(&dummy);
  if (depth-- > 0) g4(p);
}
__attribute__((noinline)) void g6(int *p) {
  if (depth-- > 0) g7(&dummy);
  if (depth-- > 0) g5(p);
}
__attribute__((noinline)) void g7(int *p) {
  if (depth-- > 0) g8(&dummy);
  if (depth-- > 0) g6(p);
}
__attribute__((noinline)) void g8(int *p) {
  if (depth-- > 0) g9(&dummy);
  if (depth-- > 0) g7(p);
}
__attribute__((noinline)) void g9(int *p) {
  if (depth-- > 0) g10(&dummy);
  if (depth-- > 0) g8(p);
}
__attribute__((noinline)) void g10(int *p) {
  if (depth-- > 0) g11(&dummy);
  if (depth-- > 0) g9(p);
}
__attribute__((noinline)) void g11(int *p) {
  if (depth-- > 0) g12(&dummy);
  if (depth-- > 0) g10(p);
}
__attribute__((noinline)) void g12(int *p) {
  if (depth-- > 0) g13(&dummy);
  if (depth-- > 0) g11(p);
}
__attribute__((noinline)) void g13(int *p) {
  if (depth-- > 0) g14(&dummy);
  if (depth-- > 0) g12(p);
}
__attribute__((noinline)) void g14(int *p) {
  if (depth-- > 0) g15(&dummy);
  if (depth-- > 0) g13(p);
}
__attribute__((noinline)) void g15(int *p) {
  if (depth-- > 0) g16(&dummy);
  if (depth-- > 0) g14(p);
}
__attribute__((noinline)) void g16(int *p) {
  if (depth-- > 0) g17(&dummy);
  if (depth-- > 0) g15(p);
}
__attribute__((noinline)) void g17(int *p) {
  if (depth-- > 0) g18(&dummy);
  if (depth-- > 0) g16(p);
}
__attribute__((noinline)) void g18(int *p) {
  if (depth-- > 0) g19(&dummy);
  if (depth-- > 0) g17(p);
}
__attribute__((noinline)) void g19(int *p) {
  if (depth-- > 0) g20(&dummy);
  if (depth-- > 0) g18(p);
}
__attribute__((noinline)) void g20(int *p) {
  if (depth-- > 0) g21(&dummy);
  if (depth-- > 0) g19(p);
}
__attribute__((noinline)) void g21(int *p) {
  if (depth-- > 0) g22(&dummy);
  if (depth-- > 0) g20(p);
}
__attribute__((noinline)) void g22(int *p) {
  if (depth-- > 0) g23(&dummy);
  if (depth-- > 0) g21(p);
}
__attribute__((noinline)) void g23(int *p) {
  if (depth-- > 0) g24(&dummy);
  if (depth-- > 0) g22(p);
}
__attribute__((noinline)) void g24(int *p) {
  if (depth-- > 0) g25(&dummy);
  if (depth-- > 0) g23(p);
}
__attribute__((noinline)) void g25(int *p) {
  if (depth-- > 0) g26(&dummy);
  if (depth-- > 0) g24(p);
}
__attribute__((noinline)) void g26(int *p) {
  if (depth-- > 0) g27(&dummy);
  if (depth-- > 0) g25(p);
}
__attribute__((noinline)) void g27(int *p) {
  if (depth-- > 0) g28(&dummy);
  if (depth-- > 0) g26(p);
}
__attribute__((noinline)) void g28(int *p) {
  if (depth-- > 0) g29(&dummy);
  if (depth-- > 0) g27(p);
}
__attribute__((noinline)) void g29(int *p) {
  if (depth-- > 0) g30(&dummy);
  if (depth-- > 0) g28(p);
}
__attribute__((noinline)) void g30(int *p) {
  if (depth-- > 0) g31(&dummy);
  if (depth-- > 0) g29(p);
}
__attribute__((noinline)) void g31(int *p) {
  if (depth-- > 0) g32(&dummy);
  if (depth-- > 0) g30(p);
}
__attribute__((noinline)) void g32(int *p) {
  if (depth-- > 0) g33(&dummy);
  if (depth-- > 0) g31(p);
}
__attribute__((noinline)) void g33(int *p) {
  if (depth-- > 0) g34(&dummy);
  if (depth-- > 0) g32(p);
}
__attribute__((noinline)) void g34(int *p) {
  if (depth-- > 0) g35(&dummy);
  if (depth-- > 0) g33(p);
}
__attribute__((noinline)) void g35(int *p) {
  if (depth-- > 0) g36(&dummy);
  if (depth-- > 0) g34(p);
}
__attribute__((noinline)) void g36(int *p) {
  if (depth-- > 0) g37(&dummy);
  if (depth-- > 0) g35(p);
}
__attribute__((noinline)) void g37(int *p) {
  if (depth-- > 0) g38(&dummy);
  if (depth-- > 0) g36(p);
}
__attribute__((noinline)) void g38(int *p) {
  if (depth-- > 0) g39(&dummy);
  if (depth-- > 0) g37(p);
}
__attribute__((noinline)) void g39(int *p) {
  int y = 1;
  if (depth-- > 0) g38(&y);
  if (depth-- > 0) g0(&dummy);
  depth += y;
}

int entry(void) {
  g0(&dummy);
  g39(&dummy);
  return 0;
}
