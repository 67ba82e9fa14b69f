//===- StackChecks.h - Checks the split-stack prologue misses ---*- C++ -*-===//
//
// Inserts stack checks where the split-stack prologue is not enough: before
// dynamic allocas, before calls into code that was not instrumented (so they
// find a reserve below them), and rewrites over-aligned locals whose stack
// realignment the prologue does not count. See StackChecks.cpp.
//
//===----------------------------------------------------------------------===//
#ifndef GOROUTINE_PLUGIN_STACKCHECKS_H
#define GOROUTINE_PLUGIN_STACKCHECKS_H

#include "Options.h"

#include "llvm/IR/PassManager.h"

namespace goroutine {

// A function pass: each function's checks depend only on its own body and on
// the attributes of its callees, which the pass does not change.
class StackChecksPass : public llvm::PassInfoMixin<StackChecksPass> {
public:
  explicit StackChecksPass(PluginOptions Options) : Options(Options) {}
  llvm::PreservedAnalyses run(llvm::Function &F,
                              llvm::FunctionAnalysisManager &FAM);
  // The checks are needed for correctness, at -O0 (optnone) too.
  static bool isRequired() { return true; }

private:
  PluginOptions Options;
};

// Records the reserve this module's checks promise in the object file
// (GOROUTINE_RESERVE_SECTION), so the runtime keeps as much below
// uninstrumented frames when it shrinks a stack.
class RecordReservePass : public llvm::PassInfoMixin<RecordReservePass> {
public:
  explicit RecordReservePass(PluginOptions Options) : Options(Options) {}
  llvm::PreservedAnalyses run(llvm::Module &M, llvm::ModuleAnalysisManager &);
  static bool isRequired() { return true; }

private:
  PluginOptions Options;
};

} // namespace goroutine

#endif // GOROUTINE_PLUGIN_STACKCHECKS_H
