//===- GoroutineEscape.cpp - Escape analysis and what follows from it -----===//
//
// The module pass behind the plugin's escape handling:
//   1. gives libc declarations the attributes LLVM knows for them
//      (nocapture, readonly, ...), at -O0 too, so calls to strlen or printf
//      do not count as escapes;
//   2. runs EscapeAnalysis;
//   3. for every instrumented function, reports each decision in Go's words
//      (pass name goroutine-escape), turns heap allocations that stay into
//      stack allocations (HeapToStack.cpp), and moves the escaping locals to
//      the side stack (SideStack.cpp).
//
// Remarks, as clang prints them:
//   -Rpass=goroutine-escape           moved to heap: x
//                                     malloc(16) escapes to heap
//                                     malloc(16) does not escape
//   -Rpass-missed=goroutine-escape    malloc(16) does not escape, but stays on
//                                     the heap: it is allocated in a loop
//   -Rpass-analysis=goroutine-escape  x does not escape
//   escape-verbose (plugin argument)  x escapes to heap: stored to global
//                                     'registry' at list.c:12:9
// and -fsave-optimization-record writes them as YAML.
//
//===----------------------------------------------------------------------===//

#include "GoroutineEscape.h"

#include "CallStackNeeds.h"
#include "EscapeAnalysis.h"
#include "HeapToStack.h"
#include "SideStack.h"

#include "llvm/Analysis/LoopInfo.h"
#include "llvm/Analysis/OptimizationRemarkEmitter.h"
#include "llvm/Analysis/PostDominators.h"
#include "llvm/Analysis/TargetLibraryInfo.h"
#include "llvm/IR/DebugInfo.h"
#include "llvm/IR/Module.h"
#include "llvm/Transforms/Utils/BuildLibCalls.h"

#include <set>
#include <string>

using namespace llvm;

