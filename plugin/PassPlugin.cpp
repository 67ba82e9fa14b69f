//===- PassPlugin.cpp - The plugin's IR passes for opt
//---------------------===//
//
// Makes the IR passes loadable into opt-19 for IR-level tests, as LLVM tests
// its own passes:
//   opt-19 -load-pass-plugin=libgoroutine-passes.so \
//          -passes=goroutine-variadic-split,goroutine-escape,\
//                  goroutine-stack-checks in.ll
// The passes take the plugin's options as parameters:
//   goroutine-stack-checks<reserve=8192;libm-reserve=1024;no-reserve>
//   goroutine-escape<no-side-stack;no-heap-to-stack;escape-verbose>
// Users never load this library: the Clang plugin runs the same passes.
//
//===----------------------------------------------------------------------===//

#include "GoroutineEscape.h"
#include "Options.h"
#include "StackChecks.h"
#include "ThreadMigration.h"
#include "VariadicSplit.h"

#include "llvm/Passes/PassBuilder.h"
#include "llvm/Passes/PassPlugin.h"

using namespace llvm;

namespace {

// "reserve=8192;no-reserve" -> options; false on a malformed parameter.
bool parseParams(StringRef Params, goroutine::PluginOptions &O) {
  while (!Params.empty()) {
    StringRef Param;
    std::tie(Param, Params) = Params.split(';');
    auto [Key, Value] = Param.split('=');
    uint64_t N = 0;
    if (Key == "reserve" && !Value.getAsInteger(10, N))
      O.Reserve = N;
    else if (Key == "libm-reserve" && !Value.getAsInteger(10, N))
      O.LibmReserve = N;
    else if (Param == "no-reserve")
      O.InsertReserveChecks = false;
    else if (Param == "no-side-stack")
      O.MoveEscapingLocals = false;
    else if (Param == "no-heap-to-stack")
      O.HeapToStack = false;
    else if (Param == "escape-verbose")
      O.EscapeVerbose = true;
    else
      return false;
  }
  return true;
}

bool addPass(StringRef Name, ModulePassManager &MPM,
             ArrayRef<PassBuilder::PipelineElement>) {
  if (Name == "goroutine-variadic-split") {
    MPM.addPass(goroutine::VariadicSplitPass());
    return true;
  }
  if (Name == "goroutine-thread-migration") {
    MPM.addPass(goroutine::ThreadMigrationPass());
    return true;
  }
  auto withParams = [&Name](StringRef Pass, goroutine::PluginOptions &O) {
    if (!Name.consume_front(Pass))
      return false;
    return Name.empty() || (Name.consume_front("<") && Name.consume_back(">") &&
                            parseParams(Name, O));
  };
  goroutine::PluginOptions Options;
  if (withParams("goroutine-stack-checks", Options)) {
    MPM.addPass(goroutine::StackChecksPass(Options));
    return true;
  }
  if (withParams("goroutine-escape", Options)) {
    MPM.addPass(goroutine::GoroutineEscapePass(Options));
    return true;
  }
  return false;
}

} // namespace

extern "C" LLVM_ATTRIBUTE_WEAK PassPluginLibraryInfo llvmGetPassPluginInfo() {
  return {LLVM_PLUGIN_API_VERSION, "goroutine", "0.1",
          [](PassBuilder &PB) { PB.registerPipelineParsingCallback(addPass); }};
}
