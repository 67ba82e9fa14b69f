//===- SideStack.h - Frames for locals whose address escapes ----*- C++ -*-===//
//
// Moves the escaping locals of a function to a frame on the goroutine's side
// stack (runtime/src/side_stack.cpp), which never moves. See SideStack.cpp.
//
//===----------------------------------------------------------------------===//
#ifndef GOROUTINE_PLUGIN_SIDESTACK_H
#define GOROUTINE_PLUGIN_SIDESTACK_H

#include "llvm/ADT/ArrayRef.h"
#include "llvm/IR/Instructions.h"

namespace goroutine {

// Gives the allocas in Escaping (of F) a frame on the side stack, and makes F
// restore the side stack pointer on return, in landing pads and after calls
// that return twice. With Escaping empty it only adds the restores, and only
// if F has landing pads or calls that return twice. Returns true if F changed.
bool moveToSideStack(llvm::Function &F,
                     llvm::ArrayRef<llvm::AllocaInst *> Escaping);

// True if AI can live on the side stack: not the target of va_start or
// va_copy (a va_list holds pointers into the movable stack by design).
bool canMoveToSideStack(const llvm::AllocaInst &AI);

} // namespace goroutine

#endif // GOROUTINE_PLUGIN_SIDESTACK_H
