//===- ThreadMigration.cpp - Thread-identity calls are not constant -------===//
//
// The M:N scheduler may resume a goroutine on a different OS thread after any
// call (a channel operation that parks, or a preemption at the next
// instrumented prologue). Functions that answer "which thread is this?" are
// declared `const` by glibc (__attribute__((const)) on __errno_location and
// pthread_self), which Clang lowers to memory(none): LLVM may then compute
// them once and reuse the result after calls, e.g.
//
//   errno = 0;  f();  if (errno) ...     // one __errno_location() call
//
// which reads the errno of the thread the goroutine ran on before f(). This
// pass runs before the optimizer and gives those functions, and every call to
// them, unknown memory effects, so each use asks the current thread.
//
// (thread_local variables have the same problem through
// llvm.threadlocal.address; they are documented as per thread, with
// go::local<T> as the per-goroutine kind: docs/guide.md, "What stays with
// the thread".)
//
//===----------------------------------------------------------------------===//

#include "ThreadMigration.h"

#include "llvm/IR/InstrTypes.h"
#include "llvm/IR/Module.h"

using namespace llvm;

namespace goroutine {

PreservedAnalyses ThreadMigrationPass::run(Module &M, ModuleAnalysisManager &) {
  bool Changed = false;
  for (StringRef Name : {"__errno_location", "pthread_self"}) {
    Function *F = M.getFunction(Name);
    if (F == nullptr)
      continue;
    F->setMemoryEffects(MemoryEffects::unknown());
    F->removeFnAttr(Attribute::Speculatable);
    for (User *U : F->users())
      if (auto *CB = dyn_cast<CallBase>(U);
          CB && CB->getCalledFunction() == F) {
        CB->setMemoryEffects(MemoryEffects::unknown());
        CB->removeFnAttr(Attribute::Speculatable);
      }
    Changed = true;
  }
  return Changed ? PreservedAnalyses::none() : PreservedAnalyses::all();
}

} // namespace goroutine
