//===- StackChecks.cpp - Checks LLVM's split-stack prologue misses --------===//
//
// LLVM's x86-64 split-stack prologue (enabled by the "split-stack" function
// attribute, which the plugin turns on for every function) checks the frame a
// function allocates on entry. Three things escape it; this pass handles them
// in every instrumented function:
//
// 1. Calls into code that was not instrumented (libc, libstdc++, indirect
//    calls, no_split_stack functions) run with whatever stack is left. Before
//    each such call the pass inserts
//
//        lea  -R(%rsp), %r11
//        cmp  %fs:0x70, %r11
//        ja   1f
//        mov  $R, %r10
//        call __goroutine_morestack      (preserves every register)
//      1:
//
//    with R the reserve (PluginOptions::Reserve, or LibmReserve for small
//    libm leaves). A check is left out where every path to the call has
//    already checked at least as much since the last point where %rsp moved
//    down (dynamic allocas) or the stack may have shrunk (a call in which the
//    goroutine may park): see checkCalls.
//
// 2. Dynamic allocas (VLAs, alloca()) grow the frame after the prologue. The
//    backend's own split-stack lowering of them would call libgcc's
//    __morestack_allocate_stack_space; instead the pass checks first, with the
//    byte count in a register:
//
//        mov  %rsp, %r11 ; sub size, %r11 ; jb 2f
//        cmp  %fs:0x70, %r11 ; ja 1f
//      2: mov size, %r10 ; call __goroutine_morestack
//      1:
//
//    after which the backend's check always passes.
//
// 3. Locals aligned beyond 64 bytes make the prologue realign %rsp by up to
//    (alignment - 16) bytes below the frame it checked. Such allocas become
//    16-byte-aligned allocas with room to align by hand, so the frame the
//    prologue checks is the frame used.
//
// The checks call from inline assembly, which the compiler does not see as a
// call, so functions that get one are marked "noredzone".
//
// Why each check is needed and how the sizes were chosen: docs/design.md
// (the prologue check; the reserve for uninstrumented calls).
//
//===----------------------------------------------------------------------===//

#include "StackChecks.h"

#include "CallStackNeeds.h"

#include "llvm/ADT/PostOrderIterator.h"
#include "llvm/ADT/Statistic.h"
#include "llvm/IR/CFG.h"
#include "llvm/IR/GlobalVariable.h"
#include "llvm/IR/IRBuilder.h"
#include "llvm/IR/InlineAsm.h"
#include "llvm/IR/Instructions.h"
#include "llvm/IR/Module.h"
#include "llvm/Support/Debug.h"
#include "llvm/Transforms/Utils/ModuleUtils.h"

#include <goroutine/abi.h>

using namespace llvm;

#define DEBUG_TYPE "goroutine-stack-checks"

STATISTIC(NumReserveChecks, "Checks inserted before uninstrumented calls");
STATISTIC(NumReserveElided, "Reserve checks covered by an earlier check");
STATISTIC(NumAllocaChecks, "Checks inserted before dynamic allocas");
STATISTIC(NumRealigned, "Over-aligned locals aligned by hand");

