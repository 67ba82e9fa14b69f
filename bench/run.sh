#!/bin/sh
# Runs every benchmark next to its Go twin (Debian's golang-1.19-go) and its
# uninstrumented build, interleaved, and prints the medians and ratios.
#   bench/run.sh [build-dir] [runs]
# Then runs the scheduler benchmarks, bench/sched.sh [build-dir] [runs], with
# SCHED_RUNS runs (default 5, about 4 minutes; SCHED_RUNS=0 skips them).
# Only ratios measured in one run mean anything on this VM (see
# ../docs/benchmarks.md). bench/report.sh runs this, sched.sh and
# escape_cost.sh and writes the report into docs/benchmarks/.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "${1:-$here/../build}" && pwd)
runs=${2:-11}
go=/usr/lib/go-1.19/bin/go
out=$build/bench
mkdir -p "$out/go"
export GOCACHE="$out/go/cache" GO111MODULE=off GOFLAGS=
for twin in fib/fib.go stack_growth/growth.go; do
  name=$(basename "$twin" .go)
  "$go" build -o "$out/go/$name" "$here/$twin"
done

# Statistics of the first number after the label, over the lines of a file.
# CPU-bound benchmarks use the minimum (noise on a shared VM only ever adds
# time); the median is printed next to it.
median() { awk '{print $2}' "$1" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
minimum() { awk '{print $2}' "$1" | sort -g | head -1; }

# Every benchmark process runs pinned to the last CPU: on this VM, migrations
# between the two vCPUs add more variation than the differences measured.
pin="taskset -c $(($(nproc) - 1))"
# (The fib and growth twins get GOMAXPROCS=1: those benchmarks run one
# goroutine; bench/sched.sh sets the Ps itself.)
export GOMAXPROCS=1

rm -f "$out"/*.txt
i=0
while [ $i -lt "$runs" ]; do
  $pin "$build/bin/bench_fib_plain" >>"$out/fib_plain.txt"
  $pin "$build/bin/bench_fib_goroutine" >>"$out/fib_goroutine.txt"
  $pin "$out/go/fib" >>"$out/fib_go.txt"
  $pin "$build/bin/bench_stack_growth" >>"$out/growth.txt"
  GODEBUG=adaptivestackstart=0 $pin "$out/go/growth" >>"$out/growth_go.txt"
  i=$((i + 1))
done

echo "$runs interleaved runs, pinned to one of $(nproc) CPUs ($(uname -m), $(date -u +%Y-%m-%d)); min (median)"
row() { # label, our file, their file, unit scale, unit, goal
  awk -v a="$(minimum "$2")" -v am="$(median "$2")" -v b="$(minimum "$3")" \
      -v bm="$(median "$3")" -v k="$4" -v u="$5" -v goal="$6" -v label="$1" 'BEGIN {
    printf "%-40s %10.4g %s (%.4g) %10.4g %s (%.4g) %7.3fx (%.3fx) %s\n", label,
      a/k, u, am/k, b/k, u, bm/k, a/b, am/bm, goal }'
}
printf "%-40s %24s %24s %18s\n" benchmark goroutine other ratio
row "fib(35): instrumented vs clang -O2" "$out/fib_goroutine.txt" "$out/fib_plain.txt" 1e6 ms "goal <= 1.03x"
row "fib(35): instrumented vs Go 1.19" "$out/fib_goroutine.txt" "$out/fib_go.txt" 1e6 ms ""
row "stack growth per copied byte vs Go 1.19" "$out/growth.txt" "$out/growth_go.txt" 1 ns "goal <= 1.0x"

# The scheduler benchmarks (spawn, ping-pong, yield, parked goroutines).
if [ "${SCHED_RUNS:-5}" -gt 0 ]; then
  echo
  "$here/sched.sh" "$build" "${SCHED_RUNS:-5}"
fi
