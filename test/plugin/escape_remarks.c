// How the escape analysis reports: names and lines without -g (through the
// driver), nothing left of the added debug info in the object, Go's -m=2
// explanation (escape-verbose), YAML records, and the plugin arguments that
// turn each transformation off.
//
// RUN: %goroutine-clang -O2 -Rpass=goroutine-escape -Rpass-missed=goroutine-escape -c %s -o %t.o 2>&1 | FileCheck %s
// RUN: llvm-readelf -S %t.o | FileCheck %s --check-prefix=NODEBUG
// NODEBUG-NOT: .debug_info
//
// -m=2: why, following the objects it is stored in.
// RUN: %goroutine-clang -O2 -Rpass=goroutine-escape -fplugin-arg-goroutine-escape-verbose -c %s -o /dev/null 2>&1 | FileCheck %s --check-prefix=VERBOSE
//
// RUN: %goroutine-clang -O2 -fsave-optimization-record -foptimization-record-file=%t.yaml -c %s -o /dev/null
// RUN: FileCheck %s --check-prefix=YAML < %t.yaml
//
// RUN: %clang -O2 -fplugin=%plugin -fplugin-arg-goroutine-no-side-stack -fplugin-arg-goroutine-no-heap-to-stack -Rpass=goroutine-escape -Rpass-missed=goroutine-escape -S -emit-llvm %s -o %t.off.ll 2>&1 | FileCheck %s --check-prefix=OFF
// RUN: FileCheck %s --check-prefix=OFF-IR < %t.off.ll
// RUN: %clang -O2 -fplugin=%plugin -S -emit-llvm %s -o - | FileCheck %s --check-prefix=ON-IR
#include <stdlib.h>
#include <string.h>

struct entry {
  struct entry *next;
  int *value;
};
struct entry *registry;
extern void walk(void);

// The record lives on the side stack while it is linked into the registry.
void register_and_walk(void) {
  // CHECK-DAG: escape_remarks.c:[[@LINE+9]]:{{[0-9]+}}: remark: moved to heap: value
  // OFF-DAG: remark: moved to heap: value
  // YAML:      Pass: goroutine-escape
  // YAML-NEXT: Name: MovedToHeap
  // YAML-NEXT: DebugLoc: { File: {{.*}}escape_remarks.c{{'?}}, Line: [[@LINE+5]], Column: {{[0-9]+}} }
  // YAML-NEXT: Function: register_and_walk
  // YAML-NEXT: Args:
  // YAML-NEXT:   - String: 'moved to heap: '
  // YAML-NEXT:   - String: value
  int value = 1;
  // CHECK-DAG: escape_remarks.c:[[@LINE+3]]:{{[0-9]+}}: remark: moved to heap: record
  // VERBOSE-DAG: remark: record escapes to heap: stored to global 'registry' at {{.*}}escape_remarks.c:[[@LINE+3]]:{{[0-9]+}}
  // VERBOSE-DAG: remark: value escapes to heap: stored to global 'registry' at {{.*}}escape_remarks.c:[[@LINE+4]]:{{[0-9]+}}
  struct entry record = {registry, &value};
  registry = &record;
  walk();
  registry = record.next;
}

// A local stored in a heap object that escapes: -m=2 names the object.
void via_heap_object(void) {
  // VERBOSE-DAG: remark: inner escapes to heap: stored in an object that escapes ('malloc(16)': stored to global 'registry' at {{.*}}escape_remarks.c:[[@LINE+5]]:{{[0-9]+}})
  int inner = 2;
  struct entry *boxed = malloc(sizeof *boxed);
  boxed->value = &inner;
  boxed->next = registry;
  registry = boxed;
  walk(); // unlinks and frees the entry
}

// With the side stack off the local stays where it was.
// OFF-IR-NOT: __goroutine_side_sp
// ON-IR: @__goroutine_side_sp = external thread_local(initialexec) global i64

extern void consume(const char *__attribute__((noescape)), int);
int scratch(int n) {
  // CHECK-DAG: escape_remarks.c:[[@LINE+2]]:{{[0-9]+}}: remark: malloc(64) does not escape
  // OFF-DAG: escape_remarks.c:[[@LINE+1]]:{{[0-9]+}}: remark: malloc(64) does not escape, but stays on the heap: heap-to-stack is disabled
  char *buf = malloc(64);
  memset(buf, n, 64);
  consume(buf, 64);
  int r = buf[7];
  free(buf);
  return r;
}
int leaked(int n) {
  // CHECK-DAG: escape_remarks.c:[[@LINE+1]]:{{[0-9]+}}: remark: malloc(64) does not escape, but stays on the heap: it is not freed on every path
  char *buf = malloc(64);
  consume(buf, 64);
  if (n > 0) {
    free(buf);
    return 1;
  }
  return 0;
}
