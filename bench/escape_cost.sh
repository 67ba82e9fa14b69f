#!/bin/sh
# What the escape analysis does to real code (test/realworld's libraries):
#  1. how many locals it moves to the side stack and how many heap
#     allocations it turns into stack allocations, counted from the plugin's
#     remarks (-fsave-optimization-record) over every source file;
#  2. the run time of upstream test programs built three ways, interleaved and
#     pinned to one CPU: plain clang-19 (reference), the plugin (goroutine),
#     and the plugin without its escape transformations (noescape). The
#     programs run on a goroutine in the last two builds.
#   bench/escape_cost.sh [build-dir] [runs]     (SKIP_REMARKS=1: timings only)
# Builds what it needs of test/realworld's build (Oniguruma and libxml2, plain,
# with the plugin and without its escape transformations) into
# <build-dir>/realworld if it is not there yet: that fetches the sources with
# npm and compiles each library three times (a few minutes on 2 cores).
# Needs the plugin and runtime built (the default targets).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "${1:-$here/../build}" && pwd)
runs=${2:-7}
realworld=$here/../test/realworld/realworld.sh
work=$build/realworld
out=$build/bench/escape
mkdir -p "$out"
for f in bin/goroutine-clang lib/libgoroutine.a lib/libgoroutine-plugin.so; do
  [ -e "$build/$f" ] || { echo "escape_cost.sh: $build/$f is missing (build $build first)" >&2; exit 1; }
done
mkdir -p "$work"
[ -f "$work/goroutine_main.o" ] ||
  "$build/bin/goroutine-clang" -O2 -c "$here/../test/realworld/goroutine_main.c" -o "$work/goroutine_main.o"

# 1. Remarks, per library: the library built once more with
# -fsave-optimization-record (realworld.sh's `remarks` variant), its objects'
# YAML records counted.
count_remarks() { # lib
  local lib=$1 records
  "$realworld" build-variant "$build" "$lib" remarks >/dev/null
  records=$(ls "$work/$lib/remarks/obj"/*.opt.yaml)
  # A record: "--- !<Kind>", "Pass: <pass>", "Name: <name>", ...
  cat $records | awk -v lib="$lib" -v files="$(echo "$records" | wc -l)" '
    /^--- !/ { kind = substr($2, 2) }
    /^Pass:/ { pass = $2 }
    /^Name:/ && pass == "goroutine-escape" { n[kind "/" $2]++ }
    END {
      printf "%-10s %6d source files  %6d locals moved to the side stack  %5d heap allocations moved to the stack  %5d escape  %5d stay on the heap (in a loop, not freed on every path, ...)\n",
        lib, files, n["Passed/MovedToHeap"], n["Passed/DoesNotEscape"],
        n["Passed/EscapesToHeap"], n["Missed/StaysOnHeap"]
    }'
}

if [ -z "${SKIP_REMARKS:-}" ]; then
  echo "== escape decisions (the plugin's remarks, -O2)"
  for lib in oniguruma libxml2; do
    count_remarks "$lib"
  done
fi

# 2. Run time.
for lib in oniguruma libxml2; do
  for v in reference goroutine noescape; do
    "$realworld" build-variant "$build" "$lib" "$v" >/dev/null
  done
done
echo "== run time, min of $runs runs (median), pinned to CPU $(($(nproc) - 1))"
pin="taskset -c $(($(nproc) - 1))"
# Seconds of one run of <program> in <dir>.
seconds() { # dir program
  local t0 t1
  t0=$(date +%s.%N)
  (cd "$1" && $pin "$2" >/dev/null 2>&1) || true
  t1=$(date +%s.%N)
  echo "$t1 - $t0" | bc -l
}
stats() { sort -g "$1" | awk '{a[NR]=$1} END {printf "%.4f (%.4f)", a[1], a[int((NR+1)/2)]}'; }
for prog in oniguruma/testc oniguruma/testu libxml2/testapi libxml2/testlimits libxml2/testdict; do
  lib=${prog%/*} t=${prog#*/}
  scratch=$(mktemp -d)
  for v in reference goroutine noescape; do : >"$out/$lib.$t.$v"; done
  i=0
  while [ $i -lt "$runs" ]; do
    for v in reference goroutine noescape; do
      seconds "$scratch" "$work/$lib/$v/$t" >>"$out/$lib.$t.$v"
    done
    i=$((i + 1))
  done
  rm -rf "$scratch"
  ref=$(sort -g "$out/$lib.$t.reference" | head -1)
  gor=$(sort -g "$out/$lib.$t.goroutine" | head -1)
  noe=$(sort -g "$out/$lib.$t.noescape" | head -1)
  printf '%-20s reference %s s  goroutine %s s  noescape %s s  goroutine/reference %.3f  goroutine/noescape %.3f\n' \
    "$prog" "$(stats "$out/$lib.$t.reference")" "$(stats "$out/$lib.$t.goroutine")" \
    "$(stats "$out/$lib.$t.noescape")" "$(echo "$gor / $ref" | bc -l)" \
    "$(echo "$gor / $noe" | bc -l)"
done
