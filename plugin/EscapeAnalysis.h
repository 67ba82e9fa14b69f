//===- EscapeAnalysis.h - Which addresses leave the stack -------*- C++ -*-===//
//
// For every local (alloca) and every heap allocation of a function, decides
// whether its address can be stored anywhere other than the same goroutine's
// stack: the heap, globals, thread-locals, other goroutines, memory of code
// that may keep it, the kernel. See EscapeAnalysis.cpp for the algorithm.
//
//===----------------------------------------------------------------------===//
#ifndef GOROUTINE_PLUGIN_ESCAPEANALYSIS_H
#define GOROUTINE_PLUGIN_ESCAPEANALYSIS_H

#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/STLFunctionalExtras.h"
#include "llvm/IR/DebugLoc.h"
#include "llvm/IR/Instructions.h"

#include <string>
#include <vector>

namespace llvm {
class DILocalVariable;
class TargetLibraryInfo;
class Module;
} // namespace llvm

namespace goroutine {

// The source variable a local holds, from its debug records, and where it is
// declared. Var is null for temporaries the compiler made.
struct SourceVariable {
  const llvm::DILocalVariable *Var = nullptr;
  llvm::DebugLoc Loc;
};
SourceVariable sourceVariable(const llvm::AllocaInst &AI);

// Why an object escapes: the first thing found that lets its address out.
struct EscapeReason {
  const llvm::Instruction *At = nullptr; // where (may be null)
  std::string Why;                       // "stored to global 'g'", ...
  const llvm::Value *Via = nullptr;      // the escaping object it is stored in
};

// An object of a function: an alloca or a heap allocation call.
struct EscapeObject {
  const llvm::Value *Def = nullptr;
  bool Escapes = false;
  EscapeReason Reason; // when Escapes
  // For heap objects: the calls that free this object and nothing else.
  std::vector<const llvm::CallBase *> Frees;
};

// What a function does with each pointer parameter, for its callers.
// "The graph" of a parameter is the caller's object it points to and every
// object reachable from it.
struct ParamSummary {
  bool Captures = false;        // the pointer itself may be kept
  bool ContentsEscape = false;  // pointers read through it may be kept
  bool ContentsWritten = false; // other pointers may be stored in its graph
  bool Reshuffled = false;      // pointers of its graph may move within it
  bool ReshuffledTop = false;   // ... into the object it points to (c->at++)
  bool SelfStored = false;      // the pointer itself may be stored in its graph
  bool Returned = false;        // it may be returned
  bool ReturnsContents = false; // a pointer read through it may be returned
  bool operator==(const ParamSummary &) const = default;

  static ParamSummary worst() {
    return {true, true, true, true, true, true, true, true};
  }
};

struct FunctionSummary {
  std::vector<ParamSummary> Params;
  bool operator==(const FunctionSummary &) const = default;
};

class EscapeAnalysis {
public:
  using GetTLIFn =
      llvm::function_ref<const llvm::TargetLibraryInfo &(llvm::Function &)>;

  // Analyzes every function defined in M, callees before callers.
  EscapeAnalysis(llvm::Module &M, GetTLIFn GetTLI);

  // The objects of F (defined in M) and whether each escapes.
  const std::vector<EscapeObject> &objects(const llvm::Function &F) const;

  // A description of an object for messages: the variable's name for a
  // local, the call for a heap allocation ("malloc(16)").
  static std::string describe(const llvm::Value *Object);

private:
  const FunctionSummary *summary(const llvm::Function *F) const;
  void assumeWorst(const std::vector<llvm::Function *> &Cycle, GetTLIFn GetTLI);

  struct Result {
    FunctionSummary Summary;
    std::vector<EscapeObject> Objects;
  };
  llvm::DenseMap<const llvm::Function *, Result> Results;
  std::vector<EscapeObject> None;
};

} // namespace goroutine

#endif // GOROUTINE_PLUGIN_ESCAPEANALYSIS_H
