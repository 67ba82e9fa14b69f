; The pass's parameters, as the Clang plugin's arguments set them.
; RUN: opt -load-pass-plugin=%passes -passes=goroutine-stack-checks -S %s | FileCheck %s --check-prefix=DEFAULT
; RUN: opt -load-pass-plugin=%passes -passes='goroutine-stack-checks<reserve=4096>' -S %s | FileCheck %s --check-prefix=SMALL
; RUN: opt -load-pass-plugin=%passes -passes='goroutine-stack-checks<no-reserve>' -S %s | FileCheck %s --check-prefix=NONE
; RUN: opt -load-pass-plugin=%passes -passes=goroutine-stack-checks -S %s | FileCheck %s --check-prefix=SKIP
target datalayout = "e-m:e-p270:32:32-p271:32:32-p272:64:64-i64:64-i128:128-f80:128-n8:16:32:64-S128"
target triple = "x86_64-pc-linux-gnu"

declare void @external()

; DEFAULT-LABEL: define void @f()
; DEFAULT: asm sideeffect "leaq{{.*}}(i64 16384)
; SMALL: asm sideeffect "leaq{{.*}}(i64 4096)
; NONE-NOT: asm sideeffect
define void @f() "split-stack" {
  call void @external()
  ret void
}

; Functions without the split-stack attribute are not touched.
; SKIP-LABEL: define void @not_instrumented()
; SKIP-NEXT: call void @external()
define void @not_instrumented() {
  call void @external()
  ret void
}
