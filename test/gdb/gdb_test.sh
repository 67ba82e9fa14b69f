#!/bin/sh
# Tests the gdb helper (tools/gdb/goroutine-gdb.py) on parked.cpp's program,
# whose goroutines 2, 3 and 4 park in parked_in_receiver (chan receive),
# parked_in_sender (chan send) and parked_in_wait_group (sync.WaitGroup.Wait),
# and goroutine 5 is preempted in busy_step, while goroutine 1 calls
# goroutines_parked().
#
#   1. Live: gdb runs the program to goroutines_parked(). `info goroutines`
#      must list the five with their status, wait reason and function;
#      `goroutine N bt` must walk each switched-out one from its saved
#      context through the function it stopped in down to
#      goroutine_trampoline, and goroutine 1's through its thread. The program
#      then continues and must finish normally: the helper writes nothing into
#      it.
#   2. Core file: the program runs again and aborts at the same point; the
#      same must hold of the kernel's core file. (Not gdb's gcore: it would
#      write out every page of the runtime's 4 GiB stack reservations, tens of
#      GiB; the kernel leaves untouched pages out.) Skipped, with a note, when
#      the kernel's core_pattern sends cores elsewhere.
#
#   gdb_test.sh <gdb> <goroutine-gdb.py> <program> <work-dir>
# The caller sets GOROUTINE_DEBUG (the test mode) and GOROUTINE_MAXPROCS=1.
set -eu
gdb=$1
helper=$2
program=$3
work=$4
rm -rf "$work"
mkdir -p "$work"
cd "$work"

failed=0
fail() {
  echo "FAIL: $*"
  failed=1
}

# gdb_batch <output-file> <gdb arguments...>: gdb with the helper loaded.
gdb_batch() {
  out=$1
  shift
  "$gdb" -batch -nx -iex 'set debuginfod enabled off' -ex "source $helper" \
    "$@" >"$out" 2>&1 || true
  echo "== gdb output ($out)"
  cat "$out"
}

