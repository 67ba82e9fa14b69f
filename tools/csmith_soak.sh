#!/bin/sh
# A longer differential soak than CI's (see test/csmith/csmith.sh): builds and
# runs csmith seeds in windows, in every mode, keeping only the failing
# programs (under <build-dir>/csmith/<seed>).
#   tools/csmith_soak.sh <build-dir> [first-seed] [count] [window]
# Defaults: first seed 2000000, 1000 seeds, windows of 50. Prints each
# failing seed; exits non-zero if any failed.
set -eu
build=$1
first=${2:-2000000}
count=${3:-1000}
window=${4:-50}
script=$(cd "$(dirname "$0")/../test/csmith" && pwd)/csmith.sh
failed=""
s=$first
end=$((first + count))
while [ "$s" -lt "$end" ]; do
  last=$((s + window - 1))
  [ "$last" -ge "$end" ] && last=$((end - 1))
  "$script" build "$build" "$s-$last"
  for mode in normal torture guardpages; do
    "$script" run "$build" "$s-$last" "$mode" >"$build/csmith/soak.$mode.log" 2>&1 || true
    failed="$failed $(sed -n 's/^FAIL seed \([0-9]*\).*/\1/p' "$build/csmith/soak.$mode.log")"
    tail -n 1 "$build/csmith/soak.$mode.log"
  done
  for seed in $(seq "$s" "$last"); do # keep the failures' programs only
    case " $failed " in *" $seed "*) ;; *) rm -rf "$build/csmith/$seed" ;; esac
  done
  s=$((last + 1))
done
failed=$(echo $failed | tr ' ' '\n' | sort -un | tr '\n' ' ')
if [ -n "$failed" ]; then
  echo "failing seeds: $failed"
  exit 1
fi
echo "soak: $count seeds from $first, every mode: no difference"
