// Escape analysis decisions on C snippets, at -O0 and -O2, in Go's words.
// Without -g: the plugin adds the debug info it needs for names and lines
// and strips it again.
// RUN: %clang -O0 -fplugin=%plugin -Rpass=goroutine-escape -Rpass-analysis=goroutine-escape -c %s -o /dev/null 2>&1 | FileCheck %s --check-prefixes=CHECK,O0
// RUN: %clang -O2 -fplugin=%plugin -Rpass=goroutine-escape -Rpass-analysis=goroutine-escape -c %s -o /dev/null 2>&1 | FileCheck %s --check-prefixes=CHECK
// RUN: %clang -O0 -fplugin=%plugin -Rpass=goroutine-escape -c %s -o /dev/null 2>&1 | grep -c "moved to heap" | FileCheck %s --check-prefix=COUNT
// RUN: %clang -O2 -fplugin=%plugin -Rpass=goroutine-escape -c %s -o /dev/null 2>&1 | grep -c "moved to heap" | FileCheck %s --check-prefix=COUNT
#include <stdlib.h>
#include <string.h>

struct node {
  struct node *next;
  int *value;
};
int *global_ptr;
struct node *list_head;
_Thread_local int *tls_ptr;
extern void unknown(int *);
extern void keeps_nothing(int *__attribute__((noescape)));
extern int *returns_something(void);

// The address is returned.
int *address_returned(void) {
  // CHECK-DAG: escape_c.c:[[@LINE+1]]:{{[0-9]+}}: remark: moved to heap: returned_local
  int returned_local = 1;
  return &returned_local;
}

// Stored in a global, in a thread-local.
void stored_in_global(void) {
  // CHECK-DAG: escape_c.c:[[@LINE+1]]:{{[0-9]+}}: remark: moved to heap: in_global
  int in_global = 2;
  global_ptr = &in_global;
  unknown(0);
}
void stored_in_thread_local(void) {
  // CHECK-DAG: escape_c.c:[[@LINE+1]]:{{[0-9]+}}: remark: moved to heap: in_tls
  int in_tls = 2;
  tls_ptr = &in_tls;
  unknown(0);
}

// Stored in a heap node that is linked into a global list.
void stored_in_heap_node(void) {
  // CHECK-DAG: escape_c.c:[[@LINE+1]]:{{[0-9]+}}: remark: moved to heap: in_node
  int in_node = 3;
  struct node *n = malloc(sizeof *n);
  // CHECK-DAG: escape_c.c:[[@LINE-1]]:{{[0-9]+}}: remark: malloc(16) escapes to heap
  n->value = &in_node;
  n->next = list_head;
  list_head = n;
}

// Stored in memory the analysis knows nothing about.
void stored_in_unknown_memory(void) {
  // CHECK-DAG: escape_c.c:[[@LINE+1]]:{{[0-9]+}}: remark: moved to heap: in_unknown
  int in_unknown = 3;
  *(int **)returns_something() = &in_unknown;
}

// Passed to a function that may keep it.
void passed_to_unknown(void) {
  // CHECK-DAG: escape_c.c:[[@LINE+1]]:{{[0-9]+}}: remark: moved to heap: to_unknown
  int to_unknown = 4;
  unknown(&to_unknown);
}

// Passed only to callees that keep nothing: noescape declarations, libc
// functions LLVM knows, functions of this file that are summarized.
static int sum_through(const int *p) { return p[0] + p[1]; }
int passed_to_nocapture(void) {
  // CHECK-DAG: escape_c.c:[[@LINE+1]]:{{[0-9]+}}: remark: to_nocapture does not escape
  int to_nocapture[2] = {5, 6};
  keeps_nothing(to_nocapture);
  keeps_nothing(&to_nocapture[1]);
  return sum_through(to_nocapture);
}
size_t passed_to_libc(const char *s) {
  // CHECK-DAG: escape_c.c:[[@LINE+1]]:{{[0-9]+}}: remark: buffer does not escape
  char buffer[64];
  strcpy(buffer, s);
  memset(buffer + 32, 0, 8);
  keeps_nothing((int *)buffer);
  return strlen(buffer);
}

// A summarized callee that keeps its argument makes it escape.
static void keep(int *p) { global_ptr = p; }
void passed_to_keeper(void) {
  // CHECK-DAG: escape_c.c:[[@LINE+1]]:{{[0-9]+}}: remark: moved to heap: to_keeper
  int to_keeper = 7;
  keep(&to_keeper);
}

// Stored in a local struct that does not escape, and through a local pointer
// (at -O0 both are memory: the flow graph follows them).
int stored_in_local_struct(void) {
  // CHECK-DAG: escape_c.c:[[@LINE+1]]:{{[0-9]+}}: remark: in_struct does not escape
  int in_struct = 8;
  struct node local = {0, &in_struct};
  keeps_nothing(local.value);
  return *local.value;
}
int through_local_pointer(void) {
  // CHECK-DAG: escape_c.c:[[@LINE+1]]:{{[0-9]+}}: remark: pointee does not escape
  int pointee = 0;
  // O0-DAG: escape_c.c:[[@LINE+1]]:8: remark: q does not escape
  int *q = &pointee;
  *q = 1;
  keeps_nothing(q);
  return pointee;
}

// But a local struct that itself escapes takes what it points to along.
void stored_in_escaping_struct(void) {
  // CHECK-DAG: escape_c.c:[[@LINE+1]]:{{[0-9]+}}: remark: moved to heap: pointed_to
  int pointed_to = 9;
  // CHECK-DAG: escape_c.c:[[@LINE+1]]:{{[0-9]+}}: remark: moved to heap: outer
  struct node outer = {0, &pointed_to};
  list_head = &outer;
  unknown(0);
}

// A pointer laundered through an integer is still followed.
void laundered_through_integer(void) {
  // CHECK-DAG: escape_c.c:[[@LINE+1]]:{{[0-9]+}}: remark: moved to heap: laundered
  int laundered = 10;
  unsigned long bits = (unsigned long)&laundered;
  global_ptr = (int *)(bits | 0);
}

// Only the escaping local moves.
int only_one_moves(void) {
  // CHECK-DAG: escape_c.c:[[@LINE+1]]:{{[0-9]+}}: remark: moved to heap: leaves
  int leaves = 1;
  // CHECK-DAG: escape_c.c:[[@LINE+1]]:{{[0-9]+}}: remark: stays does not escape
  int stays[4] = {1, 2, 3, 4};
  unknown(&leaves);
  keeps_nothing(stays);
  return stays[3];
}

// Nothing else moves: exactly the 11 locals above.
// COUNT: {{^}}11{{$}}