namespace goroutine {
namespace {

// Alignment the backend may realign %rsp for within the guard area
// (GOROUTINE_STACK_GUARD, <goroutine/abi.h>). Moves keep every alignment: they
// shift addresses by multiples of 4 GiB.
constexpr uint64_t MaxRealignInGuard = 64;

constexpr const char *AsmClobbers = "~{r10},~{r11},~{dirflag},~{fpsr},~{flags}";

void insertReserveCheck(Instruction *Before, uint64_t Bytes) {
  IRBuilder<> B(Before);
  auto *Ty = FunctionType::get(B.getVoidTy(), {B.getInt64Ty()}, false);
  InlineAsm *Asm =
      InlineAsm::get(Ty,
                     "leaq -${0:c}(%rsp), %r11\n\t"
                     "cmpq " GOROUTINE_STACK_LIMIT_OPERAND ", %r11\n\t"
                     "ja 1f\n\t"
                     "movq $$${0:c}, %r10\n\t"
                     "callq " GOROUTINE_MORESTACK_CALL_NAME "@PLT\n"
                     "1:",
                     std::string("i,") + AsmClobbers, /*hasSideEffects=*/true);
  B.CreateCall(Asm, {B.getInt64(Bytes)});
}

void insertDynamicCheck(Instruction *Before, Value *Bytes) {
  IRBuilder<> B(Before);
  auto *Ty = FunctionType::get(B.getVoidTy(), {B.getInt64Ty()}, false);
  InlineAsm *Asm =
      InlineAsm::get(Ty,
                     "movq %rsp, %r11\n\t"
                     "subq $0, %r11\n\t"
                     "jb 2f\n\t"
                     "cmpq " GOROUTINE_STACK_LIMIT_OPERAND ", %r11\n\t"
                     "ja 1f\n"
                     "2:\n\t"
                     "movq $0, %r10\n\t"
                     "callq " GOROUTINE_MORESTACK_CALL_NAME "@PLT\n"
                     "1:",
                     std::string("r,") + AsmClobbers, /*hasSideEffects=*/true);
  B.CreateCall(Asm, {Bytes});
}

// Bytes a dynamic alloca takes, plus its alignment slack and room for the
// backend's own rounding.
Value *dynamicAllocaBytes(AllocaInst *AI) {
  IRBuilder<> B(AI);
  const DataLayout &DL = AI->getDataLayout();
  Value *Count = B.CreateZExtOrTrunc(AI->getArraySize(), B.getInt64Ty());
  Value *Size = B.CreateMul(
      Count, B.getInt64(DL.getTypeAllocSize(AI->getAllocatedType())));
  return B.CreateAdd(Size, B.getInt64(AI->getAlign().value() + 64));
}

// alloca T, align A (A > 64)  =>  alloca [size + A - 16] align 16, aligned by
// hand with a GEP that keeps the pointer's provenance.
void realign(AllocaInst *AI, uint64_t Size) {
  const uint64_t A = AI->getAlign().value();
  IRBuilder<> B(AI);
  AllocaInst *Raw = B.CreateAlloca(B.getInt8Ty(), B.getInt64(Size + A - 16));
  Raw->setAlignment(Align(16));
  Value *Addr = B.CreatePtrToInt(Raw, B.getInt64Ty());
  Value *Pad = B.CreateAnd(B.CreateNeg(Addr), B.getInt64(A - 1));
  Value *Aligned = B.CreateInBoundsGEP(B.getInt8Ty(), Raw, Pad);
  Aligned->takeName(AI);
  Raw->setName(Aligned->getName() + ".unaligned");
  AI->replaceAllUsesWith(Aligned);
  AI->eraseFromParent();
  ++NumRealigned;
}

class FunctionChecks {
public:
  FunctionChecks(Function &F, const PluginOptions &Options)
      : F(F), Options(Options) {}

  bool run() {
    realignLocals();
    const bool Dynamic = checkDynamicAllocas();
    LLVM_DEBUG({
      if (Dynamic && Options.InsertReserveChecks)
        dbgs() << F.getName() << ": has dynamic allocas, elides no check\n";
    });
    if (Options.InsertReserveChecks)
      checkCalls(/*Elide=*/!Dynamic);
    if (Changed)
      F.addFnAttr(Attribute::NoRedZone);
    return Changed;
  }

private:
  void realignLocals() {
    SmallVector<std::pair<AllocaInst *, uint64_t>, 4> Over;
    const DataLayout &DL = F.getDataLayout();
    for (Instruction &I : F.getEntryBlock())
      if (auto *AI = dyn_cast<AllocaInst>(&I))
        if (AI->isStaticAlloca() && AI->getAlign().value() > MaxRealignInGuard)
          if (std::optional<TypeSize> Size = AI->getAllocationSize(DL))
            Over.push_back({AI, Size->getFixedValue()});
    for (auto [AI, Size] : Over) {
      LLVM_DEBUG(dbgs() << F.getName() << ": realign by hand: " << *AI << "\n");
      realign(AI, Size);
      Changed = true;
    }
  }

  // Returns true if the function has dynamic allocas (after checking them).
  bool checkDynamicAllocas() {
    SmallVector<AllocaInst *, 4> Dynamic;
    for (BasicBlock &BB : F)
      for (Instruction &I : BB)
        if (auto *AI = dyn_cast<AllocaInst>(&I))
          if (!AI->isStaticAlloca())
            Dynamic.push_back(AI);
    for (AllocaInst *AI : Dynamic) {
      LLVM_DEBUG(dbgs() << F.getName() << ": check before dynamic alloca "
                        << *AI << "\n");
      insertDynamicCheck(AI, dynamicAllocaBytes(AI));
      ++NumAllocaChecks;
      Changed = true;
    }
    return !Dynamic.empty();
  }

  uint64_t reserveFor(const Instruction &I) const {
    StackNeed Need = StackNeed::None;
    if (const auto *CB = dyn_cast<CallBase>(&I))
      Need = stackNeedOfCall(*CB);
    else
      Need = stackNeedOfInstruction(I);
    switch (Need) {
    case StackNeed::None:
      return 0;
    case StackNeed::Libm:
      return Options.LibmReserve;
    case StackNeed::Reserve:
      return Options.Reserve;
    }
    return Options.Reserve;
  }