namespace goroutine {
namespace {

constexpr const char *PassName = "goroutine-escape";

// A source variable, as opposed to a temporary the compiler made.
bool isUserVariable(const AllocaInst &AI) {
  const DILocalVariable *Var = sourceVariable(AI).Var;
  return Var != nullptr && !Var->isArtificial(); // not `this`
}

DebugLoc locationOf(const Value *Object) {
  if (const auto *AI = dyn_cast<AllocaInst>(Object)) {
    if (DebugLoc DL = sourceVariable(*AI).Loc)
      return DL;
    // A temporary: where it is first used.
    for (const User *U : AI->users())
      if (const auto *I = dyn_cast<Instruction>(U); I && I->getDebugLoc())
        return I->getDebugLoc();
    return DebugLoc();
  }
  return cast<Instruction>(Object)->getDebugLoc();
}

std::string where(const Instruction *I) {
  if (I == nullptr)
    return "";
  const DebugLoc &DL = I->getDebugLoc();
  if (!DL)
    return "";
  return " at " + DL->getFilename().str() + ":" + std::to_string(DL.getLine()) +
         ":" + std::to_string(DL.getCol());
}

OptimizationRemark passed(StringRef Name, const Value *Object,
                          const Function &F) {
  return OptimizationRemark(PassName, Name, locationOf(Object),
                            &F.getEntryBlock());
}
OptimizationRemarkMissed missed(StringRef Name, const Value *Object,
                                const Function &F) {
  return OptimizationRemarkMissed(PassName, Name, locationOf(Object),
                                  &F.getEntryBlock());
}
OptimizationRemarkAnalysis analysis(StringRef Name, const Value *Object,
                                    const Function &F) {
  return OptimizationRemarkAnalysis(PassName, Name, locationOf(Object),
                                    &F.getEntryBlock());
}

// Go's -m=2: why an object escapes, following the objects it is stored in.
std::string explain(const EscapeObject &O,
                    const DenseMap<const Value *, const EscapeObject *> &ByDef,
                    int Depth = 0) {
  std::string S = O.Reason.Why + where(O.Reason.At);
  if (O.Reason.Via != nullptr) {
    S += " ('" + EscapeAnalysis::describe(O.Reason.Via) + "'";
    auto It = ByDef.find(O.Reason.Via);
    if (Depth < 8 && It != ByDef.end() && It->second->Escapes)
      S += ": " + explain(*It->second, ByDef, Depth + 1);
    S += ")";
  }
  return S;
}

} // namespace

PreservedAnalyses GoroutineEscapePass::run(Module &M,
                                           ModuleAnalysisManager &MAM) {
  FunctionAnalysisManager &FAM =
      MAM.getResult<FunctionAnalysisManagerModuleProxy>(M).getManager();
  auto GetTLI = [&FAM](Function &F) -> const TargetLibraryInfo & {
    return FAM.getResult<TargetLibraryAnalysis>(F);
  };
  for (Function &F : M)
    if (F.isDeclaration())
      inferNonMandatoryLibFuncAttrs(F, GetTLI(F));

  const EscapeAnalysis EA(M, GetTLI);
  bool Changed = false;
  // Inlining copies a local into every caller; say each thing once.
  std::set<std::string> Said;
  for (Function &F : M) {
    if (!isInstrumented(F))
      continue;
    OptimizationRemarkEmitter ORE(&F);
    auto Emit = [&](auto Make) {
      if (!ORE.allowExtraAnalysis(PassName))
        return;
      auto R = Make();
      const DiagnosticLocation &L = R.getLocation();
      std::string Key = R.getRemarkName().str() + "\n" + R.getMsg() + "\n";
      if (L.isValid())
        Key += L.getRelativePath().str() + ":" + std::to_string(L.getLine()) +
               ":" + std::to_string(L.getColumn());
      else
        Key += F.getName().str();
      if (Said.insert(std::move(Key)).second)
        ORE.emit(R);
    };
    const std::vector<EscapeObject> &Objects = EA.objects(F);
    DenseMap<const Value *, const EscapeObject *> ByDef; // for explain()
    if (Options.EscapeVerbose)
      for (const EscapeObject &O : Objects)
        ByDef[O.Def] = &O;

    SmallVector<AllocaInst *, 8> Escaping;
    SmallVector<const EscapeObject *, 4> Promote;
    for (const EscapeObject &O : Objects) {
      // Remark text is made only when remarks are on (Emit).
      auto What = [&O] { return EscapeAnalysis::describe(O.Def); };
      if (O.Escapes && Options.EscapeVerbose)
        Emit([&] {
          return passed("Explanation", O.Def, F)
                 << What() << " escapes to heap: " << explain(O, ByDef);
        });
      if (const auto *AI = dyn_cast<AllocaInst>(O.Def)) {
        if (!O.Escapes) {
          if (ORE.allowExtraAnalysis(PassName) && isUserVariable(*AI))
            Emit([&] {
              return analysis("DoesNotEscape", AI, F)
                     << What() << " does not escape";
            });
        } else if (!canMoveToSideStack(*AI)) {
          Emit([&] {
            return missed("StaysOnStack", AI, F)
                   << What()
                   << " escapes but stays on the stack: it is a va_list, which "
                      "points into the stack by design";
          });
        } else {
          Escaping.push_back(const_cast<AllocaInst *>(AI));
          Emit([&] {
            return passed("MovedToHeap", AI, F) << "moved to heap: " << What();
          });
        }
        continue;
      }
      // A heap allocation.
      if (O.Escapes) {
        Emit([&] {
          return passed("EscapesToHeap", O.Def, F)
                 << What() << " escapes to heap";
        });
        continue;
      }
      const auto &Alloc = *cast<CallBase>(O.Def);
      std::string Why = whyStaysOnHeap(
          Alloc, O.Frees, GetTLI(F), FAM.getResult<LoopAnalysis>(F),
          FAM.getResult<PostDominatorTreeAnalysis>(F));
      if (Why.empty() && !Options.HeapToStack)
        Why = "heap-to-stack is disabled";
      if (Why.empty()) {
        Promote.push_back(&O);
        Emit([&] {
          return passed("DoesNotEscape", O.Def, F)
                 << What() << " does not escape";
        });
      } else {
        Emit([&] {
          return missed("StaysOnHeap", O.Def, F)
                 << What()
                 << " does not escape, but stays on the heap: " << Why;
        });
      }
    }

    bool FunctionChanged = !Promote.empty();
    moveToStack(Promote, GetTLI(F));
    if (!Options.MoveEscapingLocals)
      Escaping.clear();
    FunctionChanged |= moveToSideStack(F, Escaping);
    if (FunctionChanged) {
      FAM.invalidate(F, PreservedAnalyses::none());
      Changed = true;
    }
  }
  return Changed ? PreservedAnalyses::none() : PreservedAnalyses::all();
}

PreservedAnalyses StripAddedDebugInfoPass::run(Module &M,
                                               ModuleAnalysisManager &) {
  switch (Options.Added) {
  case PluginOptions::AddedDebugInfo::None:
    return PreservedAnalyses::all();
  case PluginOptions::AddedDebugInfo::StripAll:
    StripDebugInfo(M);
    break;
  case PluginOptions::AddedDebugInfo::KeepLineTables:
    stripNonLineTableDebugInfo(M);
    break;
  }
  return PreservedAnalyses::none();
}

} // namespace goroutine
