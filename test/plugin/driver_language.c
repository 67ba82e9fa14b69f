// -x LANG names the language of the inputs that follow it; the drivers' own
// link inputs (the runtime archive) must not be read as source. The program
// is driver.c's, under a name that says nothing about its language.
// RUN: rm -rf %t && mkdir %t && cp %S/driver.c %t/prog.txt
// RUN: %goroutine-clang -x c %t/prog.txt -o %t/c && %t/c | FileCheck %s
// RUN: %goroutine-clang++ -Wno-vla-cxx-extension -x c++ %t/prog.txt -o %t/cxx && %t/cxx | FileCheck %s
// RUN: %goroutine-clang -xc %t/prog.txt -o %t/c2 && %t/c2 | FileCheck %s
// RUN: %goroutine-clang -x c -c %t/prog.txt -o %t/prog.o
// RUN: %goroutine-clang -x none %t/prog.o -o %t/c3 && %t/c3 | FileCheck %s
// CHECK: sum=55 vla=7 deep=20000 grew=yes
