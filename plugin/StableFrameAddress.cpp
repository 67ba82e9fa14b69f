//===- StableFrameAddress.cpp - Stack addresses kept as integers ----------===//
//
// A goroutine's stack moves when it grows or shrinks, and the runtime
// relocates every pointer into it. An address kept as an integer in the heap
// is not found: QuickJS records __builtin_frame_address(0) at start-up as its
// stack top and compares the current frame address with it on every call;
// after one move every call "overflows". Interpreters and conservative
// collectors use the same idiom.
//
// A move keeps the distance from the stack's top to every frame, so the
// runtime offers a stable coordinate for a stack position, fixed for the
// goroutine's life: goroutine_stable_stack_address (runtime/src/stack.cpp,
// docs/design.md "Stack addresses kept as integers"). Differences and
// comparisons between stable values mean what they meant between addresses.
//
// This pass finds the values that name a stack position:
//   - llvm.frameaddress, llvm.sponentry and llvm.stacksave;
//   - llvm.read_register of rsp, and inline assembly that is just
//     `mov %rsp, $0` or `lea (%rsp), $0`;
// and replaces each integer view of one (its ptrtoint, or the integer the
// assembly returns) by the stable coordinate, when the integer is only
// compared, computed with, stored or passed on. An integer that is turned
// back into a pointer must stay a real address: it is left alone, as is the
// pointer itself, and a missed remark (goroutine-escape, as the escape
// analysis's) names the line; so do frame addresses kept as pointers and
// other inline assembly that reads %rsp. Users convert those by hand with
// goroutine_stable_stack_address.
//
// The integer view of another pointer compared with or subtracted from such
// an integer in the same function ("is p on my stack?") is converted too, so
// that both sides are in the same coordinates, when that integer does not
// leave the function (a pointer stored as an integer must stay real).
//
// A probe local, `char probe; (uintptr_t)&probe`, is not recognized: the
// optimizer stores pointers as integers (SROA, a std::ref in a closure), so a
// local whose address is only converted to an integer may well be reached
// through that integer, and must keep its real address. Users convert such
// probes by hand.
//
//===----------------------------------------------------------------------===//

#include "StableFrameAddress.h"

#include <goroutine/abi.h>

#include "llvm/Analysis/OptimizationRemarkEmitter.h"
#include "llvm/IR/IRBuilder.h"
#include "llvm/IR/InlineAsm.h"
#include "llvm/IR/InstIterator.h"
#include "llvm/IR/IntrinsicInst.h"
#include "llvm/IR/Module.h"
#include "llvm/Support/Regex.h"

#include <set>
#include <string>

using namespace llvm;

namespace goroutine {
namespace {

constexpr const char *PassName = "goroutine-escape";

// A value that names a stack position, and what to call it in remarks.
struct Source {
  Value *V;
  std::string What;
  bool RemarkPointerUses; // stacksave's pointer is the compiler's own
};

// Whether every use of the integer V, followed through arithmetic, casts,
// phis, selects and local variables' slots (-O0), treats it as an integer. Sets
// *Back to the inttoptr (or pointer-typed user) that makes it a pointer again.
// Partners gets the other integer views of pointers it is compared with or
// subtracted from (`(uintptr_t)p < (uintptr_t)__builtin_frame_address(0)`):
// they must be in the same coordinates. With InFunction, the integer must not
// leave the function either (stored, passed or returned): a partner's pointer
// may be reached through it.
bool integerOnly(Value *V, Instruction **Back,
                 SmallVectorImpl<PtrToIntInst *> *Partners = nullptr,
                 bool InFunction = false) {
  SmallVector<Value *, 8> Work{V};
  SmallPtrSet<Value *, 8> Seen{V};
  while (!Work.empty()) {
    Value *X = Work.pop_back_val();
    for (User *U : X->users()) {
      auto *I = dyn_cast<Instruction>(U);
      if (I == nullptr)
        continue;
      if (isa<IntToPtrInst>(I) || I->getType()->isPtrOrPtrVectorTy()) {
        *Back = I;
        return false;
      }
      const bool Follow = isa<BinaryOperator>(I) || isa<CastInst>(I) ||
                          isa<PHINode>(I) || isa<SelectInst>(I) ||
                          isa<FreezeInst>(I);
      if (Follow && !(InFunction && I->getOpcode() == Instruction::Sub) &&
          Seen.insert(I).second)
        Work.push_back(I);
      // A difference is no pointer any more.
      const bool Ends = isa<ICmpInst>(I) ||
                        (InFunction && I->getOpcode() == Instruction::Sub);
      if (InFunction && !Follow && !Ends) {
        *Back = I;
        return false;
      }
      if (Partners != nullptr &&
          (isa<ICmpInst>(I) || I->getOpcode() == Instruction::Sub))
        for (Value *Op : I->operands())
          if (auto *Other = dyn_cast<PtrToIntInst>(Op); Other && Other != X)
            Partners->push_back(Other);
      // Stored into a local's slot (-O0): its loads carry the integer on.
      if (auto *SI = dyn_cast<StoreInst>(I); SI && SI->getValueOperand() == X)
        if (auto *Slot = dyn_cast<AllocaInst>(SI->getPointerOperand()))
          for (User *SU : Slot->users()) {
            auto *LI = dyn_cast<LoadInst>(SU);
            if (LI == nullptr || !Seen.insert(LI).second)
              continue;
            if (LI->getType()->isPtrOrPtrVectorTy()) {
              *Back = LI;
              return false;
            }
            Work.push_back(LI);
          }
      // Compares, other stores, returns and calls use it as is.
    }
  }
  return true;
}

// `mov %rsp, $0`, `movq %rsp, $0`, `lea (%rsp), $0`, `leaq 0(%rsp), $0`.
bool readsStackPointerOnly(const InlineAsm &IA) {
  static const Regex Pattern(
      "^[[:space:]]*(movq?[[:space:]]+%rsp|"
      "leaq?[[:space:]]+0?\\(%rsp\\))[[:space:]]*,"
      "[[:space:]]*\\$\\{?0\\}?[[:space:]]*;?[[:space:]]*$");
  return Pattern.match(IA.getAsmString()) &&
         !IA.getConstraintString().empty() &&
         IA.getConstraintString()[0] == '=';
}

class Rewriter {
public:
  Rewriter(Function &F, std::set<std::string> &Said)
      : F(F), ORE(&F), Said(Said) {}

