// The article's stack trace at the bottom of a recursion, in C++:
// go::stack_trace() is Go's runtime.Stack(buf, false), go::stack_trace(true)
// is runtime.Stack(buf, true): every goroutine, each with its state.
//
// File and line come from the program's debug information (the build gives
// this example -g).
#include <goroutine/goroutine.hpp>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>

__attribute__((noinline)) static void recursive(int n) {
  if (n > 0) {
    char buffer[1024]; // 1 KiB of stack per call
    std::memset(buffer, n, sizeof buffer);
    recursive(n - 1);
    asm volatile("" : : "r"(buffer) : "memory");
  } else {
    // Print the stack trace at the deepest point.
    const std::string trace = go::stack_trace();
    std::printf("Stack trace: %s\n", trace.c_str());
    std::printf("All goroutines:\n%s\n", go::stack_trace(true).c_str());
  }
}

// Another goroutine, parked on a channel while the trace is taken.
__attribute__((noinline)) static void consumer(go::chan<int> jobs,
                                               go::wait_group *done) {
  for (int job : jobs)
    std::printf("consumer got job %d\n", job);
  done->done();
}

int main() {
  go::run([] {
    go::chan<int> jobs;
    go::wait_group done;
    done.add(1);
    go::spawn(consumer, jobs, &done);
    go::sleep_for(std::chrono::milliseconds(100)); // it waits for jobs now

    go::wait_group traced;
    traced.add(1);
    go::spawn([&traced] {
      recursive(10); // a goroutine with a deep stack
      traced.done();
    });
    traced.wait();

    jobs.send(1);
    jobs.close();
    done.wait();
  });
}
