//===- CallStackNeeds.h - How much stack a call may need --------*- C++ -*-===//
//
// Analysis for StackChecks: which calls reach code that checks its own stack
// (instrumented functions, the runtime), which reach code that was not
// instrumented and so must find a reserve below the call, and how big.
//
//===----------------------------------------------------------------------===//
#ifndef GOROUTINE_PLUGIN_CALLSTACKNEEDS_H
#define GOROUTINE_PLUGIN_CALLSTACKNEEDS_H

#include <cstdint>

#include "llvm/IR/InstrTypes.h"
#include "llvm/IR/Instructions.h"

namespace goroutine {

enum class StackNeed : uint8_t {
  None,    // the callee checks its own stack, or fits in the guard area
  Libm,    // a small libm/compiler-rt leaf: PluginOptions::LibmReserve
  Reserve, // anything else: PluginOptions::Reserve
};

// Attribute the plugin puts on functions whose entry check it emitted itself
// (variadic wrappers): calls to them need no reserve.
inline constexpr const char *CheckedPrologueAttr = "goroutine-checked-prologue";

// True if F gets a stack check on entry: LLVM's split-stack prologue or the
// plugin's own.
bool isInstrumented(const llvm::Function &F);

// What the call CB needs below it.
StackNeed stackNeedOfCall(const llvm::CallBase &CB);

// Instructions other than calls that LLVM lowers to library calls (frem
// becomes fmod).
StackNeed stackNeedOfInstruction(const llvm::Instruction &I);

// True if the goroutine's stack may shrink or move during the call CB: the
// goroutine may park in it (the runtime, or any code that may reach the
// runtime: instrumented functions, callbacks from uninstrumented code,
// interposed blocking calls). A reserve checked before such a call says
// nothing about the stack after it.
bool mayParkInCall(const llvm::CallBase &CB);

} // namespace goroutine

#endif // GOROUTINE_PLUGIN_CALLSTACKNEEDS_H
