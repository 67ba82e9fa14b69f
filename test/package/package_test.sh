#!/bin/sh
# Tests the installed package (docs/packaging.md) the way another project
# uses it:
#   1. `cmake --install <build> --prefix <work>/prefix`; every file of the
#      layout is there, and no installed text file names the build or source
#      tree.
#   2. app/ (find_package(Goroutine), goroutine_instrument) configured with
#      -DCMAKE_PREFIX_PATH=<prefix>, built and run.
#   3. The prefix moved to <work>/moved (the package is relocatable): app's
#      main.cpp, and c_main.c, compiled and linked with `pkg-config --cflags
#      --libs goroutine` alone, and with the installed goroutine-clang++ and
#      goroutine-clang drivers (also through a symbolic link), each run; and
#      app/ configured, built and run again against the moved prefix.
# Each program must print its line and exit 0 (it checks its own results).
#
#   package_test.sh <cmake> <generator> <build-dir> <work-dir> <clang-19> <clang++-19>
set -eu
cmake=$1
generator=$2
build=$3
work=$4
cc=$5
cxx=$6
here=$(cd "$(dirname "$0")" && pwd)
app=$here/app
source=$(cd "$here/../.." && pwd)
cpp_line='^goroutines: sum 14, stack 2048 bytes at first, [0-9]+ bytes 100 calls deep$'
c_line='^C goroutine: stack [0-9]+ bytes 100 calls deep$'
rm -rf "$work"
mkdir -p "$work"
cd "$work"

failed=0
fail() {
  echo "FAIL: $*"
  failed=1
}

# run_app <program> <line>: runs it and checks that it prints <line> (a
# regular expression).
run_app() {
  if ! "$1" >"$1.out" 2>&1; then
    cat "$1.out"
    fail "$1 failed"
  elif ! grep -Eq "$2" "$1.out"; then
    cat "$1.out"
    fail "$1 printed something else"
  else
    cat "$1.out"
  fi
}

# build_with_cmake <prefix> <dir>: app/ against the package in <prefix>.
build_with_cmake() {
  echo "== app/ with find_package(Goroutine) from $1"
  if "$cmake" -S "$app" -B "$2" -G "$generator" -DCMAKE_PREFIX_PATH="$1" \
    -DCMAKE_CXX_COMPILER="$cxx" && "$cmake" --build "$2"; then
    run_app "$2/app" "$cpp_line"
  else
    fail "app/ did not build with the CMake package in $1"
  fi
}

# 1. Install.
prefix=$work/prefix
"$cmake" --install "$build" --prefix "$prefix" >install.log ||
  { cat install.log; fail "cmake --install failed"; }
for file in bin/goroutine-clang bin/goroutine-clang++ \
  include/goroutine/goroutine.h include/goroutine/goroutine.hpp \
  include/goroutine/chan.hpp lib/libgoroutine.a \
  lib/libgoroutine-plugin.so lib/libgoroutine-plugin-impl.so \
  lib/cmake/Goroutine/GoroutineConfig.cmake \
  lib/cmake/Goroutine/GoroutineConfigVersion.cmake \
  lib/cmake/Goroutine/GoroutineTargets.cmake \
  lib/cmake/Goroutine/GoroutineInstrument.cmake \
  lib/pkgconfig/goroutine.pc share/goroutine/goroutine.dynlist \
  share/goroutine/gdb/goroutine-gdb.py; do
  [ -f "$prefix/$file" ] || fail "not installed: $file"
done
for dir in "$build" "$source"; do
  if grep -rlF "$dir" "$prefix/bin" "$prefix/lib/cmake" "$prefix/lib/pkgconfig"; then
    fail "installed files above name $dir"
  fi
done

# 2. CMake, from the install prefix.
build_with_cmake "$prefix" "$work/cmake"

# 3. The same files elsewhere.
mv "$prefix" "$work/moved"
prefix=$work/moved

if command -v pkg-config >/dev/null 2>&1; then
  echo "== pkg-config"
  flags=$(PKG_CONFIG_PATH=$prefix/lib/pkgconfig pkg-config --cflags --libs goroutine) ||
    fail "pkg-config does not find goroutine"
  echo "pkg-config --cflags --libs goroutine: $flags"
  # shellcheck disable=SC2086 # the flags are words
  if "$cxx" -O2 "$app/main.cpp" $flags -o "$work/pkg-config-app"; then
    run_app "$work/pkg-config-app" "$cpp_line"
  else
    fail "main.cpp did not build with pkg-config's flags"
  fi
  # shellcheck disable=SC2086
  if "$cc" -O2 "$here/c_main.c" $flags -o "$work/pkg-config-c"; then
    run_app "$work/pkg-config-c" "$c_line"
  else
    fail "c_main.c did not build with pkg-config's flags"
  fi
else
  echo "NOTE: pkg-config not found: its part of the test is skipped"
fi

echo "== goroutine-clang++, goroutine-clang"
if "$prefix/bin/goroutine-clang++" -O2 "$app/main.cpp" -o "$work/driver-app"; then
  run_app "$work/driver-app" "$cpp_line"
else
  fail "main.cpp did not build with the installed goroutine-clang++"
fi
if "$prefix/bin/goroutine-clang" -O2 "$here/c_main.c" -o "$work/driver-c"; then
  run_app "$work/driver-c" "$c_line"
else
  fail "c_main.c did not build with the installed goroutine-clang"
fi
ln -s "$prefix/bin/goroutine-clang++" "$work/linked-clang++"
"$work/linked-clang++" -c "$app/main.cpp" -o "$work/linked.o" ||
  fail "the installed goroutine-clang++ does not work through a symbolic link"

build_with_cmake "$prefix" "$work/cmake-moved"

if [ "$failed" -ne 0 ]; then
  exit 1
fi
echo "PASS"
