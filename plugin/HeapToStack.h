//===- HeapToStack.h - Heap objects that stay go on the stack ---*- C++ -*-===//
//
// Turns malloc/calloc/operator new calls whose result does not escape, whose
// size is a small constant and which are freed on every path into stack
// allocations. See HeapToStack.cpp.
//
//===----------------------------------------------------------------------===//
#ifndef GOROUTINE_PLUGIN_HEAPTOSTACK_H
#define GOROUTINE_PLUGIN_HEAPTOSTACK_H

#include "EscapeAnalysis.h"

#include "llvm/ADT/ArrayRef.h"
#include "llvm/IR/InstrTypes.h"

#include <string>

namespace llvm {
class LoopInfo;
class PostDominatorTree;
class TargetLibraryInfo;
} // namespace llvm

namespace goroutine {

// Largest allocation moved to the stack (Go's limit for implicit ones).
inline constexpr uint64_t MaxHeapToStackBytes = uint64_t{64} * 1024;

// Why Alloc, which does not escape and is freed by the calls Frees (and no
// others), cannot become a stack allocation; empty if it can.
std::string whyStaysOnHeap(const llvm::CallBase &Alloc,
                           llvm::ArrayRef<const llvm::CallBase *> Frees,
                           const llvm::TargetLibraryInfo &TLI,
                           const llvm::LoopInfo &LI,
                           const llvm::PostDominatorTree &PDT);

// Replaces the allocation of each of Objects, heap objects of one function
// for which whyStaysOnHeap returned "", with an alloca, and deletes their
// frees.
void moveToStack(llvm::ArrayRef<const EscapeObject *> Objects,
                 const llvm::TargetLibraryInfo &TLI);

} // namespace goroutine

#endif // GOROUTINE_PLUGIN_HEAPTOSTACK_H
