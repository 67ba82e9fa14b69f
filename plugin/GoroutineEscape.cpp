//===- GoroutineEscape.cpp - Escape analysis and what follows from it -----===//
//
// The module pass behind the plugin's escape handling, in the order of LLVM's
// analysis-then-transformation passes:
//   1. gives libc declarations the attributes LLVM knows for them
//      (nocapture, readonly, ...), at -O0 too, so calls to strlen or printf
//      do not count as escapes;
//   2. analysis: runs EscapeAnalysis over the module;
//   3. decisions: for every instrumented function, decides per object what
//      happens to it (decide());
//   4. remarks: reports the decisions in Go's words (RemarkWriter, pass name
//      goroutine-escape), reading nothing but the decisions and the IR;
//   5. transformation: carries the decisions out (transform()): heap
//      allocations that stay become stack allocations (HeapToStack.cpp),
//      escaping locals move to the side stack (SideStack.cpp).
// docs/design.md ("Escape analysis") describes what is decided and why.
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
#include "llvm/Support/Debug.h"
#include "llvm/Transforms/Utils/BuildLibCalls.h"

#include <set>
#include <string>

using namespace llvm;

#define DEBUG_TYPE "goroutine-escape"

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

// What the pass does with one object, decided from the analysis alone.
// Remarks report decisions; the transformation carries them out.
struct Decision {
  enum Kind : uint8_t {
    LocalStays,  // a local that does not escape
    VaListStays, // an escaping va_list: it points into the stack by design
    LocalMoves,  // an escaping local: to the side stack
    HeapEscapes, // a heap allocation that escapes: stays on the heap
    HeapToStack, // a heap allocation that stays: becomes a stack slot
    HeapStays,   // a heap allocation that stays, but cannot move (WhyOnHeap)
  };
  Kind What;
  const EscapeObject *Object;
  std::string WhyOnHeap; // for HeapStays
};

[[maybe_unused]] const char *kindName(Decision::Kind K) {
  switch (K) {
  case Decision::LocalStays:
    return "local stays";
  case Decision::VaListStays:
    return "va_list stays";
  case Decision::LocalMoves:
    return "local moves to the side stack";
  case Decision::HeapEscapes:
    return "heap allocation escapes";
  case Decision::HeapToStack:
    return "heap allocation moves to the stack";
  case Decision::HeapStays:
    return "heap allocation stays on the heap";
  }
  return "?";
}

Decision decide(const EscapeObject &O, Function &F,
                FunctionAnalysisManager &FAM, const PluginOptions &Options) {
  if (const auto *AI = dyn_cast<AllocaInst>(O.Def)) {
    if (!O.Escapes)
      return {Decision::LocalStays, &O, ""};
    if (!canMoveToSideStack(*AI))
      return {Decision::VaListStays, &O, ""};
    return {Decision::LocalMoves, &O, ""};
  }
  if (O.Escapes)
    return {Decision::HeapEscapes, &O, ""};
  std::string Why = whyStaysOnHeap(*cast<CallBase>(O.Def), O.Frees,
                                   FAM.getResult<TargetLibraryAnalysis>(F),
                                   FAM.getResult<LoopAnalysis>(F),
                                   FAM.getResult<PostDominatorTreeAnalysis>(F));
  if (Why.empty() && !Options.HeapToStack)
    Why = "heap-to-stack is disabled";
  if (Why.empty())
    return {Decision::HeapToStack, &O, ""};
  return {Decision::HeapStays, &O, std::move(Why)};
}

std::vector<Decision> decideAll(ArrayRef<EscapeObject> Objects, Function &F,
                                FunctionAnalysisManager &FAM,
                                const PluginOptions &Options) {
  std::vector<Decision> Decisions;
  Decisions.reserve(Objects.size());
  for (const EscapeObject &O : Objects) {
    Decisions.push_back(decide(O, F, FAM, Options));
    LLVM_DEBUG({
      const Decision &D = Decisions.back();
      dbgs() << F.getName() << ": " << EscapeAnalysis::describe(O.Def) << ": "
             << kindName(D.What);
      if (O.Escapes)
        dbgs() << " (" << O.Reason.Why << ")";
      if (!D.WhyOnHeap.empty())
        dbgs() << " (" << D.WhyOnHeap << ")";
      dbgs() << "\n";
    });
  }
  return Decisions;
}

