#!/bin/sh
# The benchmark report, in one command: builds the Go twins, runs every
# benchmark in bench/ next to its Go twin, its thread twin and its
# uninstrumented build, interleaved and pinned as bench/run.sh and
# bench/sched.sh do, prints a table of min (median) values and ratios against
# ../shared/ANCHORS.md's goals, and writes into docs/benchmarks/: report.md
# (the machine, the table, the charts), raw.tsv (every run's value),
# summary.tsv, scripts.log (what the benchmark scripts printed) and four PNG
# charts drawn by gnuplot (Debian's gnuplot-nox).
#   bench/report.sh [build-dir]                   (default: build)
# Environment:
#   BENCH_RUNS    interleaved runs of the scheduler benchmarks and of the
#                 real-world programs (default 5: about 8 minutes in all on
#                 the 2-core VM, plus a few minutes the first time to build
#                 the real-world programs)
#   FIB_RUNS      runs of fib and stack growth (default 2 * BENCH_RUNS + 1;
#                 they take about a second each)
#   ESCAPE_RUNS   runs of the real-world programs (default BENCH_RUNS)
#   BENCH_ESCAPE  0: leave out bench/escape_cost.sh (the real-world programs,
#                 whose first run fetches sources with npm and builds them)
#   REPORT_DIR    where to write (default docs/benchmarks next to bench/)
# The phases run one after another; within each, every benchmark runs
# interleaved with its twins, so each ratio compares runs made side by side.
# The build directory needs the default targets (the bench_* programs, the
# plugin and the runtime). Exits 1 if any benchmark failed; the report is
# written all the same and says which.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
arg=${1:-$here/../build}
die() { echo "report.sh: $*" >&2; exit 1; }
[ -f "$arg/CMakeCache.txt" ] || die "$arg is not a CMake build directory; configure and build one first:
  cmake -S $(cd "$here/.." && pwd) -B $arg -G Ninja -DCMAKE_C_COMPILER=clang-19 -DCMAKE_CXX_COMPILER=clang++-19 && cmake --build $arg"
build=$(cd "$arg" && pwd)
count() { # name value: a positive integer, or die
  case $2 in '' | *[!0-9]* | 0*) die "$1 must be a positive integer, not '$2'" ;; esac
  echo "$2"
}
runs=$(count BENCH_RUNS "${BENCH_RUNS:-5}")
fib_runs=$(count FIB_RUNS "${FIB_RUNS:-$((2 * runs + 1))}")
escape_runs=$(count ESCAPE_RUNS "${ESCAPE_RUNS:-$runs}")
with_escape=${BENCH_ESCAPE:-1}
report=${REPORT_DIR:-$here/../docs/benchmarks}
go=/usr/lib/go-1.19/bin/go

missing=""
for t in bench_fib_goroutine bench_fib_plain bench_stack_growth \
  bench_sched_spawn bench_sched_pingpong bench_sched_yield bench_sched_parked \
  bench_threads_spawn bench_threads_pingpong bench_threads_yield \
  bench_threads_parked; do
  [ -x "$build/bin/$t" ] || missing="$missing $t"
done
[ -z "$missing" ] || die "$build lacks the benchmark programs:$missing
  build them with: cmake --build $build --target$missing"
[ -x "$go" ] || die "$go is missing (apt-get install golang-1.19-go)"
command -v gnuplot >/dev/null || die "gnuplot is missing (apt-get install gnuplot-nox)"
command -v python3 >/dev/null || die "python3 is missing (apt-get install python3)"
command -v taskset >/dev/null || die "taskset is missing (apt-get install util-linux)"
if [ "$with_escape" != 0 ]; then
  command -v bc >/dev/null || die "bc is missing (apt-get install bc), or set BENCH_ESCAPE=0"
fi

