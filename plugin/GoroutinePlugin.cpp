//===- GoroutinePlugin.cpp - Entry point of the goroutine plugin ----------===//
//
// Loaded by `clang-19 -fplugin=libgoroutine-plugin.so` (through the version
// check in VersionShim.c), this frontend action:
//  - turns on split-stack code generation for the translation unit, so every
//    function defined in it gets LLVM's split-stack prologue, except those
//    declared __attribute__((no_split_stack));
//  - defines __GOROUTINE_INSTRUMENTED__ for the preprocessor;
//  - registers the plugin's IR passes to run last in the optimization
//    pipeline (at -O0 too): VariadicSplit, then StackChecks.
//
// Arguments: -fplugin-arg-goroutine-<arg>, where <arg> is one of
//   reserve=N        bytes guaranteed below calls into uninstrumented code
//   libm-reserve=N   bytes guaranteed below calls into libm leaf functions
//   no-reserve       no checks before uninstrumented calls (measurement only)
//
//===----------------------------------------------------------------------===//

#include "Options.h"
#include "StackChecks.h"
#include "VariadicSplit.h"

#include "clang/AST/ASTConsumer.h"
#include "clang/Basic/DiagnosticFrontend.h"
#include "clang/Frontend/CompilerInstance.h"
#include "clang/Frontend/FrontendPluginRegistry.h"
#include "clang/Lex/Preprocessor.h"
#include "llvm/IR/Module.h"
#include "llvm/Passes/PassBuilder.h"

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
    clang::DiagnosticsEngine &D = CI.getDiagnostics();
    for (const std::string &Arg : Args) {
      StringRef Key = StringRef(Arg).split('=').first;
      StringRef Value = StringRef(Arg).split('=').second;
      uint64_t N = 0;
      if (Key == "reserve" || Key == "libm-reserve") {
        if (Value.getAsInteger(10, N) || N < 256 || N > (1u << 30)) {
          D.Report(D.getCustomDiagID(
              clang::DiagnosticsEngine::Error,
              "goroutine plugin: '%0' needs a byte count between 256 and "
              "1073741824"))
              << Arg;
          return false;
        }
        (Key == "reserve" ? Options.Reserve : Options.LibmReserve) = N;
      } else if (Arg == "no-reserve") {
        Options.InsertReserveChecks = false;
      } else {
        D.Report(D.getCustomDiagID(
            clang::DiagnosticsEngine::Error,
            "goroutine plugin: unknown argument '%0' (known: reserve=N, "
            "libm-reserve=N, no-reserve)"))
            << Arg;
        return false;
      }
    }
    return true;
  }

  std::unique_ptr<clang::ASTConsumer>
  CreateASTConsumer(clang::CompilerInstance &CI, StringRef) override {
    CI.getCodeGenOpts().EnableSegmentedStacks = true;
    // Predefines are read when the main file is entered, after this runs.
    clang::Preprocessor &PP = CI.getPreprocessor();
    PP.setPredefines(PP.getPredefines() +
                     "#define __GOROUTINE_INSTRUMENTED__ 1\n");
    PluginOptions Opts = Options;
    CI.getCodeGenOpts().PassBuilderCallbacks.push_back([Opts](PassBuilder &PB) {
      PB.registerOptimizerLastEPCallback(
          [Opts](ModulePassManager &MPM, OptimizationLevel) {
            MPM.addPass(DropNakedSplitStackPass());
            MPM.addPass(VariadicSplitPass());
            MPM.addPass(StackChecksPass(Opts));
          });
    });
    return std::make_unique<clang::ASTConsumer>();
  }

  ActionType getActionType() override { return AddBeforeMainAction; }

private:
  PluginOptions Options;
};

} // namespace
} // namespace goroutine

static clang::FrontendPluginRegistry::Add<goroutine::GoroutineAction>
    Registration("goroutine", "growable goroutine stacks");
