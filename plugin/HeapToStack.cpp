//===- HeapToStack.cpp - Stack allocation for heap objects that stay ------===//
//
// Go allocates on the stack whatever does not escape, `new` included. Here:
// a call to malloc, calloc or operator new
//  - whose result does not escape (EscapeAnalysis.cpp),
//  - of a constant size of at most 64 KiB (Go's limit for implicit
//    allocations),
//  - not inside a loop (one stack slot would then serve several live
//    allocations), and
//  - freed by a call that post-dominates it (so every path frees it, and no
//    path can use it after the function returns)
// becomes an alloca of that size in the entry block, with lifetime markers
// where the allocation and the free were; the frees are deleted, calloc's
// memory is zeroed. The stack slot is on the movable stack, which is fine:
// nothing outside the stack points to it.
//
//===----------------------------------------------------------------------===//

#include "HeapToStack.h"

#include "llvm/ADT/Statistic.h"
#include "llvm/Analysis/LoopInfo.h"
#include "llvm/Analysis/MemoryBuiltins.h"
#include "llvm/Analysis/PostDominators.h"
#include "llvm/IR/IRBuilder.h"
#include "llvm/IR/InstIterator.h"
#include "llvm/IR/Instructions.h"
#include "llvm/Support/Debug.h"

using namespace llvm;

#define DEBUG_TYPE "goroutine-heap-to-stack"

STATISTIC(NumPromoted, "Heap allocations moved to the stack");

namespace goroutine {
namespace {

uint64_t allocationAlign(const CallBase &Alloc, const TargetLibraryInfo &TLI) {
  if (const auto *C =
          dyn_cast_or_null<ConstantInt>(getAllocAlignment(&Alloc, &TLI)))
    return std::max<uint64_t>(C->getZExtValue(), 16);
  return 16; // what malloc and operator new guarantee on x86-64
}

// Deletes a call or invoke, keeping the control flow of an invoke.
void eraseCall(CallBase &CB) {
  if (auto *Invoke = dyn_cast<InvokeInst>(&CB)) {
    IRBuilder<>(Invoke).CreateBr(Invoke->getNormalDest());
    Invoke->getUnwindDest()->removePredecessor(Invoke->getParent());
  }
  CB.eraseFromParent();
}

} // namespace

std::string whyStaysOnHeap(const CallBase &Alloc,
                           ArrayRef<const CallBase *> Frees,
                           const TargetLibraryInfo &TLI, const LoopInfo &LI,
                           const PostDominatorTree &PDT) {
  const std::optional<APInt> Size = getAllocSize(&Alloc, &TLI);
  if (!Size)
    return "its size is not a constant";
  if (Size->ugt(MaxHeapToStackBytes))
    return "it is larger than 64 KiB";
  if (LI.getLoopFor(Alloc.getParent()) != nullptr)
    return "it is allocated in a loop";
  for (const CallBase *Free : Frees)
    if (PDT.dominates(Free, &Alloc))
      return "";
  return Frees.empty() ? "it is not freed" : "it is not freed on every path";
}

namespace {

void moveOneToStack(CallBase &Alloc, ArrayRef<const CallBase *> Frees,
                    const TargetLibraryInfo &TLI) {
  Function &F = *Alloc.getFunction();
  const std::optional<APInt> AllocSize = getAllocSize(&Alloc, &TLI);
  // NOLINTNEXTLINE(bugprone-unchecked-optional-access): whyStaysOnHeap checked
  const uint64_t Size = AllocSize->getZExtValue();
  LLVM_DEBUG(dbgs() << F.getName() << ": to a stack slot of " << Size
                    << " bytes:" << Alloc << " (" << Frees.size()
                    << " frees deleted)\n");
  Type *I8 = Type::getInt8Ty(F.getContext());
  IRBuilder<> EB(&*F.getEntryBlock().getFirstInsertionPt());
  AllocaInst *Slot = EB.CreateAlloca(
      ArrayType::get(I8, std::max<uint64_t>(Size, 1)), nullptr,
      Alloc.getName().empty() ? "heap.on.stack" : Alloc.getName());
  Slot->setAlignment(Align(allocationAlign(Alloc, TLI)));

  IRBuilder<> B(&Alloc);
  B.CreateLifetimeStart(Slot, B.getInt64(Size));
  if (Constant *Init = getInitialValueOfAllocation(&Alloc, &TLI, I8);
      Init != nullptr && !isa<UndefValue>(Init))
    B.CreateMemSet(Slot, Init, Size, Slot->getAlign()); // calloc
  for (const CallBase *Free : Frees) {
    auto *Mutable = const_cast<CallBase *>(Free);
    IRBuilder<>(Mutable).CreateLifetimeEnd(Slot, B.getInt64(Size));
    eraseCall(*Mutable);
  }
  Alloc.replaceAllUsesWith(Slot);
  eraseCall(Alloc);
  ++NumPromoted;
}

} // namespace

void moveToStack(ArrayRef<const EscapeObject *> Objects,
                 const TargetLibraryInfo &TLI) {
  if (Objects.empty())
    return;
  auto AllocOf = [](const EscapeObject *O) {
    return const_cast<CallBase *>(cast<CallBase>(O->Def));
  };
  Function &F = *AllocOf(Objects.front())->getFunction();
  for (const EscapeObject *O : Objects)
    moveOneToStack(*AllocOf(O), O->Frees, TLI);
  // `tail` promises the callee does not touch this frame's allocas; calls
  // that were given heap memory may now be given a slot.
  for (Instruction &I : instructions(F))
    if (auto *CI = dyn_cast<CallInst>(&I); CI && CI->isTailCall())
      CI->setTailCall(false);
}

} // namespace goroutine
