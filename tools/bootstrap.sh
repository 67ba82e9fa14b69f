#!/bin/sh
# Takes a fresh Debian 12 machine (as root) to a built project, then runs the
# examples or the whole test suite. Used by the README's two commands and by
# .ci/run.
#   tools/bootstrap.sh examples   set up, build, run the examples
#   tools/bootstrap.sh test       set up, build, run every test through ctest
# Environment: BUILD_DIR (default: build), JOBS (default: nproc).
set -eu
mode=${1:-examples}
root=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_DIR:-$root/build}
jobs=${JOBS:-$(nproc)}

# Debian 12 packages only. libdw-dev: the headers of elfutils' libdw, which
# stack traces load at run time for file:line. golang-1.19-go and gnuplot-nox
# are for the benchmarks' Go twins and charts, nodejs/npm fetch the
# third-party code the real-world tests build; gdb and pkg-config are for the
# tests of the gdb helper and of the installed package; csmith and
# libcsmith-dev generate the differential tests' random programs;
# libgtest-dev ships googletest's sources, which test/googletest builds.
packages="clang-19 llvm-19-dev libclang-19-dev llvm-19-tools lld-19 catch2
  libunwind-dev libdw-dev cmake ninja-build python3 gcc golang-1.19-go
  gnuplot-nox nodejs npm gdb pkg-config csmith libcsmith-dev libgtest-dev"
missing=""
for p in $packages; do
  # nodejs/npm may come from another repository (nodesource): a working
  # npm is all that is needed.
  case $p in nodejs|npm) command -v npm >/dev/null 2>&1 && continue ;; esac
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
    missing="$missing $p"
done
if [ -n "$missing" ]; then
  echo "bootstrap: installing$missing"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo=sudo
  $sudo apt-get update -q
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q $missing
fi

cmake -S "$root" -B "$build" -G Ninja \
  -DCMAKE_C_COMPILER=clang-19 -DCMAKE_CXX_COMPILER=clang++-19
cmake --build "$build" -j "$jobs"

case $mode in
  examples)
    for example in hello locals stack_growth escape memory_tour trace \
        goroutines_vs_threads c_example; do
      echo "== examples/$example"
      "$build/examples/$example"
      if [ "$example" = escape ]; then
        echo "== the plugin's escape remarks for examples/escape.cpp"
        cmake -D COMPILER="$build/bin/goroutine-clang++" \
          -D SOURCE="$root/examples/escape.cpp" \
          -P "$root/examples/check_escape_remarks.cmake"
      fi
    done
    ;;
  test)
    cd "$build"
    ctest --output-on-failure -j "$jobs"
    ;;
  *)
    echo "usage: $0 examples|test" >&2
    exit 2
    ;;
esac
