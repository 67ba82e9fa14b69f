//===- EscapeAnalysis.cpp - Which locals' addresses leave the stack -------===//
//
// Go's escape analysis, for LLVM IR. A goroutine stack moves; a move fixes
// the pointers into it that are in the stack itself or in registers, and no
// others. So a local whose address may be stored anywhere else must not live
// on the movable stack (SideStack.cpp moves it), and a heap allocation whose
// address never gets out can live on the stack instead (HeapToStack.cpp).
//
// The analysis is a flow graph over *objects* -- the function's allocas, its
// heap allocations (malloc, calloc, operator new), and for each parameter the
// caller's object it points to and that object's contents -- in the style of
// Go's escape.go and of Andersen's points-to analysis, flow-insensitive and
// within one function:
//
//  - Every SSA value gets the set of objects whose address it may hold
//    (plus "unknown": globals, call results, anything not followed). Values
//    derived by GEPs, casts, phis, selects, integer arithmetic, aggregates
//    and vectors keep their operands' objects: C launders pointers through
//    integers (alignment arithmetic, type punning) all the time.
//  - Storing a value into an object adds to the object's *contents*; loading
//    from it yields those contents. Storing into unknown memory (a global, a
//    heap object that escapes, memory reached through a parameter) makes the
//    stored objects escape.
//  - Returning an object, or passing it to a call that may keep it, makes it
//    escape. What a callee defined in this module does with each parameter
//    is summarized first (callees before callers, iterating over recursive
//    cycles until nothing changes); for declarations, LLVM's attributes say
//    it: `nocapture`, `readonly`, `memory(...)`, with libc's attributes
//    inferred even at -O0 (GoroutineEscape.cpp runs inferLibFuncAttributes).
//  - An escaping object's contents escape too, so whatever a side-stack local
//    points to is never on the movable stack.
//
// Everything is monotone, so iterating the function's instructions until no
// set changes reaches a fixpoint. A pointer stored into a non-escaping local
// does not escape: at -O0, `int *q = &a; *q = 1;` keeps `a` on the stack.
//
// What users see of it, and its limits: docs/guide.md, "Escape analysis
// remarks"; the design: docs/design.md, "Escape analysis".
//
//===----------------------------------------------------------------------===//

#include "EscapeAnalysis.h"

#include "llvm/ADT/BitVector.h"
#include "llvm/ADT/SCCIterator.h"
#include "llvm/Analysis/CallGraph.h"
#include "llvm/Analysis/MemoryBuiltins.h"
#include "llvm/Analysis/TargetLibraryInfo.h"
#include "llvm/Analysis/ValueTracking.h"
#include "llvm/BinaryFormat/Dwarf.h"
#include "llvm/Demangle/Demangle.h"
#include "llvm/IR/DebugInfo.h"
#include "llvm/IR/InlineAsm.h"
#include "llvm/IR/InstIterator.h"
#include "llvm/IR/IntrinsicInst.h"
#include "llvm/IR/Module.h"
#include "llvm/Support/Debug.h"

#include <goroutine/abi.h>

using namespace llvm;

#define DEBUG_TYPE "goroutine-escape"

namespace goroutine {
namespace {

enum class NodeKind : uint8_t { Local, Heap, Param, ParamContents };

// The objects a value may point into, and whether it may point elsewhere.
struct PointsTo {
  BitVector Nodes;
  bool Unknown = false;

