//===- SideStack.cpp - Frames for locals whose address escapes ------------===//
//
// Locals whose address escapes (EscapeAnalysis.cpp) must not live on a stack
// that moves. This pass gives them a frame on the side stack instead
// (runtime/src/side_stack.cpp has the runtime half and the picture), the way
// LLVM's SafeStack gives unsafe locals a frame on its unsafe stack:
//
//   entry:   %side.sp    = load @__goroutine_side_sp     (thread-local)
//            %side.limit = load @__goroutine_side_limit
//            br (%side.sp - %side.limit >= frame + align - 1), fast, slow
//   fast:    %base = (%side.sp - frame) & -align
//            store %base, @__goroutine_side_sp
//   slow:    %base = call @__goroutine_side_alloc(frame, align)   (new chunk)
//   join:    each escaping local becomes  getelementptr i8, %base, offset
//   ret:     store %side.sp, @__goroutine_side_sp
//            store %side.limit, @__goroutine_side_limit
//
// A callee that throws or longjmps leaves the side stack where it had it:
// still correct (it is below every live frame), but a loop that catches or
// longjmps again and again would creep down the side stack. So every landing
// pad that can resume normal execution (catch clauses) and every return from
// a call that returns twice (setjmp) stores the function's own side stack
// pointer again -- in every function that has them, escaping locals or not
// (SafeStack does the same for its unsafe stack pointer). Cleanup-only pads
// and std::terminate pads need nothing.
//
// Escaping dynamic allocas (VLAs, alloca()) are allocated the same way where
// they were, and freed with their stacksave/stackrestore scope.
//
// A va_list is never moved: va_start fills it with pointers into the frame
// the ABI puts on the machine stack, which stack moves relocate only while
// the va_list is on that stack too.
//
// The rules this keeps, and the runtime side: docs/design.md, "The side
// stack and heap-to-stack".
//
//===----------------------------------------------------------------------===//

#include "SideStack.h"

#include "llvm/ADT/Statistic.h"
#include "llvm/IR/IRBuilder.h"
#include "llvm/IR/IntrinsicInst.h"
#include "llvm/IR/MDBuilder.h"
#include "llvm/IR/Module.h"
#include "llvm/Support/Debug.h"
#include "llvm/Transforms/Utils/BasicBlockUtils.h"

#include <goroutine/abi.h>

using namespace llvm;

#define DEBUG_TYPE "goroutine-side-stack"

STATISTIC(NumMoved, "Locals moved to the side stack");
STATISTIC(NumFrames, "Functions given a side stack frame");
STATISTIC(NumRestoring, "Functions restoring the side stack in landing pads");

namespace goroutine {
namespace {

constexpr uint64_t MinAlign = 16;

// The runtime's side stack: two thread-locals and the slow-path function.
struct Runtime {
  GlobalVariable *SP;
  GlobalVariable *Limit;
  FunctionCallee Alloc;

  explicit Runtime(Module &M) {
    Type *I64 = Type::getInt64Ty(M.getContext());
    auto ThreadLocal = [&](StringRef Name) {
      if (GlobalVariable *GV = M.getGlobalVariable(Name))
        return GV;
      return new GlobalVariable(M, I64, /*isConstant=*/false,
                                GlobalValue::ExternalLinkage, nullptr, Name,
                                nullptr, GlobalValue::InitialExecTLSModel);
    };
    SP = ThreadLocal(GOROUTINE_SIDE_SP_NAME);
    Limit = ThreadLocal(GOROUTINE_SIDE_LIMIT_NAME);
    Alloc = M.getOrInsertFunction(GOROUTINE_SIDE_ALLOC_NAME, I64, I64, I64);
  }

