; Bad pass parameters through opt (goroutine-stack-checks<...>,
; goroutine-escape<...>): the same parser and messages as the Clang plugin's
; arguments (argument_values.c), as a fatal error naming the pass.
;
; RUN: not opt -load-pass-plugin=%passes -passes='goroutine-stack-checks<reserve=+4096>' -disable-output %s 2>&1 | FileCheck %s --check-prefix=SIGN
; SIGN: LLVM ERROR: goroutine plugin: in goroutine-stack-checks<reserve=+4096>: 'reserve=+4096' needs a decimal byte count between 256 and 1073741824
; RUN: not opt -load-pass-plugin=%passes -passes='goroutine-stack-checks<reserve=4096;libm-reserve=12x>' -disable-output %s 2>&1 | FileCheck %s --check-prefix=JUNK
; JUNK: LLVM ERROR: goroutine plugin: in goroutine-stack-checks<reserve=4096;libm-reserve=12x>: 'libm-reserve=12x' needs a decimal byte count
; RUN: not opt -load-pass-plugin=%passes -passes='goroutine-stack-checks<reserve=12>' -disable-output %s 2>&1 | FileCheck %s --check-prefix=SMALL
; SMALL: LLVM ERROR: goroutine plugin: in goroutine-stack-checks<reserve=12>: 'reserve=12' needs a decimal byte count between 256 and 1073741824
; RUN: not opt -load-pass-plugin=%passes -passes='goroutine-escape<no-side-stack=0>' -disable-output %s 2>&1 | FileCheck %s --check-prefix=FLAG
; FLAG: LLVM ERROR: goroutine plugin: in goroutine-escape<no-side-stack=0>: 'no-side-stack=0' takes no value (write 'no-side-stack')
; RUN: not opt -load-pass-plugin=%passes -passes='goroutine-escape<bogus>' -disable-output %s 2>&1 | FileCheck %s --check-prefix=UNKNOWN
; UNKNOWN: LLVM ERROR: goroutine plugin: in goroutine-escape<bogus>: unknown argument 'bogus' (known: reserve=N, libm-reserve=N, no-reserve, no-side-stack, no-heap-to-stack, escape-verbose)
;
; Good parameters, also inside a function pipeline.
; RUN: opt -load-pass-plugin=%passes -passes='goroutine-stack-checks<reserve=256;libm-reserve=1073741824>' -disable-output %s
; RUN: opt -load-pass-plugin=%passes -passes='function(goroutine-stack-checks<reserve=4096>)' -S %s | FileCheck %s --check-prefix=FUNCTION
; FUNCTION: asm sideeffect "leaq{{.*}}(i64 4096)
target datalayout = "e-m:e-p270:32:32-p271:32:32-p272:64:64-i64:64-i128:128-f80:128-n8:16:32:64-S128"
target triple = "x86_64-pc-linux-gnu"

declare void @external()

define void @f() "split-stack" {
  call void @external()
  ret void
}
