#!/usr/bin/env bash
# The static ffpod runs in a foreign image: an empty chroot holding only the binary (at
# /ffpod/ffpod, where injection mode puts it), /etc/hosts, /dev/null (which every container
# runtime provides), a static stand-in for ffmpeg and ffprobe, and its recordings. No shell, no
# libc, no /proc, no /tmp. Against a real redis-server
# on loopback (reached by a name from /etc/hosts, with a password) it must:
#   - enqueue two jobs (ffpod enqueue),
#   - work them off (ffpod worker): one succeeds with its output published atomically, its
#     progress, size and sha256 in the result; one fails as input_invalid and goes to dead,
#   - serve /metrics, /readyz and /status, and drain and exit 0 on SIGTERM,
#   - run one job in Job mode (ffpod run --exit-codes classified): exit 11 for input_invalid
#     with the summary in the termination log, exit 0 for a success.
#
# Usage: static_chroot_test.sh [STATIC_FFPOD] [STATIC_FAKE_FFMPEG]
#   STATIC_FFPOD        default $FFPOD_STATIC_BINARY, else build-static/ffpod-static (scripts/build-static)
#   STATIC_FAKE_FFMPEG  default $FFPOD_FAKE_FFMPEG, else compiled here from
#                       static_chroot_fake_ffmpeg.cc with c++ -static
# Needs root (chroot) or unprivileged user namespaces (unshare -r), redis-server, redis-cli, curl.
# Exit status: 0 passed, 1 failed, 77 skipped (no static ffpod, or no way to chroot).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root_dir=$(cd "$here/../../.." && pwd)
fixtures="$root_dir/tests/fixtures"
ffpod=${1:-${FFPOD_STATIC_BINARY:-$root_dir/build-static/ffpod-static}}
fake=${2:-${FFPOD_FAKE_FFMPEG:-}}

skip() {
  echo "SKIPPED: $*" >&2
  exit 77
}
fail() {
  echo "FAILED: $*" >&2
  if [[ -n "${worker_log:-}" && -f "$worker_log" ]]; then
    echo "--- worker log (last 40 lines)" >&2
    tail -n 40 "$worker_log" >&2
  fi
  exit 1
}
pass() {
  echo "ok: $*"
}

is_static() {  # no program interpreter and no dynamic section
  ! readelf -lW "$1" 2>/dev/null | grep -q 'INTERP' && ! readelf -d "$1" 2>/dev/null | grep -q 'NEEDED'
}

[[ -x "$ffpod" ]] || skip "no static ffpod at $ffpod (run scripts/build-static, or set FFPOD_STATIC_BINARY)"
for tool in readelf redis-server redis-cli curl sha256sum; do
  command -v "$tool" >/dev/null || skip "$tool is not installed"
done
is_static "$ffpod" || fail "$ffpod is dynamically linked: it would not start in an image without its libraries"