  Value *load(IRBuilder<> &B, GlobalVariable *GV, const Twine &Name) const {
    return B.CreateLoad(B.getInt64Ty(), B.CreateThreadLocalAddress(GV), Name);
  }
  void store(IRBuilder<> &B, GlobalVariable *GV, Value *V) const {
    B.CreateStore(V, B.CreateThreadLocalAddress(GV));
  }
  // Makes (SPValue, LimitValue) the current side stack.
  void set(IRBuilder<> &B, Value *SPValue, Value *LimitValue) const {
    store(B, SP, SPValue);
    store(B, Limit, LimitValue);
  }
};

// Emits the allocation of Bytes (a value) aligned to Align on the side stack
// before InsertBefore, given the current side stack pointer and limit.
// Returns {base address as i64, the limit after it}.
std::pair<Value *, Value *> emitAllocation(const Runtime &RT,
                                           Instruction *InsertBefore,
                                           Value *Bytes, uint64_t Align,
                                           Value *SP, Value *Limit) {
  IRBuilder<> B(InsertBefore);
  Value *Fits =
      B.CreateICmpUGE(B.CreateSub(SP, Limit),
                      B.CreateAdd(Bytes, B.getInt64(Align - 1)), "side.fits");
  Instruction *FastTerm = nullptr, *SlowTerm = nullptr;
  MDNode *Likely = MDBuilder(B.getContext()).createLikelyBranchWeights();
  SplitBlockAndInsertIfThenElse(Fits, InsertBefore, &FastTerm, &SlowTerm,
                                Likely);
  B.SetInsertPoint(FastTerm);
  Value *FastBase = B.CreateAnd(B.CreateSub(SP, Bytes),
                                B.getInt64(~(Align - 1)), "side.base");
  RT.store(B, RT.SP, FastBase);
  B.SetInsertPoint(SlowTerm);
  Value *SlowBase = B.CreateCall(RT.Alloc, {Bytes, B.getInt64(Align)});
  Value *SlowLimit = RT.load(B, RT.Limit, "side.limit.new");
  B.SetInsertPoint(InsertBefore);
  PHINode *Base = B.CreatePHI(B.getInt64Ty(), 2, "side.frame");
  Base->addIncoming(FastBase, FastTerm->getParent());
  Base->addIncoming(SlowBase, SlowTerm->getParent());
  PHINode *NewLimit = B.CreatePHI(B.getInt64Ty(), 2, "side.frame.limit");
  NewLimit->addIncoming(Limit, FastTerm->getParent());
  NewLimit->addIncoming(SlowLimit, SlowTerm->getParent());
  return {Base, NewLimit};
}

void eraseLifetimeMarkers(Value *V) {
  SmallVector<Instruction *, 4> Dead;
  for (User *U : V->users())
    if (auto *II = dyn_cast<IntrinsicInst>(U); II && II->isLifetimeStartOrEnd())
      Dead.push_back(II);
  for (Instruction *I : Dead)
    I->eraseFromParent();
}

bool returnsTwice(const Instruction &I) {
  const auto *CB = dyn_cast<CallInst>(&I);
  return CB != nullptr && CB->hasFnAttr(Attribute::ReturnsTwice);
}

// True if execution can go on in this function after the landing pad: it
// has catch or filter clauses and does not just call std::terminate.
// Cleanup-only pads end in `resume`; nothing after them uses the side stack
// of this function.
bool canResumeNormally(const LandingPadInst &LP) {
  if (LP.getNumClauses() == 0)
    return false;
  const Instruction *Next = LP.getNextNonDebugInstruction();
  while (Next != nullptr && isa<ExtractValueInst>(Next))
    Next = Next->getNextNonDebugInstruction();
  const auto *CB = dyn_cast_or_null<CallBase>(Next);
  return CB == nullptr || !CB->doesNotReturn();
}

// Where F's side stack pointer must be set again: after landing pads that
// resume normally and calls that return twice (F's own pointer), and before
// returns (the caller's).
struct RestorePoints {
  SmallVector<Instruction *, 4> Unwinds; // landing pads, setjmp returns
  SmallVector<ReturnInst *, 4> Returns;
};

RestorePoints findRestorePoints(Function &F) {
  RestorePoints P;
  for (BasicBlock &BB : F)
    for (Instruction &I : BB) {
      if (const auto *LP = dyn_cast<LandingPadInst>(&I)) {
        if (canResumeNormally(*LP))
          P.Unwinds.push_back(&I);
      } else if (returnsTwice(I)) {
        P.Unwinds.push_back(&I);
      } else if (auto *RI = dyn_cast<ReturnInst>(&I))
        P.Returns.push_back(RI);
    }
  return P;
}

// The static part of the side stack frame: escaping static allocas, largest
// alignment first (ties in program order), at increasing offsets.
struct FrameLayout {
  SmallVector<AllocaInst *, 8> Locals;
  SmallVector<uint64_t, 8> Offsets;
  uint64_t Size = 0;
  uint64_t Align = MinAlign;
};

FrameLayout layOutFrame(SmallVector<AllocaInst *, 8> Locals,
                        const DataLayout &DL) {
  std::sort(Locals.begin(), Locals.end(), [&](AllocaInst *A, AllocaInst *B) {
    if (A->getAlign() != B->getAlign())
      return A->getAlign() > B->getAlign();
    return A->comesBefore(B);
  });
  FrameLayout L;
  L.Locals = std::move(Locals);
  for (AllocaInst *AI : L.Locals) {
    const std::optional<TypeSize> AllocSize = AI->getAllocationSize(DL);
    // NOLINTNEXTLINE(bugprone-unchecked-optional-access): static allocas
    const uint64_t Size = std::max<uint64_t>(AllocSize->getFixedValue(), 1);
    L.Size = alignTo(L.Size, AI->getAlign().value());
    L.Offsets.push_back(L.Size);
    L.Size += Size;
    L.Align = std::max<uint64_t>(L.Align, AI->getAlign().value());
  }
  L.Size = alignTo(L.Size, L.Align);
  return L;
}

// Rewrites one function to use the side stack. The steps run in the order
// moveToSideStack calls them; each inserts its code where the previous ones
// left the insertion points.
class SideStackFrame {
public:
  explicit SideStackFrame(Function &F)
      : F(F), DL(F.getDataLayout()), RT(*F.getParent()),
        AfterAllocas(&*F.getEntryBlock().getFirstNonPHIOrDbgOrAlloca()) {}

