// The side stack's mechanics: escaping locals get frames there, which are
// popped on return, after a catch, after longjmp, and with their
// stacksave/stackrestore scope (VLAs); it grows by chunks without moving, and
// threads outside goroutines have one too.
// RUN: %clangxx -O2 -I%include -fplugin=%plugin -S -emit-llvm %s -o - | FileCheck %s --check-prefix=IR
// RUN: %goroutine-clang++ -O2 %s -o %t && %t | FileCheck %s
// RUN: %goroutine-clang++ -O0 %s -o %t0 && %t0 | FileCheck %s
#include <goroutine/goroutine.hpp>

#include <csetjmp>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <stdexcept>
#include <thread>

namespace {

// Where escaping locals' addresses go.
void *volatile sink;
__attribute__((noinline)) void publish(void *p) { sink = p; }

// A fresh escaping local's address: the side stack's current depth.
__attribute__((noinline)) uintptr_t side_depth() {
  int probe = 0;
  publish(&probe);
  return reinterpret_cast<uintptr_t>(sink);
}

__attribute__((noinline)) void thrower(int i) {
  char record[256];
  std::snprintf(record, sizeof record, "error %d", i);
  publish(record);
  throw std::runtime_error(record);
}

// IR-LABEL: define {{.*}}@_ZN12_GLOBAL__N_110catch_loopEv(
// IR: landingpad
// IR: [[TLS:%[0-9]+]] = call ptr @llvm.threadlocal.address.p0(ptr @__goroutine_side_sp)
// IR-NEXT: store i64 {{%[0-9]+}}, ptr [[TLS]]
__attribute__((noinline)) int catch_loop() {
  int caught = 0;
  for (int i = 0; i < 10000; ++i) {
    try {
      thrower(i);
    } catch (const std::runtime_error &) {
      ++caught;
    }
  }
  return caught;
}

jmp_buf env;
__attribute__((noinline)) void jumper(int i) {
  char record[256];
  std::memset(record, i & 0x7f, sizeof record);
  publish(record);
  std::longjmp(env, 1);
}

// IR-LABEL: define {{.*}}@_ZN12_GLOBAL__N_19jump_loopEv(
// IR: call i32 @_setjmp
// IR-NEXT: [[TLS:%[0-9]+]] = call ptr @llvm.threadlocal.address.p0(ptr @__goroutine_side_sp)
// IR-NEXT: store i64 {{%[0-9]+}}, ptr [[TLS]]
__attribute__((noinline)) int jump_loop() {
  volatile int jumps = 0;
  for (int i = 0; i < 10000; ++i)
    if (setjmp(env) == 0)
      jumper(i);
    else
      jumps = jumps + 1;
  return jumps;
}

// Escaping VLAs are popped with their scope.
__attribute__((noinline)) int vla_loop(int n) {
  int sum = 0;
  for (int i = 0; i < 10000; ++i) {
    char buf[n];
    std::memset(buf, 1, n);
    publish(buf);
    sum += buf[n - 1];
  }
  return sum;
}

// Deep recursion with escaping locals fills several chunks.
__attribute__((noinline)) int deep(int depth) {
  char frame[1024];
  std::memset(frame, depth & 0x7f, sizeof frame);
  publish(frame);
  const int here = frame[depth % sizeof frame];
  return depth == 0 ? here : deep(depth - 1) + here + (frame[7] - here);
}

void check_all(const char *who) {
  deep(2000); // the side stack's chunks settle
  const uintptr_t before = side_depth();
  const int caught = catch_loop();
  const int jumps = jump_loop();
  const int vlas = vla_loop(300);
  const int sum1 = deep(2000);
  const uint64_t chunks = go::read_mem_stats().side_stack_sys;
  const int sum2 = deep(2000);
  const bool reused = go::read_mem_stats().side_stack_sys == chunks;
  std::printf("%s: caught=%d jumps=%d vlas=%d deep=%d/%d creep=%ld reused=%d\n",
              who, caught, jumps, vlas, sum1, sum2,
              static_cast<long>(before - side_depth()), reused);
}

} // namespace

// CHECK: goroutine: caught=10000 jumps=10000 vlas=10000 deep=125160/125160 creep=0 reused=1
// CHECK: thread: caught=10000 jumps=10000 vlas=10000 deep=125160/125160 creep=0 reused=1
// CHECK: goroutine again: caught=10000 jumps=10000 vlas=10000 deep=125160/125160 creep=0 reused=1
int main() {
  go::run([] { check_all("goroutine"); });
  std::thread([] { check_all("thread"); }).join();
  go::run([] { check_all("goroutine again"); });
}
