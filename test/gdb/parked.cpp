// Goroutines stopped in known functions, for the gdb helper's test
// (gdb_test.sh): the main goroutine (1) starts three goroutines that park in
// parked_in_receiver (2: chan receive, on a stack grown to 64 KiB),
// parked_in_sender (3: chan send) and parked_in_wait_group (4:
// sync.WaitGroup.Wait; a shallow stack, so that compactpark=1 moves it to a
// 512-byte stack), and one that loops in busy_in_loop (5) until the monitor
// preempts it (runnable: its context saved by the preemption path). It waits
// until they have all switched out, and calls goroutines_parked(), where gdb
// stops it. Then it lets them finish and prints "4 goroutines woken"; with
// the argument "abort", it aborts instead (a core file).
//
// Run with GOROUTINE_MAXPROCS=1: the main goroutine then runs again only once
// each of the others has switched out.
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <goroutine/chan.hpp>
#include <goroutine/goroutine.hpp>
#include <goroutine/sync.hpp>

namespace {

std::atomic<int> parking{0}, woken{0};
std::atomic<bool> busy_started{false}, busy_stop{false};
std::atomic<size_t> receiver_stack{0};

// 1 KiB of stack per level, down to `depth`, then waits on ch there.
__attribute__((noinline)) int parked_in_receiver(go::chan<int> ch, int depth) {
  char buffer[1024];
  std::memset(buffer, depth, sizeof buffer);
  if (depth > 0)
    return parked_in_receiver(ch, depth - 1) + buffer[depth % 1024];
  receiver_stack = go::stack_size();
  parking.fetch_add(1);
  const int v = ch.recv().value_or(-1);
  woken.fetch_add(1); // (and no tail call: the frame stays on the stack)
  return v;
}

__attribute__((noinline)) void parked_in_sender(go::chan<int> ch) {
  parking.fetch_add(1);
  ch.send(7);
  woken.fetch_add(1);
}

__attribute__((noinline)) void parked_in_wait_group(go::wait_group &wg) {
  parking.fetch_add(1);
  wg.wait();
  woken.fetch_add(1);
}

__attribute__((noinline)) void busy_leaf() { asm volatile("" ::: "memory"); }

// Not a leaf, so it has a stack check (frameless leaves have none).
__attribute__((noinline)) void busy_step() {
  busy_leaf();
  asm volatile("" ::: "memory");
}

// Calls busy_step (whose stack check is where a preemption lands) until told
// to stop.
__attribute__((noinline)) void busy_in_loop() {
  busy_started = true;
  while (!busy_stop.load(std::memory_order_relaxed))
    busy_step();
  woken.fetch_add(1);
}

} // namespace

// gdb breaks here, with the three goroutines parked.
extern "C" __attribute__((noinline)) void goroutines_parked() {
  asm volatile("" ::: "memory");
}

int main(int argc, char **argv) {
  const bool abort_when_parked = argc > 1 && std::strcmp(argv[1], "abort") == 0;
  go::run([abort_when_parked] {
    go::chan<int> to_receiver, from_sender;
    go::wait_group release, finished;
    finished.add(4);
    go::spawn([&] {
      parked_in_receiver(to_receiver, 40);
      finished.done();
    });
    go::spawn([&] {
      parked_in_sender(from_sender);
      finished.done();
    });
    release.add(1);
    go::spawn([&] {
      parked_in_wait_group(release);
      finished.done();
    });
    go::spawn([&] {
      busy_in_loop();
      finished.done();
    });
    // With one P, the others have switched out whenever this one runs.
    while (parking.load() < 3 || !busy_started.load())
      go::yield();
    goroutines_parked();
    if (abort_when_parked)
      std::abort(); // a core file (the runtime leaves SIGABRT alone)
    to_receiver.send(1);
    from_sender.recv();
    release.done();
    busy_stop = true;
    finished.wait();
    std::printf("receiver stack %zu bytes\n%d goroutines woken\n",
                receiver_stack.load(), woken.load());
  });
}