  explicit PointsTo(unsigned N = 0) : Nodes(N) {}
  bool empty() const { return !Unknown && Nodes.none(); }
  bool merge(const PointsTo &O) {
    const bool WasUnknown = Unknown;
    const BitVector Before = Nodes;
    Unknown |= O.Unknown;
    Nodes |= O.Nodes;
    return Unknown != WasUnknown || Nodes != Before;
  }
};

// True if a value of type T can carry a pointer.
bool mayHoldPointer(const Type *T) {
  if (T->isPointerTy() || T->isStructTy() || T->isArrayTy())
    return true;
  if (T->isIntegerTy())
    return T->getIntegerBitWidth() >= 64;
  if (const auto *V = dyn_cast<VectorType>(T))
    return mayHoldPointer(V->getElementType());
  return false;
}

// malloc, calloc, aligned_alloc, operator new, strdup, ...: a call that
// returns fresh heap memory (realloc hands over old memory instead). LLVM 19
// knows them by their allockind attributes, which GoroutineEscape.cpp infers
// for libc's declarations.
bool isHeapAllocation(const CallBase &CB, const TargetLibraryInfo &TLI) {
  return isAllocationFn(&CB, &TLI) && getReallocatedOperand(&CB) == nullptr;
}

// True if the declaration `Callee` is a C library function that returns
// parameter I (strcpy, memset, ...) and keeps it nowhere else. LLVM cannot
// mark such parameters nocapture, because returning is capturing to it.
bool isReturnedLibParam(const Function *Callee, unsigned I,
                        const TargetLibraryInfo &TLI) {
  LibFunc LF;
  return Callee != nullptr && Callee->isDeclaration() &&
         I < Callee->arg_size() &&
         Callee->hasParamAttribute(I, Attribute::Returned) &&
         TLI.getLibFunc(*Callee, LF) && TLI.has(LF);
}

// True if parameter I of the declaration `Callee` is a pointer the goroutine
// runtime may keep while the caller is parked, in records it relocates when
// the caller's stack moves (runtime/src/chan.cpp): a channel operation's
// element and result, a select's cases. Keeping them is not an escape. (They
// cannot be marked nocapture: a moved value may point into itself, like a
// std::string's inline buffer, and LLVM would assume it cannot.)
bool isRuntimeRelocatedParam(const Function *Callee, unsigned I) {
  if (Callee == nullptr || !Callee->isDeclaration())
    return false;
  const StringRef Name = Callee->getName();
  if (Name == GOROUTINE_CHAN_SEND_NAME)
    return I == GOROUTINE_CHAN_SEND_ELEM;
  if (Name == GOROUTINE_CHAN_RECV_NAME)
    return I == GOROUTINE_CHAN_RECV_ELEM || I == GOROUTINE_CHAN_RECV_RECEIVED;
  return Name == GOROUTINE_SELECT_NAME && I == GOROUTINE_SELECT_CASES;
}

// A parameter's source name, from debug info (clang drops value names),
// quoted; else its position.
std::string parameterName(const Argument &A) {
  for (const Instruction &I : instructions(A.getParent()))
    for (const DbgVariableRecord &DVR : filterDbgVars(I.getDbgRecordRange()))
      if (const DILocalVariable *Var = DVR.getVariable();
          Var->getArg() == A.getArgNo() + 1 && !Var->getName().empty())
        return "'" + Var->getName().str() + "'";
  if (A.hasName())
    return "'" + A.getName().str() + "'";
  return "#" + std::to_string(A.getArgNo() + 1);
}

using SummaryLookup = function_ref<const FunctionSummary *(const Function *)>;

class Solver {
public:
  Solver(Function &F, const TargetLibraryInfo &TLI, SummaryLookup Summaries)
      : F(F), TLI(TLI), Summaries(Summaries) {
    createNodes();
  }

  void run() {
    for (const Argument &A : F.args()) // a parameter points to its Param node
      if (auto It = NodeOf.find(&A); It != NodeOf.end())
        set(&A, single(It->second));
    do {
      Changed = false;
      for (BasicBlock &BB : F)
        for (Instruction &I : BB)
          visit(I);
      propagate();
    } while (Changed);
  }

  FunctionSummary summary() const {
    FunctionSummary S;
    S.Params.resize(F.arg_size());
    for (const Argument &A : F.args()) {
      auto It = NodeOf.find(&A);
      if (It == NodeOf.end())
        continue;
      ParamSummary &P = S.Params[A.getArgNo()];
      P.Captures = Nodes[It->second].Escaped;
      P.ContentsEscape = Nodes[It->second + 1].Escaped;
      P.ContentsWritten = ContentsWritten.test(A.getArgNo());
      P.Reshuffled = Reshuffled.test(A.getArgNo());
      P.ReshuffledTop = ReshuffledTop.test(A.getArgNo());
      P.SelfStored = SelfStored.test(A.getArgNo());
      P.Returned = Returned.test(A.getArgNo());
      P.ReturnsContents = ReturnsContents.test(A.getArgNo());
    }
    return S;
  }

