//===- Options.h - Settings of the goroutine plugin ------------*- C++ -*-===//
//
// What the user can set with -fplugin-arg-goroutine-<key>[=<value>]; parsed by
// GoroutinePlugin.cpp, read by the passes.
//
//===----------------------------------------------------------------------===//
#ifndef GOROUTINE_PLUGIN_OPTIONS_H
#define GOROUTINE_PLUGIN_OPTIONS_H

#include <cstdint>

#include <goroutine/abi.h>

namespace goroutine {

struct PluginOptions {
  // Bytes guaranteed free below every call into code that was not
  // instrumented (libc, libstdc++, other libraries); see docs/stacks.md for
  // how 16 KiB was chosen. `reserve=N`.
  uint64_t Reserve = GOROUTINE_DEFAULT_RESERVE;
  // Bytes guaranteed below calls into libm and compiler runtime routines that
  // LLVM emits for intrinsics and instructions (pow, fmod, ...): small leaf
  // functions, measured by tools/measure-stack-usage. `libm-reserve=N`.
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

} // namespace goroutine

#endif // GOROUTINE_PLUGIN_OPTIONS_H
