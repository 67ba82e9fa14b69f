// panic.cpp: a C++ exception that no goroutine frame catches ends the program
// like a Go panic: "panic: <type>: <what()>", the goroutine's stack trace,
// exit status 2.
//
// goroutine_trampoline marks the bottom of every goroutine stack as the end
// of the stack for unwinding, so such an exception fails the unwinder's
// search phase and std::terminate runs at the throw site, before anything is
// unwound: the trace shows where the exception was thrown. This file is built
// with exceptions and RTTI, unlike the rest of the runtime, to read what().
#include <cstdio>
#include <cstdlib>
#include <cxxabi.h>
#include <exception>
#include <typeinfo>
#include <unistd.h>

#include "runtime.h"
#include "trace.h"

namespace go::runtime {
namespace {

std::terminate_handler previous_handler = nullptr;

void print_panic(void *) {
  const std::type_info *type = abi::__cxa_current_exception_type();
  const char *what = nullptr;
  try {
    if (type != nullptr)
      throw;
  } catch (const std::exception &e) {
    what = e.what();
  } catch (...) {
    what = nullptr; // not a std::exception: only its type can be shown
  }
  char *name = nullptr;
  int status = -1;
  if (type != nullptr)
    name = abi::__cxa_demangle(type->name(), nullptr, nullptr, &status);
  const char *type_name =
      status == 0 ? name : (type != nullptr ? type->name() : "no exception");
  if (what != nullptr)
    std::fprintf(stderr, "panic: %s: %s\n\n", type_name, what);
  else
    std::fprintf(stderr, "panic: %s\n\n", type_name);
  std::free(name);
  trace_print_current(goroutine_thread_state.g, "running");
  std::fflush(nullptr);
  _exit(2);
}

[[noreturn]] void on_terminate() {
  if (goroutine_thread_state.g == nullptr) {
    // Not in a goroutine: whatever the program had before.
    if (previous_handler != nullptr)
      previous_handler();
    std::abort();
  }
  goroutine_systemstack(print_panic, nullptr);
  std::abort();
}

} // namespace

void panic_init() { previous_handler = std::set_terminate(on_terminate); }

} // namespace go::runtime
