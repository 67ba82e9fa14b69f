//===- PassPlugin.cpp - The plugin's IR passes for opt --------------------===//
//
// Makes the IR passes loadable into opt-19 for IR-level tests, as LLVM tests
// its own passes:
//   opt-19 -load-pass-plugin=libgoroutine-passes.so \
//          -passes=goroutine-variadic-split,goroutine-stable-frame-address,\
//                  goroutine-escape,goroutine-stack-checks in.ll
// The passes take the plugin's arguments (Options.h) as parameters:
//   goroutine-stack-checks<reserve=8192;libm-reserve=1024;no-reserve>
//   goroutine-escape<no-side-stack;no-heap-to-stack;escape-verbose>
// goroutine-stack-checks is a function pass; in a module pipeline it runs
// over every function, as the Clang plugin runs it.
// Users never load this library: the Clang plugin runs the same passes.
//
//===----------------------------------------------------------------------===//

#include "GoroutineEscape.h"
#include "Options.h"
#include "StableFrameAddress.h"
#include "StackChecks.h"
#include "ThreadMigration.h"
#include "VariadicSplit.h"

#include "llvm/Passes/PassBuilder.h"
#include "llvm/Passes/PassPlugin.h"
#include "llvm/Support/ErrorHandling.h"

using namespace llvm;

namespace {

// If Name is Pass or Pass<params>, parses the parameters into Options and
// returns true. A malformed parameter is a fatal error that names it: opt's
// callbacks can only say "unknown pass", which would hide the reason.
bool matchPass(StringRef Name, StringRef Pass,
               goroutine::PluginOptions &Options) {
  if (!Name.consume_front(Pass))
    return false;
  if (Name.empty())
    return true;
  if (!Name.consume_front("<") || !Name.consume_back(">"))
    return false;
  if (Error E = goroutine::parsePluginArguments(Name, ';', Options))
    report_fatal_error("goroutine plugin: in " + Pass + "<" + Name +
                           ">: " + toString(std::move(E)),
                       /*gen_crash_diag=*/false);
  return true;
}

bool addModulePass(StringRef Name, ModulePassManager &MPM,
                   ArrayRef<PassBuilder::PipelineElement>) {
  if (Name == "goroutine-variadic-split") {
    MPM.addPass(goroutine::VariadicSplitPass());
    return true;
  }
  if (Name == "goroutine-stable-frame-address") {
    MPM.addPass(goroutine::StableFrameAddressPass());
    return true;
  }
  if (Name == "goroutine-thread-migration") {
    MPM.addPass(goroutine::ThreadMigrationPass());
    return true;
  }
  goroutine::PluginOptions Options;
  if (matchPass(Name, "goroutine-stack-checks", Options)) {
    MPM.addPass(
        createModuleToFunctionPassAdaptor(goroutine::StackChecksPass(Options)));
    MPM.addPass(goroutine::RecordReservePass(Options));
    return true;
  }
  if (matchPass(Name, "goroutine-escape", Options)) {
    MPM.addPass(goroutine::GoroutineEscapePass(Options));
    return true;
  }
  return false;
}

bool addFunctionPass(StringRef Name, FunctionPassManager &FPM,
                     ArrayRef<PassBuilder::PipelineElement>) {
  goroutine::PluginOptions Options;
  if (matchPass(Name, "goroutine-stack-checks", Options)) {
    FPM.addPass(goroutine::StackChecksPass(Options));
    return true;
  }
  return false;
}

} // namespace

extern "C" LLVM_ATTRIBUTE_WEAK PassPluginLibraryInfo llvmGetPassPluginInfo() {
  return {LLVM_PLUGIN_API_VERSION, "goroutine", "0.1", [](PassBuilder &PB) {
            PB.registerPipelineParsingCallback(addModulePass);
            PB.registerPipelineParsingCallback(addFunctionPass);
          }};
}