  // A check at one call covers a later call that needs no more, if %rsp has
  // not moved down and the stack has not shrunk in between: no dynamic alloca
  // (Elide is false then) and no call in which the goroutine may park (a
  // parked goroutine's stack may be shrunk to its minimum). A forward
  // must-analysis finds, at each block's entry, the reserve checked on every
  // path since the last such call; a site gets a check where that is less
  // than it needs.
  void checkCalls(bool Elide) {
    DenseMap<const BasicBlock *, uint64_t> Out;
    if (Elide)
      coveredAtExits(Out);
    for (BasicBlock &BB : F) {
      uint64_t Covered = Elide ? coveredAtEntry(BB, Out) : 0;
      SmallVector<Instruction *, 16> Insts(llvm::make_pointer_range(BB));
      for (Instruction *I : Insts) {
        const uint64_t R = reserveFor(*I);
        if (R != 0 && Covered >= R) {
          LLVM_DEBUG(dbgs() << F.getName() << ": reserve " << R
                            << " covered by an earlier check of " << Covered
                            << ":" << *I << "\n");
          ++NumReserveElided;
        } else if (R != 0) {
          LLVM_DEBUG(dbgs() << F.getName() << ": reserve check of " << R
                            << " before" << *I << "\n");
          insertReserveCheck(I, R);
          ++NumReserveChecks;
          Changed = true;
        }
        Covered = Elide ? coveredAfter(Covered, *I) : 0;
      }
    }
  }

  // The transfer function: the reserve checked on every path to the point
  // after I, given `Covered` before it. A site that needs more gets a check
  // of its own; a call in which the goroutine may park ends all coverage.
  uint64_t coveredAfter(uint64_t Covered, const Instruction &I) const {
    Covered = std::max(Covered, reserveFor(I));
    const auto *CB = dyn_cast<CallBase>(&I);
    return CB != nullptr && mayParkInCall(*CB) ? 0 : Covered;
  }

  // The reserve checked on every path into BB: the least over its
  // predecessors' exits (nothing at the function's entry).
  uint64_t coveredAtEntry(const BasicBlock &BB,
                          const DenseMap<const BasicBlock *, uint64_t> &Out) {
    if (&BB == &F.getEntryBlock())
      return 0;
    uint64_t Covered = UINT64_MAX; // no predecessor seen: unreachable so far
    for (const BasicBlock *Pred : predecessors(&BB)) {
      auto It = Out.find(Pred);
      if (It != Out.end())
        Covered = std::min(Covered, It->second);
    }
    return Covered;
  }

  // Iterates the blocks' transfer functions to the greatest fixpoint: a block
  // not yet reached counts as covering everything, so loops keep the
  // coverage their entry has when nothing in them ends it.
  void coveredAtExits(DenseMap<const BasicBlock *, uint64_t> &Out) {
    ReversePostOrderTraversal<Function *> RPO(&F);
    for (bool Again = true; Again;) {
      Again = false;
      for (BasicBlock *BB : RPO) {
        uint64_t Covered = coveredAtEntry(*BB, Out);
        for (const Instruction &I : *BB)
          Covered = coveredAfter(Covered, I);
        auto [It, New] = Out.try_emplace(BB, Covered);
        if (New || It->second != Covered) {
          It->second = Covered;
          Again = true;
        }
      }
    }
  }

  Function &F;
  const PluginOptions &Options;
  bool Changed = false;
};

} // namespace

PreservedAnalyses RecordReservePass::run(Module &M, ModuleAnalysisManager &) {
  if (!Options.InsertReserveChecks ||
      M.getNamedGlobal(GOROUTINE_RESERVE_RECORD_NAME) != nullptr)
    return PreservedAnalyses::all();
  auto *I64 = Type::getInt64Ty(M.getContext());
  auto *Record = new GlobalVariable(
      M, I64, /*isConstant=*/true, GlobalValue::InternalLinkage,
      ConstantInt::get(I64, Options.Reserve), GOROUTINE_RESERVE_RECORD_NAME);
  Record->setSection(GOROUTINE_RESERVE_SECTION);
  Record->setAlignment(Align(8));
  appendToCompilerUsed(M, {Record});
  return PreservedAnalyses::none();
}

PreservedAnalyses StackChecksPass::run(Function &F, FunctionAnalysisManager &) {
  if (!isInstrumented(F))
    return PreservedAnalyses::all();
  return FunctionChecks(F, Options).run() ? PreservedAnalyses::none()
                                          : PreservedAnalyses::all();
}

} // namespace goroutine
