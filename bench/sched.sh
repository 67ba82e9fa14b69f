#!/bin/sh
# Scheduler benchmarks next to their Go twins (Debian's golang-1.19-go):
# spawn+run+join of 1M goroutines, unbuffered channel ping-pong, yield, and
# the RSS of 1M parked goroutines, each with 1 P and with 2 Ps; plus
# std::thread twins of all four (threads pinned to one CPU for the 1-P rows,
# on all CPUs for the 2-P rows; the parked one once). Runs are interleaved
# (ours, then Go, then threads, for each benchmark, `runs` times) and the
# table gives min (median) and the ratios against ../shared/ANCHORS.md's
# goals. bench/report.sh runs this and writes docs/benchmarks/.
#   bench/sched.sh [build-dir] [runs]      (default: build, 5 runs, ~4 min)
# Needs the targets bench_sched_{spawn,pingpong,yield,parked} and
# bench_threads_{spawn,pingpong,yield,parked} built in build-dir
# (bench/run.sh calls this script at its end).
# 1-P runs (GOROUTINE_MAXPROCS=1 / GOMAXPROCS=1) are pinned to the last CPU as
# in bench/run.sh; 2-P runs are not pinned.
# Every process is watched: one that runs longer than SCHED_TIME_LIMIT seconds
# (default 240) or grows past SCHED_MEM_LIMIT_MB of RSS (default half of the
# available memory) is killed, reported, and not run again. A crash is
# reported and the benchmark still runs in the next runs; whatever it printed
# before crashing counts.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "${1:-$here/../build}" && pwd)
runs=${2:-5}
go=/usr/lib/go-1.19/bin/go
bin=$build/bin
out=$build/bench/sched
mkdir -p "$out/go"
export GOCACHE="$build/bench/go/cache" GO111MODULE=off GOFLAGS=
for name in spawn pingpong yield parked; do
  "$go" build -o "$out/go/$name" "$here/sched/$name.go"
done
for t in bench_sched_spawn bench_sched_pingpong bench_sched_yield \
  bench_sched_parked bench_threads_spawn bench_threads_pingpong \
  bench_threads_yield bench_threads_parked; do
  [ -x "$bin/$t" ] || { echo "sched.sh: $bin/$t is missing (ninja -C $build $t)" >&2; exit 1; }
done

time_limit=${SCHED_TIME_LIMIT:-240}
mem_limit_mb=${SCHED_MEM_LIMIT_MB:-$(awk '/^MemAvailable:/ {print int($2 / 2048)}' /proc/meminfo)}
page_kb=$(($(getconf PAGESIZE) / 1024))
pin="taskset -c $(($(nproc) - 1))"