  bool run() {
    SmallVector<Source, 4> Sources;
    for (Instruction &I : instructions(F))
      collect(I, Sources);
    for (Source &S : Sources) {
      if (S.V->getType()->isPointerTy())
        pointerSource(S, S.V);
      else
        integerSource(S);
    }
    for (Instruction *I : Dead)
      I->eraseFromParent();
    return Changed;
  }

private:
  void collect(Instruction &I, SmallVectorImpl<Source> &Sources) {
    if (auto *II = dyn_cast<IntrinsicInst>(&I)) {
      switch (II->getIntrinsicID()) {
      case Intrinsic::frameaddress:
        Sources.push_back({II, "frame address", true});
        return;
      case Intrinsic::sponentry:
        Sources.push_back({II, "stack pointer", true});
        return;
      case Intrinsic::stacksave:
        Sources.push_back({II, "stack pointer", false});
        return;
      case Intrinsic::read_register: {
        auto *MD = cast<MDNode>(
            cast<MetadataAsValue>(II->getArgOperand(0))->getMetadata());
        auto *Name = dyn_cast<MDString>(MD->getOperand(0));
        if (Name != nullptr && Name->getString() == "rsp")
          Sources.push_back({II, "stack pointer", true});
        return;
      }
      default:
        return;
      }
    }
    if (auto *CB = dyn_cast<CallInst>(&I)) {
      auto *IA = dyn_cast<InlineAsm>(CB->getCalledOperand());
      if (IA == nullptr || CB->getType()->isVoidTy() ||
          !StringRef(IA->getAsmString()).contains("%rsp"))
        return;
      if (readsStackPointerOnly(*IA) &&
          (CB->getType()->isPointerTy() || CB->getType()->isIntegerTy(64)))
        Sources.push_back({CB, "stack pointer", true});
      else
        missed(*CB, "inline assembly reads %rsp: its result is not made "
                    "stable across stack moves");
      return;
    }
  }

  // P points into the frame (S.V, or an offset from it).
  void pointerSource(const Source &S, Value *P) {
    for (User *U : make_early_inc_range(P->users())) {
      auto *I = dyn_cast<Instruction>(U);
      if (I == nullptr)
        continue;
      if (auto *PI = dyn_cast<PtrToIntInst>(I)) {
        if (Done.contains(PI))
          continue;
        SmallVector<PtrToIntInst *, 2> Partners;
        if (!convertible(S, PI, Partners))
          continue;
        replace(PI);
        made(*PI, S);
        replacePartners(Partners);
      } else if (isa<GetElementPtrInst>(I) ||
                 (isa<CastInst>(I) && I->getType()->isPointerTy())) {
        pointerSource(S, I);
      } else if (S.RemarkPointerUses &&
                 ((isa<StoreInst>(I) &&
                   cast<StoreInst>(I)->getValueOperand() == P) ||
                  isa<ReturnInst>(I) ||
                  (isa<CallBase>(I) && !isa<IntrinsicInst>(I) &&
                   !isStable(cast<CallBase>(I)->getCalledFunction())))) {
        missed(*I, S.What + " is kept as a pointer: it is not made stable "
                            "across stack moves");
      }
    }
  }