  std::vector<EscapeObject> objects() const {
    std::vector<EscapeObject> Objects;
    DenseMap<unsigned, size_t> IndexOf;
    for (unsigned N = 0; N < Nodes.size(); ++N)
      if (Nodes[N].Kind == NodeKind::Local || Nodes[N].Kind == NodeKind::Heap) {
        IndexOf[N] = Objects.size();
        Objects.push_back(
            {Nodes[N].Def, Nodes[N].Escaped, Nodes[N].Reason, {}});
      }
    // The calls that free one heap object and nothing else.
    for (const BasicBlock &BB : F)
      for (const Instruction &I : BB) {
        const auto *CB = dyn_cast<CallBase>(&I);
        if (CB == nullptr || getReallocatedOperand(CB) != nullptr)
          continue;
        const Value *Freed = getFreedOperand(CB, &TLI);
        if (Freed == nullptr)
          continue;
        const PointsTo P = get(Freed);
        if (!P.Unknown && P.Nodes.count() == 1 &&
            Nodes[P.Nodes.find_first()].Kind == NodeKind::Heap)
          Objects[IndexOf[P.Nodes.find_first()]].Frees.push_back(CB);
      }
    return Objects;
  }

private:
  struct Node {
    NodeKind Kind;
    const Value *Def;
    unsigned ParamNo = 0;
    PointsTo Contents;
    bool Escaped = false;
    EscapeReason Reason;
  };

  void createNodes() {
    auto add = [&](NodeKind K, const Value *Def, unsigned ParamNo) {
      Nodes.push_back({K, Def, ParamNo, PointsTo(), false, {}});
    };
    for (const Argument &A : F.args()) {
      if (!mayHoldPointer(A.getType()))
        continue;
      NodeOf[&A] = Nodes.size();
      add(NodeKind::Param, &A, A.getArgNo());
      add(NodeKind::ParamContents, &A, A.getArgNo()); // always right after
    }
    for (const BasicBlock &BB : F)
      for (const Instruction &I : BB) {
        if (isa<AllocaInst>(I)) {
          NodeOf[&I] = Nodes.size();
          add(NodeKind::Local, &I, 0);
        } else if (const auto *CB = dyn_cast<CallBase>(&I);
                   CB && isHeapAllocation(*CB, TLI)) {
          NodeOf[&I] = Nodes.size();
          add(NodeKind::Heap, &I, 0);
        }
      }
    for (Node &N : Nodes)
      N.Contents = empty();
    for (unsigned N = 0; N < Nodes.size(); ++N)
      if (Nodes[N].Kind == NodeKind::ParamContents) {
        // The caller's objects below the parameter, collapsed into one node:
        // they point to each other, and to whatever the caller stored.
        Nodes[N].Contents.Nodes.set(N);
        Nodes[N].Contents.Unknown = true;
      }
    ContentsWritten.resize(F.arg_size());
    Reshuffled.resize(F.arg_size());
    ReshuffledTop.resize(F.arg_size());
    SelfStored.resize(F.arg_size());
    Returned.resize(F.arg_size());
    ReturnsContents.resize(F.arg_size());
  }

  PointsTo empty() const { return PointsTo(Nodes.size()); }
  PointsTo single(unsigned N) const {
    PointsTo S = empty();
    S.Nodes.set(N);
    return S;
  }
  PointsTo unknown() const {
    PointsTo S = empty();
    S.Unknown = true;
    return S;
  }

  PointsTo get(const Value *V) const {
    if (isa<Instruction>(V) || isa<Argument>(V)) {
      auto It = PT.find(V);
      return It != PT.end() ? It->second : empty();
    }
    if (isa<ConstantData>(V) || isa<MetadataAsValue>(V) || isa<BasicBlock>(V))
      return empty();
    if (isa<Constant>(V))
      return unknown(); // globals, expressions over them
    return empty();
  }

  void set(const Value *V, const PointsTo &S) {
    auto [It, Inserted] = PT.try_emplace(V, empty());
    Changed |= It->second.merge(S);
  }

  // Why an object escapes, in words, made only when it first does (the
  // fixpoint visits every instruction many times).
  using Why = function_ref<std::string()>;

  void escapeNode(unsigned N, const Instruction *At, Why Reason,
                  const Value *Via = nullptr) {
    Node &Obj = Nodes[N];
    if (Obj.Escaped)
      return;
    Obj.Escaped = true;
    Obj.Reason = {At, Reason(), Via};
    Obj.Contents.Unknown = true; // others may now write into it
    Changed = true;
  }