  // Entry: remember the caller's side stack, which is also the top until a
  // frame is allocated.
  void saveCallerSideStack() {
    IRBuilder<> B(AfterAllocas);
    CallerSP = RT.load(B, RT.SP, "side.caller.sp");
    CallerLimit = RT.load(B, RT.Limit, "side.caller.limit");
    Top = CallerSP;
    TopLimit = CallerLimit;
  }

  // Entry: allocates the static frame and makes its locals slots in it.
  void allocateStaticFrame(const FrameLayout &L) {
    if (L.Size == 0)
      return;
    IRBuilder<> B(AfterAllocas);
    std::tie(Top, TopLimit) = emitAllocation(
        RT, AfterAllocas, B.getInt64(L.Size), L.Align, CallerSP, CallerLimit);
    B.SetInsertPoint(AfterAllocas);
    Value *Base = B.CreateIntToPtr(Top, B.getPtrTy(), "side.frame.ptr");
    for (auto [AI, Offset] : zip(L.Locals, L.Offsets)) {
      Value *Slot = B.CreateInBoundsGEP(B.getInt8Ty(), Base, B.getInt64(Offset),
                                        AI->getName());
      LLVM_DEBUG(dbgs() << F.getName() << ": side stack frame offset " << Offset
                        << ": " << *AI << "\n");
      AI->replaceAllUsesWith(Slot);
      AI->eraseFromParent();
      ++NumMoved;
    }
    Allocated = true;
    ++NumFrames;
  }

  // With dynamic side allocations the top moves: it is kept in two slots on
  // the machine stack, which landing pads and stackrestores read.
  void keepTopInSlots() {
    IRBuilder<> EB(&*F.getEntryBlock().getFirstInsertionPt());
    TopSlot = EB.CreateAlloca(EB.getInt64Ty(), nullptr, "side.top");
    LimitSlot = EB.CreateAlloca(EB.getInt64Ty(), nullptr, "side.top.limit");
    IRBuilder<> B(AfterAllocas);
    B.CreateStore(Top, TopSlot);
    B.CreateStore(TopLimit, LimitSlot);
  }

  // A VLA or alloca(): allocated on the side stack where it was.
  void allocateDynamic(AllocaInst *AI) {
    LLVM_DEBUG(dbgs() << F.getName() << ": dynamic side allocation: " << *AI
                      << "\n");
    IRBuilder<> B(AI);
    Value *Count = B.CreateZExtOrTrunc(AI->getArraySize(), B.getInt64Ty());
    Value *Bytes = B.CreateMul(
        Count, B.getInt64(DL.getTypeAllocSize(AI->getAllocatedType())));
    const uint64_t Align = std::max<uint64_t>(AI->getAlign().value(), MinAlign);
    auto [DynBase, DynLimit] =
        emitAllocation(RT, AI, Bytes, Align, RT.load(B, RT.SP, "side.sp"),
                       RT.load(B, RT.Limit, "side.limit"));
    B.SetInsertPoint(AI);
    B.CreateStore(DynBase, TopSlot);
    B.CreateStore(DynLimit, LimitSlot);
    Value *Ptr = B.CreateIntToPtr(DynBase, AI->getType());
    Ptr->takeName(AI);
    AI->replaceAllUsesWith(Ptr);
    AI->eraseFromParent();
    Allocated = true;
    ++NumMoved;
  }

