//===- Options.h - Settings of the goroutine plugin -------------*- C++ -*-===//
//
// What the user can set, as -fplugin-arg-goroutine-<key>[=<value>] (clang) or
// as pass parameters goroutine-stack-checks<key[=value];...> (opt); parsed by
// parsePluginArgument (Options.cpp) for both, read by the passes.
//
//===----------------------------------------------------------------------===//
#ifndef GOROUTINE_PLUGIN_OPTIONS_H
#define GOROUTINE_PLUGIN_OPTIONS_H

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <cstdint>

#include <goroutine/abi.h>

namespace goroutine {

struct PluginOptions {
  // Bytes guaranteed free below every call into code that was not
  // instrumented (libc, libstdc++, other libraries); docs/design.md, "The
  // reserve for uninstrumented calls", says how 16 KiB was chosen.
  // `reserve=N`.
  uint64_t Reserve = GOROUTINE_DEFAULT_RESERVE;
  // Bytes guaranteed below calls into libm and compiler runtime routines that
  // LLVM emits for intrinsics and instructions (pow, fmod, ...): small leaf
  // functions, measured by tools/stack_usage.cpp. `libm-reserve=N`.
  uint64_t LibmReserve = GOROUTINE_DEFAULT_LIBM_RESERVE;
  // `no-reserve`: insert no checks before uninstrumented calls (for
  // measurement only: such calls may then overflow a goroutine stack).
  bool InsertReserveChecks = true;

  // `no-side-stack`: leave escaping locals on the movable stack (for
  // measurement only: stack moves then break pointers to them).
  bool MoveEscapingLocals = true;
  // `no-heap-to-stack`: keep every heap allocation on the heap.
  bool HeapToStack = true;
  // `escape-verbose`: explain why each object escapes, like go build -m=2.
  bool EscapeVerbose = false;
  // The debug information the user asked for, when the plugin raised it to
  // name variables in remarks: StripAddedDebugInfoPass goes back to it.
  enum class AddedDebugInfo : uint8_t { None, StripAll, KeepLineTables };
  AddedDebugInfo Added = AddedDebugInfo::None;
};

// Applies one argument, `key` or `key=value`, to Options. Byte counts are
// decimal digits only (no sign, no suffix) within [MinReserveBytes,
// MaxReserveBytes]. The error names the argument and says what was expected.
llvm::Error parsePluginArgument(llvm::StringRef Arg, PluginOptions &Options);

// Applies a list of arguments separated by Separator ("reserve=8192;no-reserve"
// for opt's pass parameters); stops at the first error.
llvm::Error parsePluginArguments(llvm::StringRef Args, char Separator,
                                 PluginOptions &Options);

// The range parsePluginArgument accepts for reserve= and libm-reserve=.
inline constexpr uint64_t MinReserveBytes = 256;
inline constexpr uint64_t MaxReserveBytes = uint64_t{1} << 30;

} // namespace goroutine

#endif // GOROUTINE_PLUGIN_OPTIONS_H