  void escape(const PointsTo &S, const Instruction *At, Why Reason) {
    for (unsigned N : S.Nodes.set_bits())
      escapeNode(N, At, Reason);
  }

  // What pointers read through objects S may point into.
  PointsTo load(const PointsTo &Addr) const {
    PointsTo R = empty();
    R.Unknown = Addr.Unknown;
    for (unsigned N : Addr.Nodes.set_bits()) {
      if (Nodes[N].Kind == NodeKind::Param)
        R.Nodes.set(N + 1); // the caller's objects below the parameter
      else
        R.merge(Nodes[N].Contents);
    }
    return R;
  }

  static std::string describeTarget(const Value *Addr) {
    const Value *Base = getUnderlyingObject(Addr);
    if (const auto *G = dyn_cast<GlobalVariable>(Base))
      return (G->isThreadLocal() ? "stored to thread-local '"
                                 : "stored to global '") +
             G->getName().str() + "'";
    if (const auto *A = dyn_cast<Argument>(Base))
      return "stored through parameter " + parameterName(*A);
    if (const auto *CB = dyn_cast<CallBase>(Base))
      if (const Function *Callee = CB->getCalledFunction())
        return "stored in memory returned by '" + demangle(Callee->getName()) +
               "'";
    return "stored to memory the analysis cannot follow";
  }

  void store(const PointsTo &V, const PointsTo &Addr, const Instruction &I,
             const Value *AddrValue) {
    if (V.empty())
      return;
    for (unsigned N : Addr.Nodes.set_bits()) {
      Node &Obj = Nodes[N];
      if (Obj.Kind == NodeKind::Param || Obj.Kind == NodeKind::ParamContents) {
        // The caller's memory, out of this function's sight: what is stored
        // escapes, unless it came from that same graph (`c->at++`, a list
        // unlinking a node); the caller accounts for the reshuffle.
        storeIntoParamGraph(V, Obj, I, AddrValue);
      } else {
        Changed |= Obj.Contents.merge(V);
      }
    }
    if (Addr.Unknown)
      escape(V, &I, [&] { return describeTarget(AddrValue); });
  }

  static void note(BitVector &Flags, unsigned ParamNo, bool &Changed) {
    Changed |= !Flags.test(ParamNo);
    Flags.set(ParamNo);
  }

  void storeIntoParamGraph(const PointsTo &V, const Node &Target,
                           const Instruction &I, const Value *AddrValue) {
    const unsigned ParamNo = Target.ParamNo;
    if (V.Unknown)
      note(ContentsWritten, ParamNo, Changed);
    for (unsigned N : V.Nodes.set_bits()) {
      const Node &Obj = Nodes[N];
      const bool SameGraph = (Obj.Kind == NodeKind::Param ||
                              Obj.Kind == NodeKind::ParamContents) &&
                             Obj.ParamNo == ParamNo;
      if (!SameGraph) {
        note(ContentsWritten, ParamNo, Changed);
        escapeNode(N, &I, [&] { return describeTarget(AddrValue); });
      } else if (Obj.Kind == NodeKind::Param) {
        note(SelfStored, ParamNo, Changed);
      } else if (Target.Kind == NodeKind::Param) {
        note(ReshuffledTop, ParamNo, Changed);
      } else {
        note(Reshuffled, ParamNo, Changed);
      }
    }
  }

  void returned(const PointsTo &V, const Instruction &I) {
    for (unsigned N : V.Nodes.set_bits()) {
      const Node &Obj = Nodes[N];
      if (Obj.Kind == NodeKind::Param)
        note(Returned, Obj.ParamNo, Changed);
      else if (Obj.Kind == NodeKind::ParamContents)
        note(ReturnsContents, Obj.ParamNo, Changed);
      else
        escapeNode(N, &I, [] { return std::string("returned"); });
    }
  }

  // The objects pointers read through S point into escape.
  void escapeContents(const PointsTo &S, const Instruction &I, Why Reason) {
    for (unsigned N : S.Nodes.set_bits()) {
      if (Nodes[N].Kind == NodeKind::Param)
        escapeNode(N + 1, &I, Reason);
      else
        escape(Nodes[N].Contents, &I, Reason);
    }
  }

