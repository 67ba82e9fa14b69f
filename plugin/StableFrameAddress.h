//===- StableFrameAddress.h - Stack addresses kept as integers --*- C++ -*-===//
//
// A goroutine's stack moves; an address into it kept as an integer is not
// relocated. This pass turns the integer view of a stack position (frame
// address, stack pointer, address of a probe local) into the runtime's stable
// stack coordinate. See StableFrameAddress.cpp.
//
//===----------------------------------------------------------------------===//
#ifndef GOROUTINE_PLUGIN_STABLEFRAMEADDRESS_H
#define GOROUTINE_PLUGIN_STABLEFRAMEADDRESS_H

#include "llvm/IR/PassManager.h"

namespace goroutine {

class StableFrameAddressPass
    : public llvm::PassInfoMixin<StableFrameAddressPass> {
public:
  llvm::PreservedAnalyses run(llvm::Module &M, llvm::ModuleAnalysisManager &);
};

} // namespace goroutine

#endif // GOROUTINE_PLUGIN_STABLEFRAMEADDRESS_H
