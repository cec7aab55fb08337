#!/usr/bin/env bash
# /healthz and /readyz under 1,000 hostile connections to the real ffpod's metrics port.
#
# `ffpod run` supervises a cheap real-time encode (so its listener is the production one, with
# the descriptor limit and connection cap it sets itself) while build/bench/listener_hostile
# holds HOSTILE_IDLE silent, HOSTILE_SLOW slowloris (a header byte every 300 ms) and HOSTILE_KEPT
# kept-alive idle connections, reopening each one ffpod closes. Meanwhile:
#   wrk    -t1 -c$WRK_CONNECTIONS --latency with `Connection: close` (a new connection per
#          request, as the kubelet's probes make them) on /healthz: p50, p99, max;
#   probes PROBES sequential curl requests, alternating /healthz and /readyz, each with a 1 s
#          limit (the kubelet's default timeoutSeconds): how many were answered 200, slowest.
# The same wrk run without the hostile load comes first, for scale.
#
# Usage: bench/listener_starvation.sh [path/to/ffpod] [path/to/listener_hostile]
# Environment: SECONDS_LOADED (20), HOSTILE_IDLE (400), HOSTILE_SLOW (400), HOSTILE_KEPT (200),
#   WRK_CONNECTIONS (2), PROBES (100), TARGET_P99_MS (100).
# Needs: ffmpeg, wrk, curl (Debian: ffmpeg wrk curl).
set -euo pipefail

FFPOD=${1:-build/ffpod}
HOSTILE=${2:-build/bench/listener_hostile}
SECONDS_LOADED=${SECONDS_LOADED:-20}
HOSTILE_IDLE=${HOSTILE_IDLE:-400}
HOSTILE_SLOW=${HOSTILE_SLOW:-400}
HOSTILE_KEPT=${HOSTILE_KEPT:-200}
WRK_CONNECTIONS=${WRK_CONNECTIONS:-2}
PROBES=${PROBES:-100}
TARGET_P99_MS=${TARGET_P99_MS:-100}

for tool in ffmpeg wrk curl; do
  command -v "$tool" >/dev/null || { echo "listener_starvation: $tool is required" >&2; exit 2; }
done
[ -x "$FFPOD" ] || { echo "listener_starvation: no ffpod executable at $FFPOD" >&2; exit 2; }
[ -x "$HOSTILE" ] || { echo "listener_starvation: no hostile client at $HOSTILE" >&2; exit 2; }
HOSTILE_TOTAL=$((HOSTILE_IDLE + HOSTILE_SLOW + HOSTILE_KEPT))

WORK=$(mktemp -d)
PIDS=()
# shellcheck disable=SC2317  # called by the EXIT trap
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])' 2>/dev/null ||
  echo $((20000 + RANDOM % 20000)))
url="http://127.0.0.1:$port"
"$FFPOD" run --listen "127.0.0.1:$port" -- ffmpeg -hide_banner -re -f lavfi \
  -i "testsrc2=size=320x240:rate=10" -t $((SECONDS_LOADED * 2 + 30)) -f null - 2>"$WORK/ffpod.log" &
PIDS+=($!)
for _ in $(seq 1 500); do
  curl -fs -o /dev/null "$url/readyz" && break
  sleep 0.02
done
curl -fs -o /dev/null "$url/readyz" || { echo "listener_starvation: ffpod did not become ready" >&2; cat "$WORK/ffpod.log" >&2; exit 1; }

# "812.34us" / "1.20ms" / "1.01s" -> milliseconds
to_ms() {
  awk -v v="$1" 'BEGIN {
    if (v ~ /us$/) { sub(/us$/, "", v); printf "%.3f", v / 1000 }
    else if (v ~ /ms$/) { sub(/ms$/, "", v); printf "%.3f", v }
    else if (v ~ /s$/) { sub(/s$/, "", v); printf "%.3f", v * 1000 }
    else printf "%s", v }'
}

