#!/usr/bin/env bash
# /metrics under load while ffpod supervises a 1080p libx264 encode.
#
# Runs the same `ffpod run` encode in three ways, with `wrk --latency` on GET /metrics over
# loopback (keep-alive) while ffmpeg encodes:
#   base    no load,
#   paced   wrk held near 2000 req/s (PACED_CONNECTIONS connections, each waiting
#           PACED_DELAY_MS before every request, a wrk Lua `delay()`): the target rate, far
#           above any real scrape rate,
#   sat     wrk as fast as it can: the listener's capacity.
# base and paced alternate for ROUNDS rounds (baseline first, so drift in the machine's load
# hits both alike); sat runs once at the end. For each run it reports the encode's wall time
# (ffmpeg's run time from ffpod's result document) and ffmpeg's CPU time (user+sys, from
# /usr/bin/time), and for loaded runs wrk's requests/s and latency percentiles and the CPU
# ffpod itself spent while serving (from /proc/PID/stat). Medians at the end, with the
# baseline's spread for scale.
#
# CPU placement: wrk is a load generator that would otherwise take the encoder's CPU on a small
# machine (in production the scraper runs elsewhere). So ffmpeg is pinned to ENCODE_CPUS (by a
# wrapper that execs `taskset`) and ffpod (its event loop and HTTP threads) and wrk share
# LOAD_CPUS: the comparison shows the cost of ffpod serving the load, not wrk's own CPU use.
# Other processes on the machine are not pinned: on a shared machine they move to whichever
# CPU is idle, so wall times there also show the load pushing them onto the encoder's CPU;
# ffmpeg's CPU time does not depend on that.
#
# Usage: bench/metrics_load.sh [path/to/ffpod]
# Environment: ROUNDS (3), VIDEO_S (seconds of video, 12), PRESET (veryfast), X264_THREADS (1),
#   WRK_THREADS (1), WRK_CONNECTIONS (4, sat), PACED_CONNECTIONS (12), PACED_DELAY_MS (5),
#   ENCODE_CPUS (0), LOAD_CPUS (1), TARGET_RPS (2000), TARGET_P99_MS (5).
# Needs: ffmpeg, wrk, taskset, jq, curl, /usr/bin/time (Debian: ffmpeg wrk util-linux jq curl
# time).
set -euo pipefail

FFPOD=${1:-${FFPOD:-build/ffpod}}
ROUNDS=${ROUNDS:-3}
VIDEO_S=${VIDEO_S:-12}
PRESET=${PRESET:-veryfast}
X264_THREADS=${X264_THREADS:-1}
WRK_THREADS=${WRK_THREADS:-1}
WRK_CONNECTIONS=${WRK_CONNECTIONS:-4}
PACED_CONNECTIONS=${PACED_CONNECTIONS:-12}
PACED_DELAY_MS=${PACED_DELAY_MS:-5}
ENCODE_CPUS=${ENCODE_CPUS:-0}
LOAD_CPUS=${LOAD_CPUS:-1}
TARGET_RPS=${TARGET_RPS:-2000}
TARGET_P99_MS=${TARGET_P99_MS:-5}

for tool in ffmpeg wrk taskset jq curl /usr/bin/time; do
  command -v "$tool" >/dev/null || { echo "metrics_load: $tool is required" >&2; exit 2; }
done
[ -x "$FFPOD" ] || { echo "metrics_load: no ffpod executable at $FFPOD" >&2; exit 2; }
if [ "$(nproc)" -lt 2 ]; then ENCODE_CPUS=0; LOAD_CPUS=0; fi
TICKS=$(getconf CLK_TCK)

WORK=$(mktemp -d)
FFPOD_PID=
# shellcheck disable=SC2317  # called by the EXIT trap
cleanup() {
  if [ -n "$FFPOD_PID" ]; then kill "$FFPOD_PID" 2>/dev/null || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

# wrk calls delay() before each request of a connection: milliseconds to wait.
echo "function delay() return $PACED_DELAY_MS end" >"$WORK/paced.lua"
# The "ffmpeg" ffpod runs: the real one, pinned, timed.
cat >"$WORK/ffmpeg" <<'EOF'
#!/bin/sh
exec taskset -c "$BENCH_ENCODE_CPUS" /usr/bin/time -f '%e %U %S' -o "$BENCH_TIMES" ffmpeg "$@"
EOF
chmod +x "$WORK/ffmpeg"
export BENCH_ENCODE_CPUS=$ENCODE_CPUS

free_port() {
  # The kernel's choice of an ephemeral port, released at once (as the test harness does).
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])' 2>/dev/null ||
    echo $((20000 + RANDOM % 20000))
}