  // stacksave/stackrestore scopes (a VLA in a loop) free side allocations
  // too: each stackrestore sets the top saved at its stacksave.
  void freeAtStackRestores() {
    SmallVector<IntrinsicInst *, 4> Saves;
    for (BasicBlock &BB : F)
      for (Instruction &I : BB)
        if (auto *II = dyn_cast<IntrinsicInst>(&I);
            II && II->getIntrinsicID() == Intrinsic::stacksave)
          Saves.push_back(II);
    for (IntrinsicInst *Save : Saves) {
      IRBuilder<> B(Save->getNextNode());
      Value *SavedTop = B.CreateLoad(B.getInt64Ty(), TopSlot);
      Value *SavedLimit = B.CreateLoad(B.getInt64Ty(), LimitSlot);
      for (User *U : Save->users())
        if (auto *Restore = dyn_cast<IntrinsicInst>(U);
            Restore && Restore->getIntrinsicID() == Intrinsic::stackrestore) {
          B.SetInsertPoint(Restore);
          RT.set(B, SavedTop, SavedLimit);
          B.CreateStore(SavedTop, TopSlot);
          B.CreateStore(SavedLimit, LimitSlot);
        }
    }
  }

  // Landing pads and setjmp returns: this function's own side stack again.
  void restoreOwnAfter(ArrayRef<Instruction *> Unwinds) {
    LLVM_DEBUG({
      if (!Unwinds.empty())
        dbgs() << F.getName() << ": restores its side stack at "
               << Unwinds.size() << " landing pads and setjmp returns\n";
    });
    for (Instruction *I : Unwinds) {
      IRBuilder<> B(isa<LandingPadInst>(I)
                        ? &*I->getParent()->getFirstInsertionPt()
                        : I->getNextNode());
      Value *T =
          TopSlot != nullptr ? B.CreateLoad(B.getInt64Ty(), TopSlot) : Top;
      Value *L = LimitSlot != nullptr ? B.CreateLoad(B.getInt64Ty(), LimitSlot)
                                      : TopLimit;
      RT.set(B, T, L);
    }
    if (!Unwinds.empty())
      ++NumRestoring;
  }

  // Returns: the caller's side stack again, if this function allocated.
  void restoreCallerBefore(ArrayRef<ReturnInst *> Returns) {
    if (!Allocated)
      return;
    for (ReturnInst *RI : Returns) {
      Instruction *At = RI;
      if (CallInst *Tail = RI->getParent()->getTerminatingMustTailCall())
        At = Tail;
      IRBuilder<> B(At);
      RT.set(B, CallerSP, CallerLimit);
    }
  }

private:
  Function &F;
  const DataLayout &DL;
  const Runtime RT;
  Instruction *const AfterAllocas; // where the entry code goes
  Value *CallerSP = nullptr, *CallerLimit = nullptr;
  Value *Top = nullptr, *TopLimit = nullptr; // after the static frame
  AllocaInst *TopSlot = nullptr, *LimitSlot = nullptr;
  bool Allocated = false;
};

} // namespace

bool canMoveToSideStack(const AllocaInst &AI) {
  for (const User *U : AI.users())
    if (const auto *II = dyn_cast<IntrinsicInst>(U))
      if (II->getIntrinsicID() == Intrinsic::vastart ||
          (II->getIntrinsicID() == Intrinsic::vacopy &&
           II->getArgOperand(0) == &AI))
        return false;
  return true;
}

bool moveToSideStack(Function &F, ArrayRef<AllocaInst *> Escaping) {
  const RestorePoints Points = findRestorePoints(F);
  if (Escaping.empty() && Points.Unwinds.empty())
    return false;

  SmallVector<AllocaInst *, 8> Static, Dynamic;
  for (AllocaInst *AI : Escaping) {
    eraseLifetimeMarkers(AI); // they describe machine-stack slots
    (AI->isStaticAlloca() ? Static : Dynamic).push_back(AI);
  }
  const FrameLayout Layout = layOutFrame(std::move(Static), F.getDataLayout());

  // After the lifetime markers are gone: one may have been the first
  // instruction after the allocas.
  SideStackFrame Frame(F);
  Frame.saveCallerSideStack();
  Frame.allocateStaticFrame(Layout);
  if (!Dynamic.empty()) {
    Frame.keepTopInSlots();
    for (AllocaInst *AI : Dynamic)
      Frame.allocateDynamic(AI);
    Frame.freeAtStackRestores();
  }
  Frame.restoreOwnAfter(Points.Unwinds);
  Frame.restoreCallerBefore(Points.Returns);
  return true;
}

} // namespace goroutine
