//===- VariadicSplit.cpp - Give variadic functions a stack check ----------===//
//
// LLVM's split-stack prologue refuses variadic functions ("Segmented stacks do
// not support vararg functions": libgcc's __morestack must copy the caller's
// stack arguments, and cannot know how many there are). Our __morestack moves
// the whole stack and does not care, but the backend still refuses, and the
// frame size of a variadic function is not known before code generation.
//
// So each instrumented variadic function F is split in two:
//
//   F(fixed..., ...)           the original symbol; a small wrapper:
//     va_start(ap)               its frame is the register save area (176
//     r = F.body(fixed..., &ap)  bytes), the va_list and outgoing arguments,
//     va_end(ap)                 bounded by the signature
//     ret r
//   F.body(fixed..., ptr ap)   internal, not variadic: the original body, with
//                              va_start(x) replaced by va_copy(x, ap). It gets
//                              LLVM's split-stack prologue like any function.
//
// The wrapper's check is emitted as prologue data (bytes placed before the
// function's own prologue), so it runs before the wrapper writes anything:
//
//   lea  -N(%rsp), %r11
//   cmp  %fs:0x70, %r11
//   ja   1f
//   mov  $N, %r10d
//   call __goroutine_morestack     (preserves every register, incl. %al)
//   1:
//
// Functions that forward their variadic arguments with musttail (C++ thunks)
// cannot be split; they keep their body and get the same entry check, with N
// covering their (thunk-sized) frame.
//
//===----------------------------------------------------------------------===//

#include "VariadicSplit.h"

#include "CallStackNeeds.h"

#include "llvm/ADT/Statistic.h"
#include "llvm/IR/Constants.h"
#include "llvm/IR/IRBuilder.h"
#include "llvm/IR/Instructions.h"
#include "llvm/IR/IntrinsicInst.h"
#include "llvm/IR/Module.h"
#include "llvm/Support/Debug.h"

#include <goroutine/abi.h>

using namespace llvm;

#define DEBUG_TYPE "goroutine-variadic"

STATISTIC(NumSplit, "Variadic functions split into wrapper and body");
STATISTIC(NumThunks, "Variadic musttail thunks given an entry check");

