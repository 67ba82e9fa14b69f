//===- StackChecks.h - Checks LLVM's split-stack prologue misses -*- C++
//-*-===//
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

class StackChecksPass : public llvm::PassInfoMixin<StackChecksPass> {
public:
  explicit StackChecksPass(PluginOptions Options) : Options(Options) {}
  llvm::PreservedAnalyses run(llvm::Module &M,
                              llvm::ModuleAnalysisManager &MAM);

private:
  PluginOptions Options;
};

} // namespace goroutine

#endif // GOROUTINE_PLUGIN_STACKCHECKS_H