rm -f "$out"/*.out "$out"/*.txt "$out"/*.failed "$out"/*.skip "$out/failures.log"

# bench <key> <procs> <command...>: runs the command with GOROUTINE_MAXPROCS
# and GOMAXPROCS set to procs (pinned to one CPU when procs is 1, which is the
# 1-P setting of the thread twins too), appends its stdout to $out/<key>.out.
# A failure is logged to $out/failures.log (and counted in
# $out/<key>.failed); a key that had to be killed is not run again.
bench() {
  key=$1 procs=$2
  shift 2
  [ -e "$out/$key.skip" ] && return 0
  p=""
  [ "$procs" = 1 ] && p=$pin
  GOROUTINE_MAXPROCS=$procs GOMAXPROCS=$procs $p "$@" >"$out/last.stdout" 2>"$out/last.stderr" &
  pid=$!
  start=$(date +%s)
  killed=""
  while [ -e "/proc/$pid" ] && ! grep -q '^State:[[:space:]]*Z' "/proc/$pid/status" 2>/dev/null; do
    rss_kb=$(awk -v k="$page_kb" '{print $2 * k}' "/proc/$pid/statm" 2>/dev/null || echo 0)
    if [ "${rss_kb:-0}" -gt $((mem_limit_mb * 1024)) ]; then
      killed="RSS above $mem_limit_mb MB (SCHED_MEM_LIMIT_MB)"
    elif [ $(($(date +%s) - start)) -gt "$time_limit" ]; then
      killed="still running after $time_limit s (SCHED_TIME_LIMIT)"
    fi
    if [ -n "$killed" ]; then
      kill -9 "$pid" 2>/dev/null || true
      break
    fi
    sleep 0.2
  done
  rc=0
  wait "$pid" || rc=$?
  cat "$out/last.stdout" >>"$out/$key.out"
  if [ "$rc" -ne 0 ] || [ -n "$killed" ]; then
    echo "$rc" >>"$out/$key.failed"
    [ -z "$killed" ] || : >"$out/$key.skip"
    {
      echo "== $key FAILED in run $((i + 1)) (exit status $rc${killed:+, killed: $killed}):"
      echo "   GOROUTINE_MAXPROCS=$procs GOMAXPROCS=$procs $p $*"
      sed 's/^/   stdout: /' "$out/last.stdout" | tail -5
      sed 's/^/   stderr: /' "$out/last.stderr" | tail -30
    } | tee -a "$out/failures.log" >&2
  fi
}

i=0
while [ $i -lt "$runs" ]; do
  for procs in 1 2; do
    for name in spawn pingpong yield; do
      bench "$name"_ours_"$procs" "$procs" "$bin/bench_sched_$name"
      bench "$name"_go_"$procs" "$procs" "$out/go/$name"
      bench "$name"_threads_"$procs" "$procs" "$bin/bench_threads_$name"
    done
    bench parked_ours_"$procs" "$procs" "$bin/bench_sched_parked"
    bench parked_go_"$procs" "$procs" "$out/go/parked"
  done
  bench parked_threads 2 "$bin/bench_threads_parked"
  i=$((i + 1))
done

# The values: the first number after a label, one line per run.
values() { # key label
  if [ -e "$out/$1.out" ]; then grep "^$2 " "$out/$1.out" | awk '{print $2}'; fi >"$out/$1.$2.txt"
}
for procs in 1 2; do
  for side in ours go; do
    for name in spawn pingpong yield parked; do values "${name}_${side}_$procs" "$name"; done
  done
  values "parked_ours_$procs" parked_stack
  for name in spawn pingpong yield; do values "${name}_threads_$procs" "${name}_threads"; done
done
values parked_threads parked_threads

# min (median) of a file of numbers, both empty if it has none.
stats() { sort -g "$1" | awk '{a[NR] = $1} END {if (NR) print a[1], a[int((NR + 1) / 2)]}'; }

echo "$runs interleaved runs ($(nproc) CPUs, $(uname -m), $(date -u +%Y-%m-%d)); min (median);"
echo "1 P pinned to one CPU, 2 P unpinned; ratio = ours / other (min/min, median/median)"
# row label ours-file other-file unit max-ratio max-abs: the goal is met when
# the min ratio is at most max-ratio and our min at most max-abs ("-": none).
# A row whose command failed says in how many runs (what it printed counts).
row() {
  a=$(stats "$2")
  b=$(stats "$3")
  note=""
  for f in "$2" "$3"; do
    k=$(basename "$f")
    [ ! -e "$out/${k%%.*}.failed" ] ||
      note="$note [${k%%.*} failed $(wc -l <"$out/${k%%.*}.failed")x]"
  done
  awk -v a="$a" -v b="$b" -v u="$4" -v gr="$5" -v ga="$6" -v label="$1" -v note="$note" 'BEGIN {
    na = split(a, x, " "); nb = split(b, y, " ")
    ours = na ? sprintf("%.4g (%.4g) %s", x[1], x[2], u) : "n/a"
    other = nb ? sprintf("%.4g (%.4g) %s", y[1], y[2], u) : "n/a"
    ratio = (na && nb) ? sprintf("%.3fx (%.3fx)", x[1] / y[1], x[2] / y[2]) : "n/a"
    goal = ""; met = 1; known = 0
    if (ga != "-") { goal = "<= " ga " " u; if (na) { known = 1; if (x[1] > ga + 0) met = 0 } }
    if (gr != "-") {
      goal = goal (goal == "" ? "" : ", ") "<= " gr "x"
      if (na && nb) { known = 1; if (x[1] / y[1] > gr + 0) met = 0 } else known = 0
    }
    verdict = goal == "" ? "" : (!known ? "?" : (met ? "met" : "NOT met"))
    printf "%-46s %-24s %-24s %-18s %-22s %s%s\n", label, ours, other, ratio, goal, verdict, note
  }'
}
s=$out
printf "%-46s %-24s %-24s %-18s %-22s %s\n" benchmark ours "Go 1.19" ratio goal ""
row "spawn+run+join 1M goroutines, 1 P, each" "$s/spawn_ours_1.spawn.txt" "$s/spawn_go_1.spawn.txt" ns 0.15 -
row "spawn+run+join 1M goroutines, 2 P, each" "$s/spawn_ours_2.spawn.txt" "$s/spawn_go_2.spawn.txt" ns 0.15 -
row "unbuffered ping-pong round trip, 1 P" "$s/pingpong_ours_1.pingpong.txt" "$s/pingpong_go_1.pingpong.txt" ns 0.25 -
row "unbuffered ping-pong round trip, 2 P" "$s/pingpong_ours_2.pingpong.txt" "$s/pingpong_go_2.pingpong.txt" ns 0.25 -
row "yield, 2 goroutines, 1 P, per switch" "$s/yield_ours_1.yield.txt" "$s/yield_go_1.yield.txt" ns 0.2 -
row "yield, 2 goroutines, 2 P, per yield" "$s/yield_ours_2.yield.txt" "$s/yield_go_2.yield.txt" ns - -
row "RSS per parked goroutine (1M), 1 P" "$s/parked_ours_1.parked.txt" "$s/parked_go_1.parked.txt" B 0.37 1000
row "RSS per parked goroutine (1M), 2 P" "$s/parked_ours_2.parked.txt" "$s/parked_go_2.parked.txt" B 0.37 1000
echo
printf "%-46s %-24s %-24s %-18s %-22s %s\n" "" ours threads ratio goal ""
row "spawn+join: 1M goroutines / 10k threads, 1 P" "$s/spawn_ours_1.spawn.txt" "$s/spawn_threads_1.spawn_threads.txt" ns - -
row "spawn+join: 1M goroutines / 10k threads, 2 P" "$s/spawn_ours_2.spawn.txt" "$s/spawn_threads_2.spawn_threads.txt" ns - -
row "ping-pong: channels / mutex+condvar, 1 P" "$s/pingpong_ours_1.pingpong.txt" "$s/pingpong_threads_1.pingpong_threads.txt" ns - -
row "ping-pong: channels / mutex+condvar, 2 P" "$s/pingpong_ours_2.pingpong.txt" "$s/pingpong_threads_2.pingpong_threads.txt" ns - -
row "yield: go::yield / sched_yield, 1 P" "$s/yield_ours_1.yield.txt" "$s/yield_threads_1.yield_threads.txt" ns - -
row "yield: go::yield / sched_yield, 2 P" "$s/yield_ours_2.yield.txt" "$s/yield_threads_2.yield_threads.txt" ns - -
row "RSS parked: 1M goroutines (1 P) / 10k threads" "$s/parked_ours_1.parked.txt" "$s/parked_threads.parked_threads.txt" B 0.125 -
row "RSS parked: Go 1.19 (1 P) / 10k threads" "$s/parked_go_1.parked.txt" "$s/parked_threads.parked_threads.txt" B - -
echo
for procs in 1 2; do
  stats "$s/parked_ours_$procs.parked_stack.txt" | awk -v p="$procs" '
    {printf "go::read_mem_stats() stack_inuse / num_goroutine, parked, %d P: %s (%s) B\n", p, $1, $2}
    END {if (!NR) printf "go::read_mem_stats() stack_inuse / num_goroutine, parked, %d P: n/a\n", p}' 
done
if [ -s "$out/failures.log" ]; then
  echo
  echo "FAILURES (details in $out/failures.log):"
  grep '^== ' "$out/failures.log"
  exit 1
fi
