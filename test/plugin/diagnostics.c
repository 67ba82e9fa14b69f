// The plugin refuses to run where it cannot work, with messages that say why.
// RUN: not gcc -fplugin=%plugin -c %s -o /dev/null 2>&1 | FileCheck %s --check-prefix=GCC
// GCC: error: libgoroutine-plugin.so was built for Clang 19 but was loaded by a program that is not Clang 19
// RUN: not %clang -fplugin=%plugin -fplugin-arg-goroutine-bogus -c %s -o /dev/null 2>&1 | FileCheck %s --check-prefix=ARG
// ARG: error: goroutine plugin: unknown argument 'bogus'
// RUN: not %clang -fplugin=%plugin -fplugin-arg-goroutine-reserve=12 -c %s -o /dev/null 2>&1 | FileCheck %s --check-prefix=SIZE
// SIZE: error: goroutine plugin: 'reserve=12' needs a decimal byte count between 256 and 1073741824
int main(void) { return 0; }
