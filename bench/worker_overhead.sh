#!/usr/bin/env bash
# The worker's own overhead per job, excluding ffmpeg's run time, and the throughput of trivial
# jobs with 1 and 2 workers (docs/benchmarks.md).
#
#   bench/worker_overhead.sh [jobs]        (default 100)
#
# Each worker logs a debug record per job with `claim_to_spawn_ms` (BLMOVE returned ->
# ffmpeg forked: validation, the start script, argument rewriting, pipes) and
# `exit_to_recorded_ms` (ffmpeg reaped -> the finish script acknowledged by Redis: draining its
# pipes, classification, output publication, the result). The jobs are trivial
# (`-f lavfi -i nullsrc -frames:v 1 -f null -`), so throughput is bounded by ffmpeg's own
# start-up (about 0.45 s of CPU for Debian's build, which loads some 100 shared libraries).
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=${1:-100}
ffpod=${FFPOD:-build/ffpod}
work=$(mktemp -d /tmp/ffpod-worker-bench-XXXXXX)
redis_pid=""
cleanup() {
  [[ -n "$redis_pid" ]] && kill "$redis_pid" 2>/dev/null
  pkill -f "worker --redis redis://127.0.0.1:$port" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
port=$((20000 + RANDOM % 20000))
redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no --dir "$work" \
  >"$work/redis.log" 2>&1 &
redis_pid=$!
for _ in $(seq 50); do redis-cli -p "$port" ping >/dev/null 2>&1 && break; sleep 0.1; done

median() { sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
p90() { sort -n | awk '{a[NR]=$1} END {i=int(NR*0.9); if (i<1) i=1; print a[i]}'; }

run() {
  local workers=$1
  redis-cli -p "$port" FLUSHALL >/dev/null
  for i in $(seq "$jobs"); do
    redis-cli -p "$port" LPUSH ffpod:pending \
      "{\"id\":\"t$i\",\"args\":[\"-f\",\"lavfi\",\"-i\",\"nullsrc=s=16x16\",\"-frames:v\",\"1\",\"-f\",\"null\",\"-\"]}" >/dev/null
  done
  local t0 t1 pids=()
  t0=$(date +%s.%N)
  for w in $(seq "$workers"); do
    "$ffpod" worker --redis "redis://127.0.0.1:$port" --worker-id "bench-$w" --listen "" \
      --log-level debug --heartbeat 1 2>"$work/worker-$workers-$w.log" &
    pids+=($!)
  done
  while [[ $(redis-cli -p "$port" XLEN ffpod:results) -lt $jobs ]]; do sleep 0.05; done
  t1=$(date +%s.%N)
  kill -TERM "${pids[@]}"
  wait "${pids[@]}" 2>/dev/null || true
  cat "$work"/worker-"$workers"-*.log | grep '"result recorded"' >"$work/recorded-$workers"
  local claim exit_ thr
  claim=$(sed -E 's/.*"claim_to_spawn_ms":([0-9.]+).*/\1/' "$work/recorded-$workers")
  exit_=$(sed -E 's/.*"exit_to_recorded_ms":([0-9.]+).*/\1/' "$work/recorded-$workers")
  thr=$(echo "$jobs / ($t1 - $t0)" | bc -l)
  printf '| %d | %d | %.2f | %.2f | %.2f | %.2f | %.2f |\n' "$workers" "$jobs" \
    "$(echo "$claim" | median)" "$(echo "$claim" | p90)" \
    "$(echo "$exit_" | median)" "$(echo "$exit_" | p90)" "$thr"
}

echo "$jobs trivial jobs, $(nproc) cores, $(date -u +%F)"
echo
echo "| workers | jobs | claim->spawn median ms | p90 | exit->recorded median ms | p90 | jobs/s |"
echo "|---|---|---|---|---|---|---|"
run 1
run 2
