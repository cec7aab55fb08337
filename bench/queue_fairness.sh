#!/usr/bin/env bash
# Fair claiming across several queues (docs/queue.md "Several queues", docs/benchmarks.md):
# where a late queue's jobs land in a backlog, the share of weights 1:3, claim throughput with
# 1 and 3 queues, and the latency of a job pushed to an idle queue.
#
#   bench/queue_fairness.sh [jobs]        (default 300, for the throughput runs)
#
# A real redis-server and one `ffpod worker --slots 1`. The jobs run a stand-in ffmpeg that
# appends the job's tag to a file and exits at once (the worker's -version and -buildconf probes
# run the real one), so the file's order is the order of the claims and the throughput is the
# worker's and Redis', not ffmpeg's.
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=${1:-300}
ffpod=${FFPOD:-build/ffpod}
work=$(mktemp -d)
redis_pid=""
worker_pid=""
cleanup() {
  [[ -n "$worker_pid" ]] && kill "$worker_pid" 2>/dev/null
  [[ -n "$redis_pid" ]] && kill "$redis_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
port=$((20000 + RANDOM % 20000))
redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no --dir "$work" \
  >"$work/redis.log" 2>&1 &
redis_pid=$!
for _ in $(seq 50); do redis-cli -p "$port" ping >/dev/null 2>&1 && break; sleep 0.1; done
cli() { redis-cli -p "$port" "$@"; }

cat >"$work/ffmpeg" <<SH
#!/bin/sh
for a in "\$@"; do
  case "\$a" in
    -version|-buildconf) exec /usr/bin/ffmpeg "\$@";;
    title=*)
      echo "\${a#title=}" >> "$work/order"
      if [ "\${a#title=}" = A-20 ] && [ -x "$work/trigger" ]; then "$work/trigger"; fi;;
  esac
done
exit 0
SH
chmod +x "$work/ffmpeg"

# push QUEUE FIRST COUNT: jobs QUEUE-FIRST.. onto QUEUE:pending in one LPUSH.
push() {
  local q=$1 first=$2 count=$3 args=()
  for i in $(seq "$first" $((first + count - 1))); do
    args+=("{\"id\":\"$q-$i\",\"args\":[\"-metadata\",\"title=$q-$i\",\"-f\",\"null\",\"-\"]}")
  done
  cli LPUSH "$q:pending" "${args[@]}" >/dev/null
}
done_count() {
  local n=0
  for q in "$@"; do n=$((n + $(cli XLEN "$q:results"))); done
  echo "$n"
}
start_worker() {
  : >"$work/order"
  "$ffpod" worker --redis "redis://127.0.0.1:$port" --worker-id bench --listen "" \
    --heartbeat 1 --ffmpeg "$work/ffmpeg" --queue "$1" 2>"$work/worker.log" &
  worker_pid=$!
}
stop_worker() {
  kill -TERM "$worker_pid"
  wait "$worker_pid" 2>/dev/null || true
  worker_pid=""
  cli FLUSHALL >/dev/null
}
lines() { wc -l <"$work/order"; }

echo "one worker, 1 slot, $(nproc) cores, $(date -u +%F)"
echo

# 1. A backlog of 200 in A; 5 jobs arrive in B while A-20 runs (the stand-in pushes them).
printf '#!/bin/sh\nredis-cli -p %s LPUSH B:pending' "$port" >"$work/trigger"
for i in 0 1 2 3 4; do
  printf " '%s'" "{\"id\":\"B-$i\",\"args\":[\"-metadata\",\"title=B-$i\",\"-f\",\"null\",\"-\"]}" \
    >>"$work/trigger"
done
printf ' >/dev/null\n' >>"$work/trigger"
chmod +x "$work/trigger"
push A 0 200
start_worker A,B
while [[ $(done_count B) -lt 5 ]]; do sleep 0.05; done
rm "$work/trigger"
positions=$(sed -n '/^A-20$/,$p' "$work/order" | tail -n +2 |
  awk '/^B-/ {printf "%d ", a; a = 0; b++; if (b == 5) exit; next} {a++}')
echo "A claims before each of B's 5 jobs (after B's arrival): $positions"
echo "claims from A-20 on: $(sed -n '/^A-20$/,$p' "$work/order" | head -n 13 | tr '\n' ' ')"
stop_worker

# 2. Weights 1:3, both with work: the first 100 claims.
push A 0 150
push B 0 150
start_worker A:1,B:3
while [[ $(lines) -lt 100 ]]; do sleep 0.05; done
share=$(head -n 100 "$work/order" | cut -c1 | sort | uniq -c | awk '{printf "%s %s  ", $2, $1}')
echo "first 100 claims with --queue A:1,B:3: $share"
stop_worker

# 3. Throughput: all jobs in one queue; spread over three; all in one of three (two empty).
throughput() {
  local queues=$1 names
  shift
  IFS=, read -r -a names <<<"$queues"
  start_worker "$queues"
  local t0 t1
  t0=$(date +%s.%N)
  "$@"
  while [[ $(done_count "${names[@]}") -lt $jobs ]]; do sleep 0.02; done
  t1=$(date +%s.%N)
  printf '| %s | %s | %d | %.1f |\n' "$queues" "$label" "$jobs" "$(echo "$jobs / ($t1 - $t0)" | bc -l)"
  stop_worker
}
echo
echo "| --queue | jobs in | jobs | jobs/s |"
echo "|---|---|---|---|"
label="A"; throughput A push A 0 "$jobs"
third=$((jobs / 3))
spread() { push A 0 "$third"; push B 0 "$third"; push C 0 $((jobs - 2 * third)); }
label="A, B and C"; throughput A,B,C spread
label="A (B, C empty)"; throughput A,B,C push A 0 "$jobs"

# 4. A job pushed to an idle queue of three: push to result, 10 times at random moments.
start_worker A,B,C
sleep 2
lat=()
for i in $(seq 10); do
  sleep "0.$((RANDOM % 10))"
  q=$(printf 'A\nB\nC\n' | shuf -n 1)
  t0=$(date +%s%N)
  push "$q" "$i" 1
  while [[ $(cli XLEN "$q:results") -lt 1 ]]; do sleep 0.005; done
  t1=$(date +%s%N)
  lat+=($(((t1 - t0) / 1000000)))
  cli DEL "$q:results" >/dev/null
done
echo
echo "push to result of a job on an idle queue of A,B,C (ms, 10 runs): ${lat[*]}"