namespace goroutine {
namespace {

// Upper bound of a wrapper's frame: the register save area, the va_list,
// outgoing stack arguments (at most 8 bytes per parameter plus the va_list
// pointer), pushes and alignment.
uint64_t wrapperFrameBound(const Function &F) {
  return 512 + 8 * (F.arg_size() + 1);
}

// Upper bound of a musttail thunk's frame: its allocas plus spill room.
uint64_t thunkFrameBound(const Function &F) {
  const DataLayout &DL = F.getDataLayout();
  uint64_t Bytes = 512;
  for (const Instruction &I : F.getEntryBlock())
    if (const auto *AI = dyn_cast<AllocaInst>(&I))
      if (std::optional<TypeSize> Size = AI->getAllocationSize(DL))
        Bytes += Size->getFixedValue() + AI->getAlign().value();
  return Bytes;
}

// The check described above, as prologue data of F.
void addEntryCheck(Function &F, uint64_t FrameBytes) {
  LLVMContext &C = F.getContext();
  Module &M = *F.getParent();
  Type *I8 = Type::getInt8Ty(C);
  Type *I32 = Type::getInt32Ty(C);
  Type *I64 = Type::getInt64Ty(C);
  auto Bytes = [&](ArrayRef<uint8_t> B) {
    return ConstantDataArray::get(C, B);
  };
  const bool Endbr = M.getModuleFlag("cf-protection-branch") != nullptr;
  const auto N = static_cast<int32_t>(FrameBytes);

  // The encodings are <goroutine/abi.h>'s: the runtime's stack walker
  // recognizes this check by them (trace.cpp).
  using namespace go::contract;
  constexpr uint8_t JaSkip = sizeof kMovR10dImm32 + 4 + 1 + 4; // mov, call
  constexpr uint64_t CheckBytes = sizeof kLeaR11Rsp + 4 + sizeof kCmpR11Limit +
                                  2 + sizeof kMovR10dImm32 + 4 + 1 + 4;
  static_assert(JaSkip == 11 && CheckBytes == 30);
  SmallVector<Constant *, 8> Parts;
  if (Endbr)
    Parts.push_back(Bytes(kEndbr64));
  Parts.push_back(Bytes(kLeaR11Rsp)); // lea disp32(%rsp),%r11
  Parts.push_back(ConstantInt::get(I32, -N));
  Parts.push_back(Bytes(kCmpR11Limit));                    // cmp %fs:LIMIT,%r11
  Parts.push_back(Bytes({GOROUTINE_ENC_JA_REL8, JaSkip})); // ja 1f
  Parts.push_back(Bytes(kMovR10dImm32));                   // mov imm32,%r10d
  Parts.push_back(ConstantInt::get(I32, N));
  Parts.push_back(ConstantInt::get(I8, GOROUTINE_ENC_CALL_REL32)); // call rel32
  const uint64_t CallEnd = (Endbr ? sizeof kEndbr64 : 0) + CheckBytes;

  // rel32 = __goroutine_morestack@PLT - (F + CallEnd)
  FunctionCallee Morestack =
      M.getOrInsertFunction(GOROUTINE_MORESTACK_CALL_NAME, Type::getVoidTy(C));
  auto *Target = DSOLocalEquivalent::get(cast<Function>(Morestack.getCallee()));
  Constant *Here =
      ConstantExpr::getGetElementPtr(I8, &F, ConstantInt::get(I64, CallEnd));
  Constant *Rel = ConstantExpr::getSub(ConstantExpr::getPtrToInt(Target, I64),
                                       ConstantExpr::getPtrToInt(Here, I64));
  Parts.push_back(ConstantExpr::getTrunc(Rel, I32));

  SmallVector<Type *, 8> Types;
  for (Constant *P : Parts)
    Types.push_back(P->getType());
  F.setPrologueData(
      ConstantStruct::get(StructType::get(C, Types, /*isPacked=*/true), Parts));
  F.removeFnAttr("split-stack");
  F.addFnAttr(CheckedPrologueAttr);
}

bool hasMustTailCall(const Function &F) {
  for (const BasicBlock &BB : F)
    if (BB.getTerminatingMustTailCall())
      return true;
  return false;
}

// Moves F's body into a new internal function taking a va_list pointer, and
// makes F a wrapper that calls it.
void split(Function &F) {
  Module &M = *F.getParent();
  LLVMContext &C = F.getContext();
  Type *Ptr = PointerType::getUnqual(C);

  SmallVector<Type *, 8> Params(F.getFunctionType()->params());
  Params.push_back(Ptr);
  auto *BodyTy = FunctionType::get(F.getReturnType(), Params, false);
  Function *Body =
      Function::Create(BodyTy, GlobalValue::InternalLinkage,
                       F.getAddressSpace(), F.getName() + ".body", &M);
  Body->copyAttributesFrom(&F);
  Body->setLinkage(GlobalValue::InternalLinkage);
  Body->setVisibility(GlobalValue::DefaultVisibility);
  Body->setDLLStorageClass(GlobalValue::DefaultStorageClass);
  Body->setComdat(F.getComdat());
  Body->addFnAttr(Attribute::NoInline);
  Body->setSubprogram(F.getSubprogram());
  F.setSubprogram(nullptr);
  // byval arguments are passed on as plain pointers to the wrapper's copy.
  for (unsigned I = 0; I < F.arg_size(); ++I)
    Body->removeParamAttr(I, Attribute::ByVal);

  Body->splice(Body->begin(), &F);
  for (auto [Old, New] : zip(F.args(), Body->args())) {
    Old.replaceAllUsesWith(&New);
    New.takeName(&Old);
  }
  Argument *VaList = Body->getArg(F.arg_size());
  VaList->setName("va_list");

  // va_start(x) in the body becomes va_copy(x, va_list).
  SmallVector<IntrinsicInst *, 4> Starts;
  for (BasicBlock &BB : *Body)
    for (Instruction &I : BB)
      if (auto *II = dyn_cast<IntrinsicInst>(&I))
        if (II->getIntrinsicID() == Intrinsic::vastart)
          Starts.push_back(II);
  for (IntrinsicInst *Start : Starts) {
    IRBuilder<> B(Start);
    B.CreateIntrinsic(Intrinsic::vacopy, {Ptr},
                      {Start->getArgOperand(0), VaList});
    Start->eraseFromParent();
  }

  // The wrapper.
  BasicBlock *Entry = BasicBlock::Create(C, "entry", &F);
  IRBuilder<> B(Entry);
  // x86-64 va_list: { i32, i32, ptr, ptr }, 24 bytes, 16-byte aligned.
  AllocaInst *AP =
      B.CreateAlloca(ArrayType::get(B.getInt8Ty(), 24), nullptr, "ap");
  AP->setAlignment(Align(16));
  B.CreateIntrinsic(Intrinsic::vastart, {Ptr}, {AP});
  SmallVector<Value *, 8> Args;
  for (Argument &A : F.args())
    Args.push_back(&A);
  Args.push_back(AP);
  CallInst *Call = B.CreateCall(Body, Args);
  Call->setAttributes(Body->getAttributes());
  Call->setCallingConv(Body->getCallingConv());
  B.CreateIntrinsic(Intrinsic::vaend, {Ptr}, {AP});
  if (F.getReturnType()->isVoidTy())
    B.CreateRetVoid();
  else
    B.CreateRet(Call);
  F.removeFnAttr(Attribute::NoInline);
  ++NumSplit;
}

} // namespace

PreservedAnalyses VariadicSplitPass::run(Module &M, ModuleAnalysisManager &) {
  SmallVector<Function *, 8> Variadic;
  for (Function &F : M)
    if (!F.isDeclaration() && F.isVarArg() && F.hasFnAttribute("split-stack") &&
        !F.hasFnAttribute(Attribute::Naked))
      Variadic.push_back(&F);
  if (Variadic.empty())
    return PreservedAnalyses::all();
  for (Function *F : Variadic) {
    if (hasMustTailCall(*F)) {
      LLVM_DEBUG(dbgs() << F->getName() << ": musttail thunk, entry check of "
                        << thunkFrameBound(*F) << " bytes\n");
      addEntryCheck(*F, thunkFrameBound(*F));
      ++NumThunks;
      continue;
    }
    LLVM_DEBUG(dbgs() << F->getName() << ": split into wrapper and body, "
                      << "entry check of " << wrapperFrameBound(*F)
                      << " bytes\n");
    split(*F);
    addEntryCheck(*F, wrapperFrameBound(*F));
  }
  return PreservedAnalyses::none();
}

} // namespace goroutine