# goroutine_bt <output-file> <id>: the lines of `goroutine <id> bt` in it
# (its header, then frames "#..." and notes "(...)").
goroutine_bt() {
  awk -v id="$2" '
    /^goroutine [0-9]+ \[/ { on = ($2 == id); if (on) print; next }
    on && /^[#(]/ { print; next }
    { on = 0 }' "$1"
}

# check_goroutines <output-file> <where goroutine 1 is>: what both the live
# process and the core must show.
check_goroutines() {
  out=$1
  g1_where=$2
  grep -Eq "^\* 1 +running +- +[0-9]+ +$g1_where" "$out" ||
    fail "$out: goroutine 1 is not listed running in $g1_where"
  grep -Eq '^  2 +waiting +chan receive +65536 +.*::parked_in_receiver at parked.cpp:[0-9]+$' "$out" ||
    fail "$out: goroutine 2 is not listed waiting in chan receive, in parked_in_receiver, on a 64 KiB stack"
  grep -Eq '^  3 +waiting +chan send +[0-9]+.*::parked_in_sender at parked.cpp:[0-9]+$' "$out" ||
    fail "$out: goroutine 3 is not listed waiting in chan send, in parked_in_sender"
  grep -Eq '^  4 +waiting +sync.WaitGroup.Wait +[0-9]+.*::parked_in_wait_group at parked.cpp:[0-9]+$' "$out" ||
    fail "$out: goroutine 4 is not listed waiting in sync.WaitGroup.Wait, in parked_in_wait_group"
  grep -Eq '^  5 +runnable +- +[0-9]+ +.*::busy_step at parked.cpp:[0-9]+$' "$out" ||
    fail "$out: goroutine 5 is not listed runnable in busy_step"
  [ "$(grep -Ec '^[* ] [0-9]+ +(idle|runnable|running|waiting) ' "$out")" -eq 5 ] ||
    fail "$out: not exactly five goroutines listed"

  for g in 2:'chan receive':parked_in_receiver 3:'chan send':parked_in_sender \
    4:sync.WaitGroup.Wait:parked_in_wait_group; do
    id=${g%%:*}
    rest=${g#*:}
    reason=${rest%%:*}
    function=${rest#*:}
    goroutine_bt "$out" "$id" >"bt.$id"
    head -n 1 "bt.$id" | grep -q "^goroutine $id \[$reason\]:$" ||
      fail "$out: no 'goroutine $id [$reason]:' header"
    grep -Eq "^#[0-9]+ +(0x[0-9a-f]+ in )?go::runtime::park " "bt.$id" ||
      fail "$out: goroutine $id's backtrace does not show go::runtime::park"
    grep -Eq "^#[0-9]+ +(0x[0-9a-f]+ in )?\(anonymous namespace\)::$function \(.*parked.cpp:[0-9]+$" "bt.$id" ||
      fail "$out: goroutine $id's backtrace does not show $function"
    tail -n 1 "bt.$id" | grep -q "in goroutine_trampoline ()" ||
      fail "$out: goroutine $id's backtrace does not end at goroutine_trampoline"
  done
  # The receiver parked 41 calls deep.
  [ "$(grep -c 'parked_in_receiver (ch=' bt.2)" -eq 41 ] ||
    fail "$out: goroutine 2's backtrace does not show 41 parked_in_receiver frames"

  # The preempted one: through the preemption stub into the loop.
  goroutine_bt "$out" 5 >bt.5
  head -n 1 bt.5 | grep -q '^goroutine 5 \[runnable\]:$' ||
    fail "$out: no 'goroutine 5 [runnable]:' header"
  for function in goroutine_preempt_stub '(anonymous namespace)::busy_step' \
    '(anonymous namespace)::busy_in_loop'; do
    grep -q "^#[0-9]* *\(0x[0-9a-f]* in \)\?$function (" bt.5 ||
      fail "$out: goroutine 5's backtrace does not show $function"
  done
  tail -n 1 bt.5 | grep -q "in goroutine_trampoline ()" ||
    fail "$out: goroutine 5's backtrace does not end at goroutine_trampoline"
}

# 1. The live process.
gdb_batch live.out -ex 'break goroutines_parked' -ex run \
  -ex 'info goroutines' -ex 'goroutine 1 bt' -ex 'goroutine 2 bt' \
  -ex 'goroutine 3 bt' -ex 'goroutine 4 bt' -ex 'goroutine 5 bt' -ex continue \
  --args "$program"
check_goroutines live.out goroutines_parked
goroutine_bt live.out 1 >bt.1
grep -q '^goroutine 1 \[running\] on thread [0-9]*:$' bt.1 ||
  fail "live.out: goroutine 1 is not shown running on a thread"
grep -Eq '^#0 +goroutines_parked \(\)' bt.1 ||
  fail "live.out: goroutine 1's backtrace does not start in goroutines_parked"
grep -q '^4 goroutines woken$' live.out ||
  fail "live.out: the program did not finish its work after the stop"
grep -q 'exited normally' live.out ||
  fail "live.out: the program did not exit normally"

# 2. A core file.
pattern=$(cat /proc/sys/kernel/core_pattern 2>/dev/null || echo '|unknown')
# shellcheck disable=SC3045 # dash and bash both have ulimit -c
if ! ulimit -c unlimited 2>/dev/null; then
  echo "NOTE: core file test skipped: cannot raise the core size limit"
elif [ "${pattern#|}" != "$pattern" ] || [ "${pattern#/}" != "$pattern" ]; then
  echo "NOTE: core file test skipped: core_pattern is '$pattern'"
else
  status=0
  "$program" abort >abort.out 2>&1 || status=$?
  core=
  for file in core*; do
    [ -f "$file" ] && core=$file && break
  done
  if [ "$status" -ne 134 ] || [ -z "$core" ]; then
    cat abort.out
    fail "the program did not abort with a core file (status $status, core_pattern '$pattern')"
  else
    gdb_batch core.out -ex 'info goroutines' -ex 'goroutine all bt' \
      "$program" "$core"
    check_goroutines core.out ''
    grep -q '^goroutine 1 \[running\] on thread [0-9]*:$' core.out ||
      fail "core.out: goroutine 1 is not shown running on a thread"
    rm -f "$core" # sparse, but tens of GiB to anything that copies it
  fi
fi

if [ "$failed" -ne 0 ]; then
  exit 1
fi
echo "PASS"
