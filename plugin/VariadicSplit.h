//===- VariadicSplit.h - Give variadic functions a stack check --*- C++ -*-===//
//
// Splits each instrumented variadic function into a wrapper with an entry
// check in its prologue data and a non-variadic body that gets LLVM's
// split-stack prologue. See VariadicSplit.cpp.
//
//===----------------------------------------------------------------------===//
#ifndef GOROUTINE_PLUGIN_VARIADICSPLIT_H
#define GOROUTINE_PLUGIN_VARIADICSPLIT_H

#include "llvm/IR/PassManager.h"

namespace goroutine {

class VariadicSplitPass : public llvm::PassInfoMixin<VariadicSplitPass> {
public:
  llvm::PreservedAnalyses run(llvm::Module &M, llvm::ModuleAnalysisManager &);
};

} // namespace goroutine

#endif // GOROUTINE_PLUGIN_VARIADICSPLIT_H
