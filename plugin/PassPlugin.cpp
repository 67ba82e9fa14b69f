//===- PassPlugin.cpp - The plugin's IR passes for opt
//---------------------===//
//
// Makes the IR passes loadable into opt-19 for IR-level tests, as LLVM tests
// its own passes:
//   opt-19 -load-pass-plugin=libgoroutine-passes.so \
//          -passes=goroutine-variadic-split,goroutine-stack-checks in.ll
// goroutine-stack-checks takes the plugin's options as pass parameters:
//   goroutine-stack-checks<reserve=8192;libm-reserve=1024;no-reserve>
// Users never load this library: the Clang plugin runs the same passes.
//
//===----------------------------------------------------------------------===//

#include "Options.h"
#include "StackChecks.h"
#include "VariadicSplit.h"

#include "llvm/Passes/PassBuilder.h"
#include "llvm/Passes/PassPlugin.h"

using namespace llvm;

namespace {

// "reserve=8192;no-reserve" -> options; false on a malformed parameter.
bool parseStackCheckParams(StringRef Params, goroutine::PluginOptions &O) {
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
  goroutine::PluginOptions Options;
  if (Name.consume_front("goroutine-stack-checks") &&
      (Name.empty() || (Name.consume_front("<") && Name.consume_back(">") &&
                        parseStackCheckParams(Name, Options)))) {
    MPM.addPass(goroutine::StackChecksPass(Options));
    return true;
  }
  return false;
}

} // namespace

extern "C" LLVM_ATTRIBUTE_WEAK PassPluginLibraryInfo llvmGetPassPluginInfo() {
  return {LLVM_PLUGIN_API_VERSION, "goroutine", "0.1",
          [](PassBuilder &PB) { PB.registerPipelineParsingCallback(addPass); }};
}
