//===- GoroutinePlugin.cpp - Entry point of the goroutine plugin ----------===//
//
// Loaded by `clang-19 -fplugin=libgoroutine-plugin.so` (through the version
// check in VersionShim.c), this frontend action:
//  - refuses targets other than x86-64 (a fatal error naming the target);
//  - turns on split-stack code generation for the translation unit, so every
//    function defined in it gets LLVM's split-stack prologue, except those
//    declared __attribute__((no_split_stack));
//  - defines __GOROUTINE_INSTRUMENTED__ for the preprocessor;
//  - registers the plugin's IR passes to run last in the optimization
//    pipeline (at -O0 too): VariadicSplit, StableFrameAddress (stack
//    addresses kept as integers), GoroutineEscape (escape analysis,
//    heap-to-stack, side stack, remarks), then StackChecks;
//  - when goroutine-escape remarks are requested (-Rpass=goroutine-escape,
//    -Rpass-missed, -Rpass-analysis, -fsave-optimization-record) and the
//    user did not ask for -g, turns on enough debug information to name
//    variables and lines in the remarks, and strips it again afterwards.
//
// Arguments: -fplugin-arg-goroutine-<arg>, where <arg> is one of
//   reserve=N        bytes guaranteed below calls into uninstrumented code
//   libm-reserve=N   bytes guaranteed below calls into libm leaf functions
//   no-reserve       no checks before uninstrumented calls (measurement only)
//   no-side-stack    leave escaping locals on the movable stack (measurement)
//   no-heap-to-stack keep every heap allocation on the heap
//   escape-verbose   explain every escape, like go build -gcflags=-m=2
// parsed by parsePluginArgument (Options.cpp), as the opt plugin's are.
//
//===----------------------------------------------------------------------===//

#include "GoroutineEscape.h"
#include "Options.h"
#include "StableFrameAddress.h"
#include "StackChecks.h"
#include "ThreadMigration.h"
#include "VariadicSplit.h"

#include "clang/AST/ASTConsumer.h"
#include "clang/Basic/DiagnosticFrontend.h"
#include "clang/Basic/TargetInfo.h"
#include "clang/Frontend/CompilerInstance.h"
#include "clang/Frontend/FrontendPluginRegistry.h"
#include "clang/Lex/Preprocessor.h"
#include "llvm/IR/Module.h"
#include "llvm/Passes/PassBuilder.h"
#include "llvm/TargetParser/Triple.h"

using namespace llvm;

namespace goroutine {
namespace {

// Naked functions have no prologue to put a check in.
struct DropNakedSplitStackPass : PassInfoMixin<DropNakedSplitStackPass> {
  PreservedAnalyses run(Module &M, ModuleAnalysisManager &) {
    for (Function &F : M)
      if (F.hasFnAttribute(Attribute::Naked))
        F.removeFnAttr("split-stack");
    return PreservedAnalyses::all();
  }
};

class GoroutineAction : public clang::PluginASTAction {
protected:
  bool ParseArgs(const clang::CompilerInstance &CI,
                 const std::vector<std::string> &Args) override {
    for (const std::string &Arg : Args)
      if (Error E = parsePluginArgument(Arg, Options)) {
        clang::DiagnosticsEngine &D = CI.getDiagnostics();
        D.Report(D.getCustomDiagID(clang::DiagnosticsEngine::Error,
                                   "goroutine plugin: %0"))
            << toString(std::move(E));
        return false;
      }
    return true;
  }

  std::unique_ptr<clang::ASTConsumer>
  CreateASTConsumer(clang::CompilerInstance &CI, StringRef) override {
    // Split-stack prologues, stack switches and the runtime are x86-64 code;
    // a fatal error here comes before anything the headers would say.
    const Triple &T = CI.getTarget().getTriple();
    if (T.getArch() != Triple::x86_64 || T.isX32()) {
      clang::DiagnosticsEngine &D = CI.getDiagnostics();
      D.Report(D.getCustomDiagID(clang::DiagnosticsEngine::Fatal,
                                 "goroutine plugin: target '%0' is not "
                                 "supported: goroutines are x86-64 only"))
          << T.str();
    }
    clang::CodeGenOptions &CG = CI.getCodeGenOpts();
    CG.EnableSegmentedStacks = true;
    nameVariablesInRemarks(CG);
    // Predefines are read when the main file is entered, after this runs.
    clang::Preprocessor &PP = CI.getPreprocessor();
    PP.setPredefines(PP.getPredefines() +
                     "#define __GOROUTINE_INSTRUMENTED__ 1\n");
    PluginOptions Opts = Options;
    CG.PassBuilderCallbacks.push_back([Opts](PassBuilder &PB) {
      // Before the optimizer, which would otherwise merge them.
      PB.registerPipelineStartEPCallback(
          [](ModulePassManager &MPM, OptimizationLevel) {
            MPM.addPass(ThreadMigrationPass());
          });
      PB.registerOptimizerLastEPCallback([Opts](ModulePassManager &MPM,
                                                OptimizationLevel) {
        MPM.addPass(DropNakedSplitStackPass());
        MPM.addPass(VariadicSplitPass());
        MPM.addPass(StableFrameAddressPass());
        MPM.addPass(GoroutineEscapePass(Opts));
        MPM.addPass(createModuleToFunctionPassAdaptor(StackChecksPass(Opts)));
        MPM.addPass(RecordReservePass(Opts));
        MPM.addPass(StripAddedDebugInfoPass(Opts));
      });
    });
    return std::make_unique<clang::ASTConsumer>();
  }

  ActionType getActionType() override { return AddBeforeMainAction; }

private:
  // Remarks name variables and lines only with debug information. When they
  // are wanted and the user did not ask for -g, turn it on; the object file
  // gets what the user asked for (StripAddedDebugInfoPass).
  void nameVariablesInRemarks(clang::CodeGenOptions &CG) {
    const bool Wanted =
        CG.OptimizationRemark.patternMatches("goroutine-escape") ||
        CG.OptimizationRemarkMissed.patternMatches("goroutine-escape") ||
        CG.OptimizationRemarkAnalysis.patternMatches("goroutine-escape") ||
        !CG.OptRecordFile.empty() || Options.EscapeVerbose;
    if (!Wanted || CG.getDebugInfo() >= llvm::codegenoptions::LimitedDebugInfo)
      return;
    Options.Added =
        CG.getDebugInfo() >= llvm::codegenoptions::DebugLineTablesOnly
            ? PluginOptions::AddedDebugInfo::KeepLineTables
            : PluginOptions::AddedDebugInfo::StripAll;
    CG.setDebugInfo(llvm::codegenoptions::LimitedDebugInfo);
  }

  PluginOptions Options;
};

} // namespace
} // namespace goroutine

static clang::FrontendPluginRegistry::Add<goroutine::GoroutineAction>
    Registration("goroutine", "growable goroutine stacks");
