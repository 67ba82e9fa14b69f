//===- GoroutineEscape.h - Escape analysis and what follows -----*- C++ -*-===//
//
// Runs EscapeAnalysis over the module, reports each decision as an
// optimization remark in Go's words (pass name goroutine-escape), turns heap
// allocations that stay into stack allocations, and moves escaping locals to
// the side stack. See GoroutineEscape.cpp.
//
//===----------------------------------------------------------------------===//
#ifndef GOROUTINE_PLUGIN_GOROUTINEESCAPE_H
#define GOROUTINE_PLUGIN_GOROUTINEESCAPE_H

#include "Options.h"

#include "llvm/IR/PassManager.h"

namespace goroutine {

class GoroutineEscapePass : public llvm::PassInfoMixin<GoroutineEscapePass> {
public:
  explicit GoroutineEscapePass(PluginOptions Options) : Options(Options) {}
  llvm::PreservedAnalyses run(llvm::Module &M,
                              llvm::ModuleAnalysisManager &MAM);

private:
  PluginOptions Options;
};

// Removes debug information the plugin added only to name variables in its
// remarks (PluginOptions::AddedDebugInfo).
class StripAddedDebugInfoPass
    : public llvm::PassInfoMixin<StripAddedDebugInfoPass> {
public:
  explicit StripAddedDebugInfoPass(PluginOptions Options) : Options(Options) {}
  llvm::PreservedAnalyses run(llvm::Module &M, llvm::ModuleAnalysisManager &);

private:
  PluginOptions Options;
};

} // namespace goroutine

#endif // GOROUTINE_PLUGIN_GOROUTINEESCAPE_H
