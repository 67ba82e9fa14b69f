// Goroutines are x86-64 only: the drivers and the plugin say so for any
// other target, before anything else can fail.
// RUN: not %goroutine-clang -m32 -c %s -o %t.o 2>&1 | FileCheck %s --check-prefix=M32
// RUN: not %goroutine-clang++ -m32 %s -o %t 2>&1 | FileCheck %s --check-prefix=M32
// M32: error: -m32: goroutines are x86-64 only (drop the option to build for x86-64 Linux)
// RUN: not %goroutine-clang --target=aarch64-linux-gnu -c %s -o %t.o 2>&1 | FileCheck %s --check-prefix=AARCH64
// AARCH64: error: --target=aarch64-linux-gnu: goroutines are x86-64 only
// RUN: not %goroutine-clang -target aarch64-linux-gnu -c %s -o %t.o 2>&1 | FileCheck %s --check-prefix=AARCH64-SEP
// AARCH64-SEP: error: -target aarch64-linux-gnu: goroutines are x86-64 only
// RUN: not %goroutine-clang -mx32 -c %s -o %t.o 2>&1 | FileCheck %s --check-prefix=X32
// X32: error: -mx32: goroutines are x86-64 only
// An x86-64 target is accepted:
// RUN: %goroutine-clang --target=x86_64-linux-gnu -c %s -o %t.o
//
// The plugin, loaded by hand, names the target in a fatal error, and nothing
// else follows it:
// RUN: not %clang -fplugin=%plugin -m32 -c %s -o %t.o 2>&1 | FileCheck %s --check-prefix=PLUGIN-M32 --implicit-check-not=error:
// PLUGIN-M32: fatal error: goroutine plugin: target 'i386-{{.*}}' is not supported: goroutines are x86-64 only
// RUN: not %clang -fplugin=%plugin --target=aarch64-linux-gnu -c %s -o %t.o 2>&1 | FileCheck %s --check-prefix=PLUGIN-AARCH64 --implicit-check-not=error:
// PLUGIN-AARCH64: fatal error: goroutine plugin: target 'aarch64-unknown-linux-gnu' is not supported: goroutines are x86-64 only

int twice(int x) { return 2 * x; }
