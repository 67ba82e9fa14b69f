#!/bin/sh
# Differential random testing with csmith (Debian's csmith and libcsmith-dev).
#
# Each seed gives a random, well-defined C program that prints a checksum of
# its globals. It is built twice -- plain clang-19 (the reference) and the
# goroutine driver, with its main() renamed and run inside go::run by
# test/realworld/goroutine_main.c -- and the instrumented build must print
# exactly what the reference prints: normally, under stack-move torture
# (stackmove=1: a move at every function entry) and with guard pages.
# A seed whose reference build does not finish in time or fails is skipped
# (csmith programs may loop for long); any other difference is a bug.
#
#   csmith.sh build <build-dir> <seeds>       generate and build the programs
#   csmith.sh run <build-dir> <seeds> <mode>  run them; mode: normal |
#                                             torture | guardpages
# <seeds> is a list like "1-24 9000-9011": ranges or single seeds.
# tools/csmith_soak.sh runs many more seeds the same way.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
cmd=$1
build=$(cd "$2" && pwd)
seeds=$3
work=$build/csmith
driver=$build/bin/goroutine-clang
jobs=$(nproc)
# Both builds of a seed use the same flags: -O0 for even seeds (every
# function a call: most stack moves), -O2 for odd ones (inlining, promotion).
cflags_of() { # seed
  echo "-O$(($1 % 2 * 2)) -w -I/usr/include/csmith"
}
ref_timeout=10
got_timeout=120

expand() { # "1-3 7" -> "1 2 3 7"
  local r
  for r in $1; do
    case $r in
      *-*) seq "${r%-*}" "${r#*-}" ;;
      *) echo "$r" ;;
    esac
  done
}

build_seed() { # seed
  local d=$work/$1 cflags
  cflags=$(cflags_of "$1")
  [ -f "$d/.built" ] && [ "$d/.built" -nt "$build/lib/libgoroutine.a" ] &&
    [ "$d/.built" -nt "$build/lib/libgoroutine-plugin-impl.so" ] && return 0
  mkdir -p "$d"
  # In the seed's folder: csmith writes platform.info into its working
  # directory, and parallel runs in one folder race on it.
  [ -f "$d/prog.c" ] || (cd "$d" && csmith --seed "$1" --output prog.c) >/dev/null ||
    { echo "seed $1: csmith failed" >&2; rm -f "$d/prog.c"; return 1; }
  clang-19 $cflags "$d/prog.c" -o "$d/reference"
  # The reference's output, once: a seed that does not finish cleanly in
  # time is left out of every mode.
  if timeout "$ref_timeout" "$d/reference" >"$d/expected" 2>&1; then
    $driver $cflags -Dmain=goroutine_realworld_main "$d/prog.c" \
      "$work/goroutine_main.o" -o "$d/goroutine"
    rm -f "$d/skipped"
  else
    echo "reference build did not finish in ${ref_timeout} s or failed" >"$d/skipped"
  fi
  touch "$d/.built"
}

case $cmd in
  build)
    mkdir -p "$work"
    $driver -O2 -c "$here/../realworld/goroutine_main.c" -o "$work/goroutine_main.o"
        n=0
    for s in $(expand "$seeds"); do
      build_seed "$s" &
      n=$((n + 1))
      [ $((n % jobs)) -eq 0 ] && wait
    done
    wait
    for s in $(expand "$seeds"); do
      [ -f "$work/$s/.built" ] || { echo "seed $s: not built" >&2; exit 1; }
    done
    ;;
  run)
    case $4 in
      normal) debug= ;;
      torture) debug=stackmove=1 ;;
      guardpages) debug=guardpages=1 ;;
      *) echo "unknown mode $4" >&2; exit 2 ;;
    esac
    count=0 skipped=0 failures=0
    for s in $(expand "$seeds"); do
      d=$work/$s
      if [ -f "$d/skipped" ]; then
        skipped=$((skipped + 1))
        continue
      fi
      count=$((count + 1))
      status=0
      GOROUTINE_DEBUG=$debug timeout "$got_timeout" "$d/goroutine" \
        >"$d/got.$4" 2>&1 || status=$?
      if [ "$status" -eq 0 ] && cmp -s "$d/expected" "$d/got.$4"; then
        echo "ok   seed $s: $(cat "$d/expected")"
      else
        echo "FAIL seed $s under GOROUTINE_DEBUG=$debug (exit $status):" \
          "csmith --seed $s; program in $d"
        diff "$d/expected" "$d/got.$4" | head -10
        failures=$((failures + 1))
      fi
    done
    echo "csmith [$4]: $((count - failures)) passed, $failures failed, $skipped skipped"
    [ "$failures" -eq 0 ] && [ "$count" -gt 0 ]
    ;;
  *)
    echo "usage: $0 build <build-dir> <seeds> | run <build-dir> <seeds> <mode>" >&2
    exit 2
    ;;
esac