// Reports the decisions of one function as remarks, in Go's words. Inlining
// copies a local into every caller, so Said (shared by all functions) keeps
// each remark from being said twice.
class RemarkWriter {
public:
  RemarkWriter(Function &F, ArrayRef<EscapeObject> Objects, bool Verbose,
               std::set<std::string> &Said)
      : F(F), ORE(&F), Verbose(Verbose), Said(Said) {
    if (Verbose)
      for (const EscapeObject &O : Objects)
        ByDef[O.Def] = &O;
  }

  void write(ArrayRef<Decision> Decisions) {
    // Remark text is made only when remarks are on.
    if (!ORE.allowExtraAnalysis(PassName))
      return;
    for (const Decision &D : Decisions) {
      if (D.Object->Escapes && Verbose)
        emitOnce([&] {
          return passed("Explanation", D.Object->Def, F)
                 << what(D)
                 << " escapes to heap: " << explain(*D.Object, ByDef);
        });
      writeOne(D);
    }
  }

private:
  static std::string what(const Decision &D) {
    return EscapeAnalysis::describe(D.Object->Def);
  }

  void writeOne(const Decision &D) {
    const Value *Def = D.Object->Def;
    switch (D.What) {
    case Decision::LocalStays:
      if (isUserVariable(*cast<AllocaInst>(Def)))
        emitOnce([&] {
          return analysis("DoesNotEscape", Def, F)
                 << what(D) << " does not escape";
        });
      return;
    case Decision::VaListStays:
      emitOnce([&] {
        return missed("StaysOnStack", Def, F)
               << what(D)
               << " escapes but stays on the stack: it is a va_list, which "
                  "points into the stack by design";
      });
      return;
    case Decision::LocalMoves:
      emitOnce([&] {
        return passed("MovedToHeap", Def, F) << "moved to heap: " << what(D);
      });
      return;
    case Decision::HeapEscapes:
      emitOnce([&] {
        return passed("EscapesToHeap", Def, F) << what(D) << " escapes to heap";
      });
      return;
    case Decision::HeapToStack:
      emitOnce([&] {
        return passed("DoesNotEscape", Def, F) << what(D) << " does not escape";
      });
      return;
    case Decision::HeapStays:
      emitOnce([&] {
        return missed("StaysOnHeap", Def, F)
               << what(D)
               << " does not escape, but stays on the heap: " << D.WhyOnHeap;
      });
      return;
    }
  }

  template <typename MakeRemark> void emitOnce(MakeRemark Make) {
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
  }

  Function &F;
  OptimizationRemarkEmitter ORE;
  const bool Verbose;
  std::set<std::string> &Said;
  DenseMap<const Value *, const EscapeObject *> ByDef; // for explain()
};

// Carries out the decisions of one function. Returns true if it changed.
bool transform(Function &F, ArrayRef<Decision> Decisions,
               const TargetLibraryInfo &TLI, const PluginOptions &Options) {
  SmallVector<const EscapeObject *, 4> Promote;
  SmallVector<AllocaInst *, 8> Escaping;
  for (const Decision &D : Decisions) {
    if (D.What == Decision::HeapToStack)
      Promote.push_back(D.Object);
    else if (D.What == Decision::LocalMoves && Options.MoveEscapingLocals)
      Escaping.push_back(
          const_cast<AllocaInst *>(cast<AllocaInst>(D.Object->Def)));
  }
  moveToStack(Promote, TLI);
  // Called with no escaping locals too: landing pads and setjmp returns
  // restore the side stack in every function.
  const bool Moved = moveToSideStack(F, Escaping);
  return !Promote.empty() || Moved;
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
  std::set<std::string> Said; // remarks already emitted, for RemarkWriter
  for (Function &F : M) {
    if (!isInstrumented(F))
      continue;
    const std::vector<EscapeObject> &Objects = EA.objects(F);
    const std::vector<Decision> Decisions = decideAll(Objects, F, FAM, Options);
    RemarkWriter(F, Objects, Options.EscapeVerbose, Said).write(Decisions);
    if (transform(F, Decisions, GetTLI(F), Options)) {
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