# "812.34us" / "1.20ms" / "1.01s" -> milliseconds
to_ms() {
  awk -v v="$1" 'BEGIN {
    if (v ~ /us$/) { sub(/us$/, "", v); printf "%.3f", v / 1000 }
    else if (v ~ /ms$/) { sub(/ms$/, "", v); printf "%.3f", v }
    else if (v ~ /s$/) { sub(/s$/, "", v); printf "%.3f", v * 1000 }
    else printf "%s", v }'
}

median() { sort -g | awk '{ a[NR] = $1 } END { if (NR % 2) print a[(NR + 1) / 2]; else printf "%.3f\n", (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }

# utime+stime of a process, in clock ticks.
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }

# One supervised encode (mode base, paced or sat; see the top of this file). Prints
# "<wall s> <ffmpeg cpu s>" and for loaded runs
# " <req/s> <p50 ms> <p90 ms> <p99 ms> <requests> <errors> <ffpod cpu ms per s of load>".
run_once() {
  local mode=$1 port log
  port=$(free_port)
  log="$WORK/ffpod-$mode-$RANDOM.log"
  export BENCH_TIMES="$WORK/times-$RANDOM"
  taskset -c "$LOAD_CPUS" "$FFPOD" run --listen "127.0.0.1:$port" --linger 0 -- \
    "$WORK/ffmpeg" -f lavfi -i "testsrc2=size=1920x1080:rate=30" -t "$VIDEO_S" \
    -c:v libx264 -preset "$PRESET" -threads "$X264_THREADS" -f null - 2>"$log" &
  FFPOD_PID=$!
  local extra=
  if [ "$mode" != base ]; then
    for _ in $(seq 1 500); do
      curl -fs "http://127.0.0.1:$port/metrics" | grep -q '^ffpod_jobs_in_flight 1' && break
      sleep 0.01
    done
    # Load for most of the encode (its length is known from the baseline run before).
    local load_s wrk_args wrk_out t0 t1
    load_s=$(awk -v b="$BASELINE_S" 'BEGIN { d = int(b * 0.7); print (d < 2 ? 2 : d) }')
    wrk_args=(-t"$WRK_THREADS" -c"$WRK_CONNECTIONS")
    if [ "$mode" = paced ]; then wrk_args=(-t"$WRK_THREADS" -c"$PACED_CONNECTIONS" -s "$WORK/paced.lua"); fi
    t0=$(cpu_ticks "$FFPOD_PID")
    wrk_out=$(taskset -c "$LOAD_CPUS" wrk "${wrk_args[@]}" -d"${load_s}s" --latency \
      "http://127.0.0.1:$port/metrics")
    t1=$(cpu_ticks "$FFPOD_PID")
    [ ! -s "$BENCH_TIMES" ] || echo "metrics_load: warning: the encode ended before the load did" >&2
    echo "$wrk_out" >"$WORK/wrk-$mode.txt"
    local rps p50 p90 p99 reqs errs secs cpu
    rps=$(awk '/^Requests\/sec:/ { print $2 }' <<<"$wrk_out")
    p50=$(to_ms "$(awk '$1 == "50%" { print $2 }' <<<"$wrk_out")")
    p90=$(to_ms "$(awk '$1 == "90%" { print $2 }' <<<"$wrk_out")")
    p99=$(to_ms "$(awk '$1 == "99%" { print $2 }' <<<"$wrk_out")")
    reqs=$(awk '/requests in/ { print $1 }' <<<"$wrk_out")
    secs=$(awk '/requests in/ { sub(/s,$/, "", $4); print $4 }' <<<"$wrk_out")
    # "Socket errors: connect 0, read 0, write 0, timeout 0" and "Non-2xx or 3xx responses: N"
    errs=$(awk '/Socket errors:/ { gsub(/,/, ""); n += $4 + $6 + $8 + $10 }
                /Non-2xx/ { n += $NF } END { print n + 0 }' <<<"$wrk_out")
    cpu=$(awk -v a="$t0" -v b="$t1" -v hz="$TICKS" -v s="$secs" 'BEGIN { printf "%.0f", (b - a) / hz * 1000 / s }')
    extra=" $rps $p50 $p90 $p99 $reqs $errs $cpu"
  fi
  wait "$FFPOD_PID" || { echo "metrics_load: ffpod run failed" >&2; cat "$log" >&2; exit 1; }
  FFPOD_PID=
  local wall ffcpu
  wall=$(grep '"msg":"job finished' "$log" | jq -r '.result.duration_s')
  ffcpu=$(awk '{ printf "%.2f", $2 + $3 }' "$BENCH_TIMES")
  echo "$wall $ffcpu$extra"
}

echo "ffpod:   $("$FFPOD" --version)"
echo "ffmpeg:  $(ffmpeg -hide_banner -version | head -1)"
echo "machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "encode:  ${VIDEO_S}s of 1920x1080@30 testsrc2, libx264 -preset $PRESET -threads $X264_THREADS, -f null"
echo "cpus:    ffmpeg on $ENCODE_CPUS; ffpod and wrk on $LOAD_CPUS"
echo "load:    paced: wrk -t$WRK_THREADS -c$PACED_CONNECTIONS, ${PACED_DELAY_MS} ms delay per request; sat: wrk -t$WRK_THREADS -c$WRK_CONNECTIONS"
echo

# Warm-up (page cache, x264 tables), not counted.
BASELINE_S=$VIDEO_S
run_once base >/dev/null

base_wall=() base_cpu=() paced_wall=() paced_cpu=() rps_list=() p99_list=() srv_list=()
for r in $(seq 1 "$ROUNDS"); do
  read -r bw bc <<<"$(run_once base)"
  BASELINE_S=$bw
  base_wall+=("$bw")
  base_cpu+=("$bc")
  printf 'round %d base:  encode %.3fs wall, ffmpeg %.2fs cpu\n' "$r" "$bw" "$bc"
  read -r w c rps p50 p90 p99 reqs errs srv <<<"$(run_once paced)"
  paced_wall+=("$w")
  paced_cpu+=("$c")
  rps_list+=("$rps")
  p99_list+=("$p99")
  srv_list+=("$srv")
  printf 'round %d paced: encode %.3fs wall, ffmpeg %.2fs cpu; %s req/s, p50 %s ms, p90 %s ms, p99 %s ms, %s requests, %s errors; ffpod %s ms cpu/s\n' \
    "$r" "$w" "$c" "$rps" "$p50" "$p90" "$p99" "$reqs" "$errs" "$srv"
done
read -r sw sc srps sp50 sp90 sp99 sreqs serrs ssrv <<<"$(run_once sat)"
printf 'sat:           encode %.3fs wall, ffmpeg %.2fs cpu; %s req/s, p50 %s ms, p90 %s ms, p99 %s ms, %s requests, %s errors; ffpod %s ms cpu/s\n' \
  "$sw" "$sc" "$srps" "$sp50" "$sp90" "$sp99" "$sreqs" "$serrs" "$ssrv"

for mode in paced sat; do
  echo
  echo "last $mode wrk report:"
  sed 's/^/  /' "$WORK/wrk-$mode.txt"
done
echo
med() { printf '%s\n' "$@" | median; }
pct() { awk -v b="$1" -v l="$2" 'BEGIN { printf "%+.1f", (l - b) / b * 100 }'; }
bw=$(med "${base_wall[@]}")
bc=$(med "${base_cpu[@]}")
pw=$(med "${paced_wall[@]}")
pc=$(med "${paced_cpu[@]}")
rps=$(med "${rps_list[@]}")
p99=$(med "${p99_list[@]}")
srv=$(med "${srv_list[@]}")
spread=$(printf '%s\n' "${base_wall[@]}" | sort -g | awk '{ a[NR] = $1 } END { printf "%.3f", a[NR] - a[1] }')
echo "encode wall (median): ${bw}s without load, ${pw}s paced ($(pct "$bw" "$pw")%), ${sw}s saturated ($(pct "$bw" "$sw")%); baseline spread ${spread}s"
echo "ffmpeg cpu (median):  ${bc}s without load, ${pc}s paced ($(pct "$bc" "$pc")%), ${sc}s saturated ($(pct "$bc" "$sc")%)"
echo "/metrics paced:       ${rps} req/s, p99 ${p99} ms, ffpod ${srv} ms cpu per second"
echo "/metrics saturated:   ${srps} req/s, p99 ${sp99} ms, ffpod ${ssrv} ms cpu per second"
echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
ok=1
awk -v r="$srps" -v t="$TARGET_RPS" 'BEGIN { exit !(r >= t) }' || { echo "below target: capacity ${srps} req/s < ${TARGET_RPS}"; ok=0; }
awk -v r="$rps" -v t="$TARGET_RPS" 'BEGIN { exit !(r >= t) }' || echo "note: the paced rate ${rps} req/s is under ${TARGET_RPS}; raise PACED_CONNECTIONS"
awk -v p="$p99" -v t="$TARGET_P99_MS" 'BEGIN { exit !(p <= t) }' || { echo "above target: p99 ${p99} ms > ${TARGET_P99_MS} ms at ${rps} req/s"; ok=0; }
[ "$ok" = 1 ] && echo "targets met: capacity ${srps} >= ${TARGET_RPS} req/s; p99 ${p99} ms <= ${TARGET_P99_MS} ms at ${rps} req/s"
exit 0
