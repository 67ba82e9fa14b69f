// Turning code addresses into source locations for stack traces, with libdw
// (elfutils) reading the program's DWARF; see symbolize.cpp.
#ifndef GOROUTINE_SYMBOLIZE_H
#define GOROUTINE_SYMBOLIZE_H

#include <cstddef>
#include <cstdint>
#include <dlfcn.h>

namespace go::runtime {

// One source-level frame at a code address.
struct SourceLocation {
  const char *function = nullptr; // as the debug information names it
                                  // (mangled when it has a linkage name)
  const char *file = nullptr;
  int line = 0;
};

// Resolves pc into at most max locations, innermost first: each function
// inlined at pc, then the function pc belongs to (whose `function` is left
// null: the caller has its symbol already). Returns how many (0: no debug
// information for pc). The strings stay valid for the life of the process.
// Serialized: with may_wait false, gives up at once if another thread is
// symbolizing (a crash must not wait on a thread that may never finish).
int symbolize(uintptr_t pc, bool may_wait, SourceLocation *out, int max);

// The name of the symbol-table entry (local symbols too) containing pc, into
// name; false if there is none (or, with may_wait false, if another thread
// is symbolizing).
bool symbol_name(uintptr_t pc, char *name, size_t size, bool may_wait = true);

// dlsym into a typed function pointer; false if the library lacks it.
template <class Fn> bool dl_symbol(void *lib, Fn &fn, const char *name) {
  fn = reinterpret_cast<Fn>(dlsym(lib, name));
  return fn != nullptr;
}

} // namespace go::runtime

#endif // GOROUTINE_SYMBOLIZE_H