# wrk on /healthz for $1 s; prints "p50 p99 max requests errors" (ms; errors: socket errors
# and non-2xx answers).
measure() {
  local out
  out=$(wrk -t1 -c"$WRK_CONNECTIONS" -d"${1}s" --latency -H "Connection: close" "$url/healthz")
  echo "$out" >"$WORK/wrk-$2.txt"
  local p50 p99 max reqs errs
  p50=$(to_ms "$(awk '$1 == "50%" { print $2 }' <<<"$out")")
  p99=$(to_ms "$(awk '$1 == "99%" { print $2 }' <<<"$out")")
  max=$(to_ms "$(awk '$1 == "Latency" { print $4 }' <<<"$out")")
  reqs=$(awk '/requests in/ { print $1 }' <<<"$out")
  errs=$(awk '/Socket errors:/ { gsub(/,/, ""); n += $4 + $6 + $8 + $10 }
              /Non-2xx/ { n += $NF } END { print n + 0 }' <<<"$out")
  echo "$p50 $p99 $max $reqs $errs"
}

# PROBES sequential requests with a 1 s limit; prints "answered total slowest_ms".
probe() {
  local answered=0 slowest=0 i path line code ms
  for i in $(seq 1 "$PROBES"); do
    path=/healthz
    [ $((i % 2)) = 0 ] && path=/readyz
    line=$(curl -s -o /dev/null -w '%{http_code} %{time_total}' --max-time 1 "$url$path" || true)
    code=${line%% *}
    ms=$(awk -v t="${line##* }" 'BEGIN { printf "%.1f", t * 1000 }')
    [ "$code" = 200 ] && answered=$((answered + 1))
    slowest=$(awk -v a="$slowest" -v b="$ms" 'BEGIN { print (b > a ? b : a) }')
  done
  echo "$answered $PROBES $slowest"
}

echo "ffpod:   $("$FFPOD" --version)"
echo "machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
grep -o '"msg":"listening".*' "$WORK/ffpod.log" | head -1 || true
echo "hostile: $HOSTILE_IDLE idle, $HOSTILE_SLOW slowloris, $HOSTILE_KEPT kept-alive idle"
echo

read -r b50 b99 bmax breqs berrs <<<"$(measure 5 quiet)"
printf 'quiet:   /healthz p50 %s ms, p99 %s ms, max %s ms; %s requests, %s errors\n' \
  "$b50" "$b99" "$bmax" "$breqs" "$berrs"

# The hostile client's own descriptors (a subshell: ffpod keeps the limits it started with).
(
  [ "$(ulimit -Sn)" -ge $((HOSTILE_TOTAL + 64)) ] || ulimit -Sn $((HOSTILE_TOTAL + 64))
  exec "$HOSTILE" "$port" "$HOSTILE_IDLE" "$HOSTILE_SLOW" "$HOSTILE_KEPT" $((SECONDS_LOADED + 8))
) >"$WORK/hostile.txt" &
hostile_pid=$!
PIDS+=("$hostile_pid")
sleep 3 # every hostile connection opened and the table full
read -r p50 p99 max reqs errs <<<"$(measure "$SECONDS_LOADED" hostile)"
read -r answered total slowest <<<"$(probe)"
wait "$hostile_pid" || true
printf 'hostile: /healthz p50 %s ms, p99 %s ms, max %s ms; %s requests, %s errors\n' \
  "$p50" "$p99" "$max" "$reqs" "$errs"
printf 'probes:  %s of %s answered 200 within 1 s, slowest %s ms\n' "$answered" "$total" "$slowest"
cat "$WORK/hostile.txt"
echo
echo "wrk report under the hostile load:"
sed 's/^/  /' "$WORK/wrk-hostile.txt"
echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
ok=1
awk -v p="$p99" -v t="$TARGET_P99_MS" 'BEGIN { exit !(p <= t) }' || { echo "above target: p99 ${p99} ms > ${TARGET_P99_MS} ms"; ok=0; }
[ "$answered" = "$total" ] || { echo "below target: ${answered} of ${total} probes answered"; ok=0; }
[ "$ok" = 1 ] && echo "targets met: p99 ${p99} ms <= ${TARGET_P99_MS} ms; every probe answered"
exit 0
