//===- CallStackNeeds.cpp - How much stack a call may need ----------------===//
//
// A call is safe on a small goroutine stack when its callee checks the stack
// itself. That is known for:
//  - functions defined in this module with a split-stack prologue (or the
//    plugin's own entry check);
//  - the goroutine runtime: C names starting with goroutine_ or __goroutine_
//    and C++ names in namespace go (_ZN2go...), whose stack use the runtime
//    bounds (docs/design.md, "The reserve for uninstrumented calls");
//  - a short list of libc leaf functions that use no stack of their own
//    (memcpy, strlen, ...), which fit in the guard area below the limit;
//  - LLVM intrinsics that become instructions or those leaf functions.
// Everything else (declarations, indirect calls, functions opting out with
// no_split_stack) may be code that was not instrumented: it needs the reserve.
//
//===----------------------------------------------------------------------===//

#include "CallStackNeeds.h"

#include "llvm/ADT/StringSet.h"
#include "llvm/IR/Function.h"
#include "llvm/IR/IntrinsicInst.h"
#include "llvm/IR/Intrinsics.h"

#include <goroutine/abi.h>

using namespace llvm;

namespace goroutine {
namespace {

// libc functions with no stack frame of their own on x86-64 glibc 2.36
// (hand-written assembly or trivial leaves; checked with
// tools/stack_usage.cpp). With -z now they are called without the lazy
// binding resolver.
const StringSet<> &leafLibcFunctions() {
  static const StringSet<> Set = {
      "memcpy",  "memmove",      "memset",           "memcmp",      "bcmp",
      "memchr",  "memrchr",      "strlen",           "strnlen",     "strcmp",
      "strncmp", "strchr",       "strrchr",          "strcpy",      "strncpy",
      "stpcpy",  "strcat",       "__errno_location", "abs",         "labs",
      "llabs",   "__memcpy_chk", "__memmove_chk",    "__memset_chk"};
  return Set;
}

// libm functions and compiler-runtime helpers: leaf code with small frames.
bool isLibmName(StringRef Name) {
  static const StringSet<> Base = {
      "sin",   "cos",       "tan",    "asin",      "acos",    "atan",
      "atan2", "sinh",      "cosh",   "tanh",      "asinh",   "acosh",
      "atanh", "exp",       "exp2",   "exp10",     "expm1",   "log",
      "log2",  "log10",     "log1p",  "pow",       "fmod",    "remainder",
      "fma",   "ldexp",     "frexp",  "modf",      "cbrt",    "hypot",
      "rint",  "nearbyint", "round",  "roundeven", "trunc",   "floor",
      "ceil",  "lrint",     "llrint", "lround",    "llround", "fmin",
      "fmax",  "sqrt",      "fabs",   "copysign",  "sincos",  "erf",
      "erfc",  "tgamma",    "lgamma"};
  if (Base.contains(Name))
    return true;
  // float and long double variants: sinf, sinl, ...
  if ((Name.ends_with("f") || Name.ends_with("l")) &&
      Base.contains(Name.drop_back()))
    return true;
  // libgcc arithmetic helpers (__divti3, __powidf2, __fixunsdfti, ...).
  return Name.starts_with("__") &&
         (Name.ends_with("ti3") || Name.ends_with("tf3") ||
          Name.starts_with("__powi") || Name.starts_with("__fix") ||
          Name.starts_with("__float") || Name.starts_with("__extend") ||
          Name.starts_with("__trunc"));
}

// The function CB calls, through casts; null for an indirect call.
const Function *calledFunction(const CallBase &CB) {
  return dyn_cast<Function>(CB.getCalledOperand()->stripPointerCasts());
}

bool isRuntimeName(StringRef Name) {
  return any_of(go::contract::kRuntimeNamePrefixes,
                [&](const char *Prefix) { return Name.starts_with(Prefix); });
}

// Intrinsics that can become libm calls when no instruction implements them.
bool intrinsicMayCallLibm(Intrinsic::ID ID) {
  switch (ID) {
  case Intrinsic::sin:
  case Intrinsic::cos:
  case Intrinsic::tan:
  case Intrinsic::exp:
  case Intrinsic::exp2:
  case Intrinsic::exp10:
  case Intrinsic::log:
  case Intrinsic::log2:
  case Intrinsic::log10:
  case Intrinsic::pow:
  case Intrinsic::powi:
  case Intrinsic::fma:
  case Intrinsic::ldexp:
  case Intrinsic::frexp:
  case Intrinsic::rint:
  case Intrinsic::nearbyint:
  case Intrinsic::round:
  case Intrinsic::roundeven:
  case Intrinsic::trunc:
  case Intrinsic::floor:
  case Intrinsic::ceil:
  case Intrinsic::lrint:
  case Intrinsic::llrint:
  case Intrinsic::lround:
  case Intrinsic::llround:
  case Intrinsic::minnum:
  case Intrinsic::maxnum:
    return true;
  default:
    return false;
  }
}

} // namespace

bool isInstrumented(const Function &F) {
  return !F.isDeclaration() && (F.hasFnAttribute("split-stack") ||
                                F.hasFnAttribute(CheckedPrologueAttr));
}

StackNeed stackNeedOfCall(const CallBase &CB) {
  if (CB.isInlineAsm())
    return StackNeed::None;
  const Function *Callee = calledFunction(CB);
  if (Callee == nullptr)
    return StackNeed::Reserve; // indirect: could be anything
  if (Callee->isIntrinsic())
    return intrinsicMayCallLibm(Callee->getIntrinsicID()) ? StackNeed::Libm
                                                          : StackNeed::None;
  if (!Callee->isDeclaration())
    return isInstrumented(*Callee) ? StackNeed::None : StackNeed::Reserve;
  const StringRef Name = Callee->getName();
  if (isRuntimeName(Name) || leafLibcFunctions().contains(Name))
    return StackNeed::None;
  if (isLibmName(Name))
    return StackNeed::Libm;
  return StackNeed::Reserve;
}

// Calls that cannot reach the runtime: inline assembly, intrinsics, and the
// leaf functions of libc and libm above.
static bool isLeafCall(const CallBase &CB) {
  if (CB.isInlineAsm())
    return true;
  const Function *Callee = calledFunction(CB);
  if (Callee == nullptr)
    return false;
  const StringRef Name = Callee->getName();
  return Callee->isIntrinsic() ||
         (Callee->isDeclaration() &&
          (leafLibcFunctions().contains(Name) || isLibmName(Name)));
}

bool mayParkInCall(const CallBase &CB) {
  if (isLeafCall(CB))
    return false;
  const Function *Callee = calledFunction(CB);
  if (Callee == nullptr || Callee->isDeclaration() || Callee->isInterposable())
    return true;
  // A function of this module that makes only leaf calls cannot park.
  for (const BasicBlock &BB : *Callee)
    for (const Instruction &I : BB)
      if (const auto *Inner = dyn_cast<CallBase>(&I);
          Inner && !isLeafCall(*Inner))
        return true;
  return false;
}

StackNeed stackNeedOfInstruction(const Instruction &I) {
  if (I.getOpcode() == Instruction::FRem)
    return StackNeed::Libm; // fmod, fmodf, fmodl
  return StackNeed::None;
}

} // namespace goroutine
