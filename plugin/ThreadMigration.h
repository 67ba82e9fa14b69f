//===- ThreadMigration.h - Thread-identity calls vary -----------*- C++ -*-===//
//
// A goroutine may resume on another OS thread at any call. glibc declares
// __errno_location and pthread_self `const`, so LLVM would reuse their result
// across calls, i.e. across a migration. See ThreadMigration.cpp.
//
//===----------------------------------------------------------------------===//
#ifndef GOROUTINE_PLUGIN_THREADMIGRATION_H
#define GOROUTINE_PLUGIN_THREADMIGRATION_H

#include "llvm/IR/PassManager.h"

namespace goroutine {

class ThreadMigrationPass : public llvm::PassInfoMixin<ThreadMigrationPass> {
public:
  llvm::PreservedAnalyses run(llvm::Module &M, llvm::ModuleAnalysisManager &);
};

} // namespace goroutine

#endif // GOROUTINE_PLUGIN_THREADMIGRATION_H