  // PI becomes the stable coordinate of its pointer.
  void replace(PtrToIntInst *PI) {
    IRBuilder<> B(PI);
    Value *C =
        B.CreateZExtOrTrunc(stable(B, PI->getPointerOperand()), PI->getType());
    PI->replaceAllUsesWith(C);
    Dead.push_back(PI);
    Done.insert(PI);
  }

  // The integer the inline assembly or llvm.read_register returns.
  void integerSource(const Source &S) {
    Instruction *I = cast<Instruction>(S.V);
    SmallVector<PtrToIntInst *, 2> Partners;
    if (!convertible(S, I, Partners))
      return;
    IRBuilder<> B(I->getNextNode());
    Value *P = B.CreateIntToPtr(I, B.getPtrTy());
    Value *C = stable(B, P);
    I->replaceUsesWithIf(C, [&](Use &U) { return U.getUser() != P; });
    made(*I, S);
    replacePartners(Partners);
  }

  // Whether the integer view Int of S may become a stable coordinate; says
  // why not where it may not.
  bool convertible(const Source &S, Value *Int,
                   SmallVectorImpl<PtrToIntInst *> &Partners) {
    Instruction *Back = nullptr;
    if (integerOnly(Int, &Back, &Partners))
      return true;
    missed(*Back, S.What + " is used as an integer and turned back into a "
                           "pointer: it is not made stable across stack moves");
    return false;
  }

  void replacePartners(ArrayRef<PtrToIntInst *> Partners) {
    Instruction *Back = nullptr;
    for (PtrToIntInst *Other : Partners)
      if (!Done.contains(Other) &&
          integerOnly(Other, &Back, nullptr, /*InFunction=*/true))
        replace(Other);
  }

  static bool isStable(const Function *Callee) {
    return Callee != nullptr &&
           Callee->getName() == GOROUTINE_STABLE_STACK_ADDRESS_NAME;
  }

  // uintptr_t goroutine_stable_stack_address(const void *), declared on
  // first use.
  Value *stable(IRBuilder<> &B, Value *P) {
    Changed = true;
    Module &M = *F.getParent();
    LLVMContext &Ctx = M.getContext();
    FunctionCallee Stable = M.getOrInsertFunction(
        GOROUTINE_STABLE_STACK_ADDRESS_NAME,
        FunctionType::get(M.getDataLayout().getIntPtrType(Ctx),
                          {PointerType::getUnqual(Ctx)}, false));
    CallInst *C = B.CreateCall(Stable, {P});
    C->addParamAttr(0, Attribute::NoCapture);
    C->addParamAttr(0, Attribute::ReadNone);
    C->setDoesNotThrow();
    return C;
  }

  void made(Instruction &I, const Source &S) {
    if (ORE.allowExtraAnalysis(PassName) && once(I, S.What))
      ORE.emit(OptimizationRemark(PassName, "StableStackAddress", &I)
               << S.What
               << " kept as an integer: made stable across stack moves");
  }

  void missed(Instruction &I, const std::string &Msg) {
    if (ORE.allowExtraAnalysis(PassName) && once(I, Msg))
      ORE.emit(OptimizationRemarkMissed(PassName, "UnstableStackAddress", &I)
               << Msg
               << " (convert it with " GOROUTINE_STABLE_STACK_ADDRESS_NAME ")");
  }

  // Inlining copies a line into every caller: say each remark once.
  bool once(const Instruction &I, const std::string &Msg) {
    std::string Key = Msg;
    if (const DebugLoc &DL = I.getDebugLoc())
      Key += ":" + std::to_string(DL.getLine()) + ":" +
             std::to_string(DL.getCol());
    else
      Key += ":" + F.getName().str();
    return Said.insert(std::move(Key)).second;
  }

  Function &F;
  OptimizationRemarkEmitter ORE;
  std::set<std::string> &Said;
  SmallVector<Instruction *, 4> Dead;
  SmallPtrSet<PtrToIntInst *, 4> Done;
  bool Changed = false;
};

} // namespace

PreservedAnalyses StableFrameAddressPass::run(Module &M,
                                              ModuleAnalysisManager &) {
  bool Changed = false;
  std::set<std::string> Said;
  for (Function &F : M)
    if (!F.isDeclaration())
      Changed |= Rewriter(F, Said).run();
  return Changed ? PreservedAnalyses::none() : PreservedAnalyses::all();
}

} // namespace goroutine
