; A variadic function that forwards its arguments with musttail (what a
; this-adjusting thunk of a variadic virtual function can look like) cannot
; be split into wrapper and body; it keeps its body and gets the checked
; prologue, sized for a thunk.
; RUN: opt -load-pass-plugin=%passes -passes=goroutine-variadic-split,goroutine-stack-checks -S %s | FileCheck %s
target datalayout = "e-m:e-p270:32:32-p271:32:32-p272:64:64-i64:64-i128:128-f80:128-n8:16:32:64-S128"
target triple = "x86_64-pc-linux-gnu"

declare i32 @target(ptr, i32, ...)

; CHECK-LABEL: define i32 @thunk(
; CHECK-SAME: ptr %this, i32 %n, ...) #[[ATTRS:[0-9]+]]
; CHECK-SAME: prologue <{ [4 x i8], i32, [9 x i8], [2 x i8], [2 x i8], i32, i8, i32 }> <{ [4 x i8] c"L\8D\9C$", i32 -512,
; The target may not be instrumented: it gets the reserve like any call.
; CHECK: asm sideeffect "leaq{{.*}}(i64 16384)
; CHECK-NEXT: musttail call i32 (ptr, i32, ...) @target(
define i32 @thunk(ptr %this, i32 %n, ...) "split-stack" {
  %adjusted = getelementptr i8, ptr %this, i64 -8
  %r = musttail call i32 (ptr, i32, ...) @target(ptr %adjusted, i32 %n, ...)
  ret i32 %r
}

; CHECK-NOT: define{{.*}}@thunk.body
; CHECK: attributes #[[ATTRS]] = { noredzone "goroutine-checked-prologue" }
