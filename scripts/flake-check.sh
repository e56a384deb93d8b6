#!/usr/bin/env bash
# The suite's no-flake check: N (default 5) consecutive `CI=true bash .ci/run` runs, each on a fresh
# clone of HEAD (a fresh virtualenv from the lock each time), while another `make test` loops beside
# them on its own clone. Prints one line per run; exits non-zero if any consecutive run failed.
# Takes about N x 10 minutes on 2 cores. Usage: scripts/flake-check.sh [N]
set -u
runs=${1:-5}
repo=$(git rev-parse --show-toplevel)
commit=$(git -C "$repo" rev-parse HEAD)
work=$(mktemp -d)
trap 'touch "$work/done"; wait; rm -rf "$work"' EXIT
echo "flake-check: $runs runs of $(git -C "$repo" rev-parse --short HEAD), another make test beside them"
(
  while [ ! -e "$work/done" ]; do
    rm -rf "$work/beside" && git clone -q "$repo" "$work/beside" && git -C "$work/beside" checkout -q "$commit"
    (cd "$work/beside" && CI=true bash .ci/run > "$work/beside.log" 2>&1) \
      && echo "  beside: passed" || echo "  beside: FAILED ($(grep -E '[0-9]+ (passed|failed)' "$work/beside.log" | tail -1))"
  done
) &
failed=0
for i in $(seq 1 "$runs"); do
  rm -rf "$work/run" && git clone -q "$repo" "$work/run" && git -C "$work/run" checkout -q "$commit"
  start=$(date +%s)
  if (cd "$work/run" && CI=true bash .ci/run > "$work/run-$i.log" 2>&1); then verdict=passed; else verdict=FAILED; failed=1; fi
  echo "run $i: $verdict in $(( $(date +%s) - start )) s: $(grep -E '[0-9]+ (passed|failed)' "$work/run-$i.log" | tail -1)"
  [ $failed = 1 ] && { cp "$work/run-$i.log" "$repo/flake-check-failure.log"; echo "log: flake-check-failure.log"; break; }
done
exit $failed