  // A call may write into the graph of an argument that points to objects
  // S: store other pointers in it (E.ContentsWritten), move the graph's
  // pointers into S itself (E.ReshuffledTop: `c->at++`) or anywhere in it
  // (E.Reshuffled), store S itself in it (E.SelfStored). Where that graph
  // reaches memory outside this function, what moves may land there: it
  // escapes.
  void graphWritten(const PointsTo &S, const ParamSummary &E,
                    const Instruction &I, Why Who) {
    BitVector Reach = S.Nodes;
    BitVector Held(Nodes.size()); // the pointers stored in the graph
    bool OutsideTop = S.Unknown;  // S itself is outside memory
    bool Outside = S.Unknown;     // some object of the graph is
    SmallVector<unsigned, 8> Work(S.Nodes.set_bits().begin(),
                                  S.Nodes.set_bits().end());
    while (!Work.empty()) {
      const unsigned N = Work.pop_back_val();
      const Node &Obj = Nodes[N];
      if (Obj.Kind == NodeKind::Param || Obj.Kind == NodeKind::ParamContents) {
        // Our caller's memory: pass the effect on.
        Outside = true;
        OutsideTop |= S.Nodes.test(N);
        if (E.ContentsWritten)
          note(ContentsWritten, Obj.ParamNo, Changed);
        if (E.ReshuffledTop && Obj.Kind == NodeKind::Param && S.Nodes.test(N))
          note(ReshuffledTop, Obj.ParamNo, Changed);
        else if (E.Reshuffled || E.ReshuffledTop || E.SelfStored)
          note(Reshuffled, Obj.ParamNo, Changed);
        continue;
      }
      Outside |= Obj.Contents.Unknown;
      Held |= Obj.Contents.Nodes;
      for (unsigned M : Obj.Contents.Nodes.set_bits())
        if (!Reach.test(M)) {
          Reach.set(M);
          Work.push_back(M);
        }
    }
    PointsTo Written = empty(); // what may be stored anywhere in the graph
    Written.Unknown = E.ContentsWritten;
    if (E.Reshuffled)
      Written.Nodes = Held;
    if (E.SelfStored)
      Written.Nodes |= S.Nodes;
    PointsTo WrittenTop = Written; // what may be stored in S
    if (E.ReshuffledTop)
      WrittenTop.Nodes |= Held;
    for (unsigned N : Reach.set_bits()) {
      Node &Obj = Nodes[N];
      if (Obj.Kind == NodeKind::Param || Obj.Kind == NodeKind::ParamContents)
        continue;
      Changed |= Obj.Contents.merge(S.Nodes.test(N) ? WrittenTop : Written);
      const bool Lands = (E.SelfStored && S.Nodes.test(N) && Outside) ||
                         (E.Reshuffled && Held.test(N) && Outside) ||
                         (E.ReshuffledTop && Held.test(N) && OutsideTop);
      if (Lands)
        escapeNode(N, &I, [&] {
          return "reachable from an argument of " + Who() +
                 ", which may store it in memory outside this function";
        });
    }
  }

  // What a call does with argument I.
  ParamSummary effectOf(const CallBase &CB, const Function *Callee,
                        unsigned I) const {
    if (Callee != nullptr && !CB.isInlineAsm())
      if (const FunctionSummary *S = Summaries(Callee))
        if (I < S->Params.size())
          return S->Params[I];
    ParamSummary P;
    P.Captures = !CB.doesNotCapture(I) && !CB.isByValArgument(I) &&
                 !isRuntimeRelocatedParam(Callee, I);
    if (P.Captures && isReturnedLibParam(Callee, I, TLI)) {
      P.Captures = false;
      P.Returned = true;
    }
    const bool Invisible =
        CB.doesNotAccessMemory() || CB.paramHasAttr(I, Attribute::ReadNone);
    const bool ReadOnly = CB.onlyReadsMemory() ||
                          CB.paramHasAttr(I, Attribute::ReadOnly) || Invisible;
    const bool WriteOnly = CB.paramHasAttr(I, Attribute::WriteOnly);
    P.ContentsEscape = !Invisible && !WriteOnly && !CB.onlyReadsMemory();
    // A declaration that moves pointers around in the graph (qsort over an
    // array of pointers) reads them: ContentsEscape already covers it.
    P.ContentsWritten = !ReadOnly;
    P.ReturnsContents = !Invisible && !WriteOnly;
    return P;
  }