work=$(mktemp -d "${TMPDIR:-/tmp}/ffpod-chroot.XXXXXX")
redis_pid=""
worker_pid=""
cleanup() {
  if [[ -n "$worker_pid" ]]; then kill -KILL "$worker_pid" 2>/dev/null || true; fi
  if [[ -n "$redis_pid" ]]; then kill -KILL "$redis_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

if [[ -z "$fake" ]]; then
  command -v c++ >/dev/null || skip "no fake ffmpeg given and no c++ to build one"
  fake="$work/fake-ffmpeg"
  c++ -std=c++20 -O2 -static -o "$fake" "$here/static_chroot_fake_ffmpeg.cc"
fi
is_static "$fake" || fail "$fake (the fake ffmpeg) is dynamically linked"

# --- the chroot: nothing but these files --------------------------------------------------
jail="$work/root"
mkdir -p "$jail/ffpod" "$jail/usr/bin" "$jail/etc" "$jail/dev" "$jail/fixtures" "$jail/media" \
  "$jail/work"
cp "$ffpod" "$jail/ffpod/ffpod"
cp "$fake" "$jail/usr/bin/ffmpeg"
cp "$fake" "$jail/usr/bin/ffprobe"
printf '127.0.0.1\tlocalhost\n127.0.0.1\tredis.chroot.test\n' >"$jail/etc/hosts"
# clip: a recorded 8 s 720p x264+aac encode (200 frames). truncated: an MP4 without moov.
cp "$fixtures/stderr/ff5.1-video-audio.stderr" "$jail/fixtures/clip.stderr"
cp "$fixtures/progress/ff5.1-video-audio.progress" "$jail/fixtures/clip.progress"
echo 8.000000 >"$jail/fixtures/clip.duration"
cp "$fixtures/failures/input-truncated-mp4-tagged.stderr" "$jail/fixtures/truncated.stderr"
echo 1 >"$jail/fixtures/truncated.exit"
: >"$jail/work/termination-log"
chmod -R a+rwX "$jail/work"

# /dev/null: a device node as root; otherwise the host's, bound in a user and mount namespace.
if [[ $(id -u) -eq 0 ]] && mknod -m 666 "$jail/dev/null" c 1 3 2>/dev/null &&
  chroot "$jail" /ffpod/ffpod --version >/dev/null 2>&1; then
  in_jail=(chroot "$jail")
else
  rm -f "$jail/dev/null"
  : >"$jail/dev/null"
  # shellcheck disable=SC2016
  in_jail=(unshare -r -m -- sh -c 'mount --bind /dev/null "$0/dev/null" && exec chroot "$0" "$@"'
    "$jail")
  "${in_jail[@]}" /ffpod/ffpod --version >/dev/null 2>&1 ||
    skip "cannot chroot: neither root nor unprivileged user and mount namespaces"
fi
version=$("${in_jail[@]}" /ffpod/ffpod --version)
[[ "$version" == ffpod\ * ]] || fail "ffpod --version in the chroot printed: $version"
pass "starts in an empty chroot: $version"

# --- Redis on loopback, with a password ---------------------------------------------------
password="s3cret-chroot"
redis_port=""
for _ in $(seq 1 20); do
  port=$((20000 + RANDOM % 40000))
  redis-server --port "$port" --bind 127.0.0.1 --requirepass "$password" --save '' \
    --appendonly no --dir "$work" --logfile "$work/redis.log" &
  redis_pid=$!
  disown "$redis_pid"
  for _ in $(seq 1 50); do
    if redis-cli -p "$port" -a "$password" --no-auth-warning ping 2>/dev/null | grep -q PONG; then
      redis_port=$port
      break 2
    fi
    kill -0 "$redis_pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -KILL "$redis_pid" 2>/dev/null || true
  redis_pid=""
done
[[ -n "$redis_port" ]] || fail "redis-server did not start"
rcli() {
  redis-cli -p "$redis_port" -a "$password" --no-auth-warning "$@"
}
url="redis://:$password@redis.chroot.test:$redis_port/0"

# --- enqueue ------------------------------------------------------------------------------
id=$("${in_jail[@]}" /ffpod/ffpod enqueue --redis "$url" --id clip-1 --output /work/clip.mp4 -- \
  -i /media/clip.mp4 -c:v libx264 -c:a aac /work/clip.mp4) || fail "ffpod enqueue failed"
[[ "$id" == clip-1 ]] || fail "ffpod enqueue printed \"$id\", expected clip-1"
"${in_jail[@]}" /ffpod/ffpod enqueue --redis "$url" --id bad-1 -- \
  -i /media/truncated.mp4 -f null - >/dev/null || fail "ffpod enqueue of bad-1 failed"
[[ $(rcli LLEN ffpod:pending) == 2 ]] || fail "expected 2 jobs in ffpod:pending"
pass "enqueue: 2 jobs pending, Redis reached by /etc/hosts name with AUTH"

# --- worker -------------------------------------------------------------------------------
http_port=$((20000 + RANDOM % 40000))
worker_log="$work/worker.log"
# The stand-in writes bytes, not media: output verification (docs/verification.md, tested with
# the real ffmpeg in verification_test.cc) would rightly reject them, so it is off here.
"${in_jail[@]}" /ffpod/ffpod worker --redis "$url" --worker-id chroot-w1 \
  --listen "127.0.0.1:$http_port" --ffmpeg /usr/bin/ffmpeg --ffprobe /usr/bin/ffprobe \
  --verify-outputs=false --heartbeat 1 --grace-period 20 --drain-margin 5 2>"$worker_log" &
worker_pid=$!

wait_for() {  # wait_for SECONDS DESCRIPTION COMMAND...
  local limit=$1 what=$2
  shift 2
  local deadline=$((SECONDS + limit))
  until "$@"; do
    kill -0 "$worker_pid" 2>/dev/null || fail "the worker exited while waiting for $what"
    ((SECONDS < deadline)) || fail "timed out after ${limit}s waiting for $what"
    sleep 0.1
  done
}
state_is() {
  [[ $(rcli HGET "ffpod:job:$1" state) == "$2" ]]
}
wait_for 30 "clip-1 to succeed" state_is clip-1 succeeded
wait_for 30 "bad-1 to go to dead" state_is bad-1 dead

result=$(rcli HGET ffpod:job:clip-1 result)
want_bytes=$(stat -c %s "$jail/fixtures/clip.progress")
want_sha=$(sha256sum "$jail/fixtures/clip.progress" | cut -d' ' -f1)
for field in '"status":"succeeded"' '"reason":"ok"' '"frames":200' '"out_time_s":8' \
  "\"bytes\":$want_bytes" "\"sha256\":\"$want_sha\"" '"path":"/work/clip.mp4"' \
  '"version":"5.1.9-0+deb12u1"' '"id":"chroot-w1"'; do
  grep -qF -- "$field" <<<"$result" || fail "clip-1 result lacks $field: $result"
done
cmp -s "$jail/work/clip.mp4" "$jail/fixtures/clip.progress" ||
  fail "/work/clip.mp4 in the chroot is not what ffmpeg wrote"
[[ -z $(find "$jail/work" -name '*.ffpod-*' -o -name '.*clip*' | head -1) ]] ||
  fail "a temporary output was left behind: $(ls -a "$jail/work")"
pass "worker: clip-1 succeeded, 200 frames, output published with its size and sha256"

bad=$(rcli HGET ffpod:job:bad-1 result)
for field in '"reason":"input_invalid"' 'moov atom not found'; do
  grep -qF -- "$field" <<<"$bad" || fail "bad-1 result lacks $field: $bad"
done
[[ $(rcli LLEN ffpod:dead) == 1 ]] || fail "expected bad-1 in ffpod:dead"
pass "worker: bad-1 classified input_invalid from ffmpeg's stderr and dead-lettered"

# The counters follow Redis' acknowledgement of each result by a moment: poll briefly.
expected=('ffpod_jobs_total{result="succeeded",reason="ok"} 1'
  'ffpod_jobs_total{result="dead",reason="input_invalid"} 1' 'ffpod_frames_total 200'
  'ffpod_redis_up 1' 'ffpod_ready 1' 'ffpod_jobs_in_flight 0')
deadline=$((SECONDS + 10))
while :; do
  metrics=$(curl -fsS "http://127.0.0.1:$http_port/metrics") || fail "GET /metrics failed"
  missing=""
  for line in "${expected[@]}"; do
    grep -qxF -- "$line" <<<"$metrics" || { missing=$line; break; }
  done
  [[ -z "$missing" ]] && break
  ((SECONDS < deadline)) || fail "/metrics lacks the line: $missing"
  sleep 0.1
done
grep -q '^ffpod_build_info{.*ffmpeg_version="5.1.9-0+deb12u1".*} 1$' <<<"$metrics" ||
  fail "/metrics lacks ffpod_build_info with the ffmpeg version"
if command -v promtool >/dev/null; then
  promtool check metrics <<<"$metrics" || fail "promtool check metrics failed"
fi
[[ $(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$http_port/readyz") == 200 ]] ||
  fail "/readyz is not 200"
curl -fsS "http://127.0.0.1:$http_port/status" | grep -qF '"state":"idle"' || fail "/status is not idle"
pass "HTTP: /metrics (promtool-clean), /readyz 200, /status idle"

kill -TERM "$worker_pid"
deadline=$((SECONDS + 20))
while kill -0 "$worker_pid" 2>/dev/null; do
  ((SECONDS < deadline)) || fail "the worker did not exit within its 20 s grace period"
  sleep 0.1
done
status=0
wait "$worker_pid" || status=$?
worker_pid=""
[[ $status == 0 ]] || fail "the worker exited $status after SIGTERM, expected 0"
pass "worker drained and exited 0 on SIGTERM"

# --- Job mode -----------------------------------------------------------------------------
status=0
"${in_jail[@]}" /ffpod/ffpod run --exit-codes classified --listen '' \
  --termination-log /work/termination-log -- /usr/bin/ffmpeg -i /media/truncated.mp4 -f null - \
  2>"$work/run-bad.log" || status=$?
[[ $status == 11 ]] || fail "ffpod run of an invalid input exited $status, expected 11 (input_invalid)"
grep -qF input_invalid "$jail/work/termination-log" ||
  fail "the termination log does not name input_invalid: $(cat "$jail/work/termination-log")"
status=0
"${in_jail[@]}" /ffpod/ffpod run --exit-codes classified --listen '' -- \
  /usr/bin/ffmpeg -i /media/clip.mp4 -c:v libx264 /work/run.mp4 2>"$work/run-ok.log" || status=$?
[[ $status == 0 ]] || fail "ffpod run of a good job exited $status: $(tail -n 5 "$work/run-ok.log")"
cmp -s "$jail/work/run.mp4" "$jail/fixtures/clip.progress" || fail "ffpod run left no output"
pass "run --exit-codes classified: 11 with the termination log for input_invalid, 0 for a success"

echo "static chroot test passed ($ffpod)"
