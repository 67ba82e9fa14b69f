// Keeping signal handlers off goroutine stacks, and reporting faults on them.
// See signals.cpp.
#ifndef GOROUTINE_SIGNALS_H
#define GOROUTINE_SIGNALS_H

#include <csignal>
#include <cstddef>
#include <cstdint>

namespace go::runtime {

// Installs the runtime's SIGSEGV/SIGBUS reporter where the program has not
// installed a handler of its own.
void signals_init();

// This thread's runtime signal stack, [lo, hi); empty on other threads.
extern constinit thread_local uintptr_t signal_stack_lo, signal_stack_hi;

// True if sp lies in this thread's runtime signal stack: the code at sp runs
// in a signal handler. Inline: every goroutine switch asks.
inline bool on_signal_stack(uintptr_t sp) {
  return sp - signal_stack_lo < signal_stack_hi - signal_stack_lo;
}

// The alternate signal stack of a runtime thread, installed for the lifetime
// of the object (RAII); the previous one is restored afterwards.
class ThreadSignalStack {
public:
  ThreadSignalStack();
  ~ThreadSignalStack();
  ThreadSignalStack(const ThreadSignalStack &) = delete;
  ThreadSignalStack &operator=(const ThreadSignalStack &) = delete;

private:
  void *memory_ = nullptr;
  size_t size_ = 0;
  stack_t previous_{};
};

} // namespace go::runtime

#endif // GOROUTINE_SIGNALS_H