  void visitCall(CallBase &CB) {
    const auto *Callee =
        dyn_cast<Function>(CB.getCalledOperand()->stripPointerCasts());
    if (const auto *II = dyn_cast<IntrinsicInst>(&CB)) {
      visitIntrinsic(*II);
      return;
    }
    if (auto It = NodeOf.find(&CB); It != NodeOf.end()) {
      set(&CB, single(It->second)); // a heap allocation
      return;
    }
    if (const Value *Old = getReallocatedOperand(&CB)) {
      // The memory is handed over: what it holds ends up in the new block.
      auto Reason = [] { return std::string("passed to realloc"); };
      escape(get(Old), &CB, Reason);
      escapeContents(get(Old), CB, Reason);
      set(&CB, unknown());
      return;
    }
    if (getFreedOperand(&CB, &TLI) != nullptr)
      return; // free(p) and delete p do not keep p
    auto Who = [Callee] {
      return Callee == nullptr ? std::string("an indirect call")
                               : "'" + demangle(Callee->getName()) + "'";
    };
    PointsTo Result = unknown();
    for (unsigned I = 0; I < CB.arg_size(); ++I) {
      const PointsTo A = get(CB.getArgOperand(I));
      if (A.Nodes.none())
        continue;
      if (CB.isInlineAsm()) {
        // An empty template runs no instruction: `asm("" : : "r"(p))`, the
        // usual way to keep the optimizer from removing p, keeps nothing.
        if (StringRef(cast<InlineAsm>(CB.getCalledOperand())->getAsmString())
                .trim()
                .empty())
          continue;
        auto Reason = [] { return std::string("passed to inline assembly"); };
        escape(A, &CB, Reason);
        escapeContents(A, CB, Reason);
        continue;
      }
      const ParamSummary E = effectOf(CB, Callee, I);
      const char *Keeps = Callee != nullptr && Summaries(Callee) != nullptr
                              ? ", which lets it escape"
                              : ", which may keep it";
      if (E.Captures)
        escape(A, &CB, [&] { return "passed to " + Who() + Keeps; });
      if (E.ContentsEscape)
        escapeContents(A, CB, [&] {
          return "reachable from an argument of " + Who() + Keeps;
        });
      if (E.ContentsWritten || E.Reshuffled || E.ReshuffledTop || E.SelfStored)
        graphWritten(A, E, CB, Who);
      if (E.Returned)
        Result.merge(A);
      if (E.ReturnsContents)
        Result.merge(load(A));
    }
    if (mayHoldPointer(CB.getType()))
      set(&CB, Result);
  }

  void visitIntrinsic(const IntrinsicInst &II) {
    switch (II.getIntrinsicID()) {
    case Intrinsic::memcpy:
    case Intrinsic::memcpy_inline:
    case Intrinsic::memmove:
    case Intrinsic::memcpy_element_unordered_atomic:
    case Intrinsic::memmove_element_unordered_atomic:
    case Intrinsic::vacopy:
      // The destination gets whatever the source holds.
      store(load(get(II.getArgOperand(1))), get(II.getArgOperand(0)), II,
            II.getArgOperand(0));
      return;
    default:
      break;
    }
    // Pointer-returning intrinsics (ptrmask, launder.invariant.group,
    // threadlocal.address, ...) return something derived from an operand.
    if (mayHoldPointer(II.getType())) {
      PointsTo S = empty();
      for (const Use &U : II.args())
        S.merge(get(U.get()));
      set(&II, S);
    }
  }

  void visit(Instruction &I) {
    if (const auto *AI = dyn_cast<AllocaInst>(&I)) {
      set(AI, single(NodeOf.lookup(AI)));
    } else if (const auto *SI = dyn_cast<StoreInst>(&I)) {
      store(get(SI->getValueOperand()), get(SI->getPointerOperand()), I,
            SI->getPointerOperand());
    } else if (const auto *LI = dyn_cast<LoadInst>(&I)) {
      if (mayHoldPointer(LI->getType()))
        set(LI, load(get(LI->getPointerOperand())));
    } else if (const auto *RMW = dyn_cast<AtomicRMWInst>(&I)) {
      const PointsTo Addr = get(RMW->getPointerOperand());
      store(get(RMW->getValOperand()), Addr, I, RMW->getPointerOperand());
      if (mayHoldPointer(RMW->getType()))
        set(RMW, load(Addr));
    } else if (const auto *CX = dyn_cast<AtomicCmpXchgInst>(&I)) {
      const PointsTo Addr = get(CX->getPointerOperand());
      store(get(CX->getNewValOperand()), Addr, I, CX->getPointerOperand());
      set(CX, load(Addr));
    } else if (auto *CB = dyn_cast<CallBase>(&I)) {
      visitCall(*CB);
    } else if (const auto *RI = dyn_cast<ReturnInst>(&I)) {
      if (const Value *V = RI->getReturnValue())
        returned(get(V), I);
    } else if (isa<VAArgInst>(I) || isa<LandingPadInst>(I)) {
      if (mayHoldPointer(I.getType()))
        set(&I, unknown());
    } else if (!isa<CmpInst>(I) && mayHoldPointer(I.getType())) {
      // GEPs, casts, phis, selects, arithmetic, aggregates and vectors: the
      // result may hold whatever an operand holds.
      PointsTo S = empty();
      for (const Use &U : I.operands())
        S.merge(get(U.get()));
      set(&I, S);
    }
  }