work=$build/bench/report
mkdir -p "$work" "$report"
meta=$work/meta.txt
log=$work/scripts.log
: >"$log"
load() { cut -d' ' -f1-3 /proc/loadavg; }
# What else ran: CPU time used by the whole machine (busy, and stolen by the
# hypervisor) from /proc/stat, less the CPU time of this script's children
# (`times`, run in this shell: a $(...) subshell has no children of its own).
# cpu_mark saves the counters in $mark; others_since sets $others to what
# happened since an older mark: the CPU-seconds other processes used, the
# seconds stolen and the wall seconds.
cpu_mark() {
  times >"$work/times.txt"
  mark=$(awk '/^cpu / {printf "%.2f %.2f", ($2 + $3 + $4 + $7 + $8) / 100, $9 / 100}' /proc/stat)
  mark="$mark $(awk 'NR == 2 {
    t = 0
    for (i = 1; i <= 2; i++) { split($i, a, "m"); t += a[1] * 60 + a[2] }
    printf "%.2f", t }' "$work/times.txt") $(date +%s)"
}
others_since() { # mark
  old=$1
  cpu_mark
  others=$(echo "$old $mark" | awk '{
    other = ($5 - $1) - ($7 - $3); if (other < 0) other = 0
    printf "%.0f %.0f %d\n", other, $6 - $2, $8 - $4 }')
}
cpu_mark
start_mark=$mark
start=$(date +%s)
src=$(sed -n 's/^CMAKE_HOME_DIRECTORY:INTERNAL=//p' "$build/CMakeCache.txt")
{
  echo "date=$(date -u '+%Y-%m-%d %H:%M UTC')"
  echo "source_dir=$src"
  echo "build_type=$(sed -n 's/^CMAKE_BUILD_TYPE:[A-Z]*=//p' "$build/CMakeCache.txt")"
  echo "go=$go"
  echo "fib_runs=$fib_runs"
  echo "sched_runs=$runs"
  echo "escape_runs=$escape_runs"
  echo "load_before=$(load)"
} >"$meta"
echo "report.sh: $fib_runs runs of fib and growth, $runs of the scheduler benchmarks, $escape_runs of the real-world programs; $(nproc) CPUs, load average $(load)"

failures=""
# phase name title command...: runs a benchmark script, its output to the
# log; records in the meta file what else ran meanwhile (other=<CPU-seconds
# used by other processes> <seconds stolen> <wall seconds>) and the load.
phase() {
  name=$1 title=$2
  shift 2
  printf '%s' "== $title ... "
  echo "== $title: $*" >>"$log"
  cpu_mark
  phase_mark=$mark
  rc=0
  "$@" >>"$log" 2>>"$work/$name.stderr" || rc=$?
  echo >>"$log"
  others_since "$phase_mark"
  set -- $others
  echo "$3 s (other processes: $1 CPU-seconds; load average $(load))"
  echo "other_$name=$1 $2 $3" >>"$meta"
  echo "load_$name=$(load)" >>"$meta"
  if [ "$rc" -ne 0 ]; then
    failures="$failures${failures:+; }$name (exit status $rc)"
    echo "   $title failed (exit status $rc):" >&2
    tail -20 "$work/$name.stderr" | sed 's/^/   /' >&2
  fi
}
rm -f "$work"/*.stderr
# fib and stack growth (bench/run.sh without its scheduler part).
phase cpu "fib and stack growth, $fib_runs runs" env SCHED_RUNS=0 "$here/run.sh" "$build" "$fib_runs"
phase sched "scheduler benchmarks, $runs runs" "$here/sched.sh" "$build" "$runs"
rm -f "$build/bench/escape"/*.reference "$build/bench/escape"/*.goroutine "$build/bench/escape"/*.noescape
if [ "$with_escape" != 0 ]; then
  phase escape "real-world programs (bench/escape_cost.sh), $escape_runs runs" \
    env SKIP_REMARKS=1 "$here/escape_cost.sh" "$build" "$escape_runs"
fi
others_since "$start_mark"
{
  echo "other_all=$others"
  echo "seconds=$(($(date +%s) - start))"
  echo "load_after=$(load)"
  echo "failures=$failures"
} >>"$meta"

echo
python3 "$here/report.py" "$build" "$report" "$meta" "$work"
gnuplot -e "data='$work'; out='$report'" "$here/report.gp"
cp "$log" "$report/scripts.log"
echo
echo "wrote $(cd "$report" && pwd)/: report.md raw.tsv summary.tsv scripts.log time_per_op.png parked_memory.png ratios.png call_cost.png"
if [ -n "$failures" ]; then
  echo "FAILED: $failures (see $work/*.stderr)" >&2
  exit 1
fi
