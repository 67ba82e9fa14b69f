#!/bin/sh
# What the escape analysis does to real code (test/realworld's libraries):
#  1. how many locals it moves to the side stack and how many heap
#     allocations it turns into stack allocations, counted from the plugin's
#     remarks (-Rpass=goroutine-escape) over every source file;
#  2. the run time of upstream test programs built three ways, interleaved and
#     pinned to one CPU: plain clang-19 (reference), the plugin (goroutine),
#     and the plugin without its escape transformations (noescape). The
#     programs run on a goroutine in the last two builds.
#   bench/escape_cost.sh [build-dir] [runs]     (SKIP_REMARKS=1: timings only)
# Needs the real-world build (ctest -R realworld.build, or
# test/realworld/realworld.sh build <build-dir>).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "${1:-$here/../build}" && pwd)
runs=${2:-7}
realworld=$here/../test/realworld/realworld.sh
work=$build/realworld
driver=$build/bin/goroutine-clang
out=$build/bench/escape
mkdir -p "$out"

# 1. Remarks, per library: compile each source again with remarks on.
count_remarks() { # lib
  local lib=$1 log=$out/$1.remarks
  : >"$log"
  # realworld.sh's flags; remarks need a compile of their own.
  for f in $(sources_of "$lib"); do
    $driver $(flags_of "$lib" "$f") -Rpass=goroutine-escape \
      -Rpass-missed=goroutine-escape -c "$f" -o /dev/null 2>>"$log" || true
  done
  printf '%-10s %6d source files  %6d locals moved to the side stack  %5d heap allocations moved to the stack  %5d stay on the heap (not freed on every path, in a loop, ...)\n' \
    "$lib" "$(sources_of "$lib" | wc -w)" \
    "$(grep -c 'remark: moved to heap:' "$log" || true)" \
    "$(grep -E 'remark: [a-z_ ]+\(.*\) does not escape \[' "$log" | grep -vc 'stays on the heap' || true)" \
    "$(grep -c 'does not escape, but stays on the heap' "$log" || true)"
}
src_of() { echo "$work/src/$1/package"; }
sources_of() {
  case $1 in
    oniguruma)
      s=$(src_of oniguruma)/deps/onig
      (cd "$s" && ls reg*.c st.c enc/*.c | grep -v mktable | sed "s|^|$s/|") ;;
    libxml2)
      s=$(src_of libxml2)/vendor/libxml2
      # The library's objects in test/realworld/realworld.sh.
      for f in buf c14n catalog chvalid debugXML dict DOCBparser encoding \
               entities error globals hash HTMLparser HTMLtree legacy list \
               nanoftp nanohttp parser parserInternals pattern relaxng SAX2 \
               SAX schematron threads tree uri valid xinclude xlink xmlIO \
               xmlmemory xmlmodule xmlreader xmlregexp xmlsave xmlschemas \
               xmlschemastypes xmlstring xmlunicode xmlwriter xpath xpointer; do
        echo "$s/$f.c"
      done ;;
  esac
}
flags_of() { # lib file
  case $1 in
    oniguruma) s=$(src_of oniguruma)/deps/onig; echo "-O2 -w -I$s -I$s/enc" ;;
    libxml2) p=$(src_of libxml2); s=$p/vendor/libxml2
      echo "-O2 -w -D_REENTRANT -DHAVE_LIBPTHREAD -DHAVE_PTHREAD_H -DHAVE_UNISTD_H -DHAVE_RAND_R -I$p/vendor/libxml2.config -I$s/include -I$s" ;;
  esac
}

if [ -z "${SKIP_REMARKS:-}" ]; then
  echo "== escape decisions (-Rpass=goroutine-escape, -O2)"
  for lib in oniguruma libxml2; do
    count_remarks "$lib"
  done
fi

# 2. Run time.
echo "== run time, min of $runs runs (median), pinned to CPU $(($(nproc) - 1))"
for lib in oniguruma libxml2; do
  "$realworld" build-variant "$build" "$lib" noescape >/dev/null
done
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