  // Whatever an escaping object holds escapes with it.
  void propagate() {
    for (unsigned N = 0; N < Nodes.size(); ++N) {
      if (!Nodes[N].Escaped)
        continue;
      const PointsTo Held = Nodes[N].Contents;
      for (unsigned M : Held.Nodes.set_bits())
        escapeNode(
            M, nullptr,
            [] { return std::string("stored in an object that escapes"); },
            Nodes[N].Def);
    }
  }

  Function &F;
  const TargetLibraryInfo &TLI;
  SummaryLookup Summaries;
  std::vector<Node> Nodes;
  DenseMap<const Value *, unsigned> NodeOf;
  DenseMap<const Value *, PointsTo> PT;
  BitVector ContentsWritten, Reshuffled, ReshuffledTop, SelfStored, Returned,
      ReturnsContents;
  bool Changed = false;
};

// How many times a cycle of recursive functions is re-analyzed before the
// analysis gives up on it and assumes the worst of its parameters.
constexpr int MaxCycleIterations = 16;

} // namespace

EscapeAnalysis::EscapeAnalysis(Module &M, GetTLIFn GetTLI) {
  CallGraph CG(M);
  auto Lookup = [this](const Function *F) { return summary(F); };
  for (auto SCC = scc_begin(&CG); !SCC.isAtEnd(); ++SCC) {
    std::vector<Function *> Cycle;
    for (CallGraphNode *N : *SCC)
      if (Function *F = N->getFunction(); F != nullptr && !F->isDeclaration())
        Cycle.push_back(F);
    for (Function *F : Cycle) // optimistic start, made true by iterating
      Results[F].Summary.Params.resize(F->arg_size());
    bool Stable = false;
    for (int Iteration = 0; !Stable && Iteration < MaxCycleIterations;
         ++Iteration) {
      Stable = true;
      for (Function *F : Cycle) {
        Solver S(*F, GetTLI(*F), Lookup);
        S.run();
        Result R{S.summary(), S.objects()};
        Stable &= R.Summary == Results[F].Summary;
        Results[F] = std::move(R);
      }
    }
    if (!Stable)
      assumeWorst(Cycle, GetTLI);
  }
}

// A cycle whose summaries did not settle within MaxCycleIterations (each
// round carries a fact one call further against the order the cycle is
// visited in, so long cycles can need more): every parameter of the cycle is
// assumed to escape in every way, and each function's own objects are decided
// again under that assumption, since those of the last round were decided
// with summaries that were still too optimistic.
void EscapeAnalysis::assumeWorst(const std::vector<Function *> &Cycle,
                                 GetTLIFn GetTLI) {
  LLVM_DEBUG(dbgs() << "escape: a cycle of " << Cycle.size()
                    << " functions did not settle in " << MaxCycleIterations
                    << " rounds: assuming the worst of its parameters\n");
  for (Function *F : Cycle)
    for (ParamSummary &P : Results[F].Summary.Params)
      P = ParamSummary::worst();
  auto Lookup = [this](const Function *F) { return summary(F); };
  for (Function *F : Cycle) {
    Solver S(*F, GetTLI(*F), Lookup);
    S.run();
    Results[F].Objects = S.objects();
  }
}

const FunctionSummary *EscapeAnalysis::summary(const Function *F) const {
  auto It = Results.find(F);
  return It != Results.end() ? &It->second.Summary : nullptr;
}

const std::vector<EscapeObject> &
EscapeAnalysis::objects(const Function &F) const {
  auto It = Results.find(&F);
  return It != Results.end() ? It->second.Objects : None;
}

// A function's name without its parameter types: "operator new", not
// "operator new(unsigned long)".
static std::string functionName(StringRef Mangled) {
  ItaniumPartialDemangler D;
  if (D.partialDemangle(Mangled.str().c_str()))
    return Mangled.str(); // a C name
  char *Name = D.getFunctionName(nullptr, nullptr);
  std::string S = Name != nullptr ? Name : Mangled.str();
  std::free(Name);
  return S;
}

SourceVariable sourceVariable(const AllocaInst &AI) {
  // The declaration's own location when the record has it (a declare at -O0),
  // else the variable's line: after optimization the records sit where
  // values are assigned, or nowhere (assignment markers have line 0).
  auto make = [&AI](const DILocalVariable *Var, const DebugLoc &DL) {
    if (DL && DL.getLine() == Var->getLine())
      return SourceVariable{Var, DL};
    // The initializing store usually carries the declaration's position.
    for (const User *U : AI.users())
      if (const auto *SI = dyn_cast<StoreInst>(U);
          SI && SI->getPointerOperand() == &AI && SI->getDebugLoc() &&
          SI->getDebugLoc().getLine() == Var->getLine())
        return SourceVariable{Var, SI->getDebugLoc()};
    return SourceVariable{Var,
                          DILocation::get(Var->getContext(), Var->getLine(), 0,
                                          Var->getScope(),
                                          DL ? DL.getInlinedAt() : nullptr)};
  };
  auto *Mutable = const_cast<AllocaInst *>(&AI);
  for (DbgVariableRecord *DVR : findDVRDeclares(Mutable))
    return make(DVR->getVariable(), DVR->getDebugLoc());
  for (DbgDeclareInst *DDI : findDbgDeclares(Mutable))
    return make(DDI->getVariable(), DDI->getDebugLoc());
  for (DbgVariableRecord *DVR : at::getDVRAssignmentMarkers(&AI))
    return make(DVR->getVariable(), DVR->getDebugLoc());
  for (DbgAssignIntrinsic *DAI : at::getAssignmentMarkers(Mutable))
    return make(DAI->getVariable(), DAI->getDebugLoc());
  // Optimization turns declares into values of the local's address with a
  // final DW_OP_deref ("the variable is in memory here"); a value without it
  // is a pointer variable holding the address, not this variable.
  auto isDeref = [](const DIExpression *E) {
    return E->getNumElements() > 0 &&
           E->getElements().back() == dwarf::DW_OP_deref;
  };
  SmallVector<DbgValueInst *, 4> Values;
  SmallVector<DbgVariableRecord *, 4> Records;
  findDbgValues(Values, Mutable, &Records);
  for (DbgVariableRecord *DVR : Records)
    if (isDeref(DVR->getExpression()))
      return make(DVR->getVariable(), DVR->getDebugLoc());
  for (DbgValueInst *DVI : Values)
    if (isDeref(DVI->getExpression()))
      return make(DVI->getVariable(), DVI->getDebugLoc());
  return {};
}

std::string EscapeAnalysis::describe(const Value *Object) {
  if (const auto *AI = dyn_cast<AllocaInst>(Object)) {
    if (const DILocalVariable *Var = sourceVariable(*AI).Var)
      return Var->getName().str();
    // A temporary the compiler made (a lambda, an argument passed by
    // reference): its size says more than an internal name.
    std::string S = "temporary";
    if (std::optional<TypeSize> Size =
            AI->getAllocationSize(AI->getDataLayout());
        Size && !Size->isScalable())
      S += " (" + std::to_string(Size->getFixedValue()) + " bytes)";
    return S;
  }
  if (const auto *CB = dyn_cast<CallBase>(Object)) {
    std::string S;
    if (const Function *Callee = CB->getCalledFunction())
      S = functionName(Callee->getName());
    S += "(";
    for (unsigned I = 0; I < CB->arg_size(); ++I) {
      if (I > 0)
        S += ", ";
      if (const auto *C = dyn_cast<ConstantInt>(CB->getArgOperand(I)))
        S += std::to_string(C->getZExtValue());
      else
        S += "...";
    }
    return S + ")";
  }
  return "an object";
}

} // namespace goroutine
