// Bad plugin arguments through clang (-fplugin-arg-goroutine-...): the one
// parser in plugin/Options.cpp names the argument and says what it wants.
// argument_values.ll sends the same values through opt.
//
// Byte counts are decimal digits only, in range.
// RUN: not %clang -fplugin=%plugin -fplugin-arg-goroutine-reserve=+4096 -c %s -o /dev/null 2>&1 | FileCheck %s --check-prefix=SIGN
// SIGN: error: goroutine plugin: 'reserve=+4096' needs a decimal byte count between 256 and 1073741824
// RUN: not %clang -fplugin=%plugin -fplugin-arg-goroutine-reserve=4096k -c %s -o /dev/null 2>&1 | FileCheck %s --check-prefix=SUFFIX
// SUFFIX: error: goroutine plugin: 'reserve=4096k' needs a decimal byte count
// RUN: not %clang -fplugin=%plugin -fplugin-arg-goroutine-libm-reserve=0x800 -c %s -o /dev/null 2>&1 | FileCheck %s --check-prefix=HEX
// HEX: error: goroutine plugin: 'libm-reserve=0x800' needs a decimal byte count
// RUN: not %clang -fplugin=%plugin -fplugin-arg-goroutine-reserve= -c %s -o /dev/null 2>&1 | FileCheck %s --check-prefix=EMPTY
// EMPTY: error: goroutine plugin: 'reserve=' needs a decimal byte count
// RUN: not %clang -fplugin=%plugin -fplugin-arg-goroutine-reserve -c %s -o /dev/null 2>&1 | FileCheck %s --check-prefix=NOVALUE
// NOVALUE: error: goroutine plugin: 'reserve' needs a decimal byte count
// RUN: not %clang -fplugin=%plugin -fplugin-arg-goroutine-libm-reserve=255 -c %s -o /dev/null 2>&1 | FileCheck %s --check-prefix=SMALL
// SMALL: error: goroutine plugin: 'libm-reserve=255' needs a decimal byte count between 256 and 1073741824
// RUN: not %clang -fplugin=%plugin -fplugin-arg-goroutine-reserve=1073741825 -c %s -o /dev/null 2>&1 | FileCheck %s --check-prefix=LARGE
// LARGE: error: goroutine plugin: 'reserve=1073741825' needs a decimal byte count between 256 and 1073741824
// RUN: not %clang -fplugin=%plugin -fplugin-arg-goroutine-reserve=99999999999999999999999 -c %s -o /dev/null 2>&1 | FileCheck %s --check-prefix=OVERFLOW
// OVERFLOW: error: goroutine plugin: 'reserve=99999999999999999999999' needs a decimal byte count
//
// Flags take no value.
// RUN: not %clang -fplugin=%plugin -fplugin-arg-goroutine-no-reserve=1 -c %s -o /dev/null 2>&1 | FileCheck %s --check-prefix=FLAG
// FLAG: error: goroutine plugin: 'no-reserve=1' takes no value (write 'no-reserve')
//
// The bounds themselves are accepted.
// RUN: %clang -fplugin=%plugin -fplugin-arg-goroutine-reserve=256 -fplugin-arg-goroutine-libm-reserve=1073741824 -c %s -o /dev/null
int main(void) { return 0; }
