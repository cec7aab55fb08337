#!/usr/bin/env bash
# What output verification adds to a job (docs/verification.md): a one-minute 1080p libx264
# encode under `ffpod run --output`, with --verify-outputs on and off in interleaved rounds, and
# the verification's own commands (the ffprobe and the tail decode ffpod runs, exactly as it runs
# them) timed on that output and on a 20-minute one, to show the cost does not grow with the
# length of the output.
#
#   bench/verify_cost.sh [rounds] [seconds of video] [x264 preset]
#                                          (defaults: 2 rounds, 60 s, veryfast)
#
# Needs a built ffpod (build/ffpod or $FFPOD). Prints Markdown tables.
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-2}
seconds=${2:-60}
preset=${3:-veryfast}
ffpod=${FFPOD:-build/ffpod}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# The input: 1080p30 video and stereo AAC, a real file so that every check applies (its duration
# is known, its streams are mapped).
ffmpeg -nostdin -hide_banner -loglevel error -f lavfi -i "testsrc2=size=1920x1080:rate=30" \
  -f lavfi -i "sine=frequency=440:sample_rate=48000" -t "$seconds" -ac 2 \
  -c:v libx264 -preset ultrafast -c:a aac -y "$work/in.mp4"

now() { date +%s.%N; }
encode() {  # $1: on|off
  local out="$work/out-$1.mp4" t0 t1
  rm -f "$out"
  t0=$(now)
  "$ffpod" run --listen "" --verify-outputs="$([[ $1 == on ]] && echo true || echo false)" \
    --output "$out" -- ffmpeg -i "$work/in.mp4" -map 0:v -map 0:a -c:v libx264 -preset "$preset" \
    -c:a aac "$out" 2>"$work/ffpod-$1.log"
  t1=$(now)
  grep -q '"verification":{"status":"'"$([[ $1 == on ]] && echo passed || echo off)"'"' \
    "$work/ffpod-$1.log" || { echo "verification did not report $1" >&2; exit 1; }
  echo "$1 $(echo "$t1 - $t0" | bc -l)" >>"$work/results"
}
for r in $(seq "$rounds"); do
  if ((r % 2)); then encode off; encode on; else encode on; encode off; fi
done

# The two commands of verification, as ffpod runs them (parsers/policy/output_verdict.h).
checks() {  # $1: file; prints seconds for ffprobe and the tail decode
  local t0 t1 t2
  t0=$(now)
  ffprobe -v error -show_entries format=duration:stream=codec_type -of json "$1" >/dev/null
  t1=$(now)
  ffmpeg -nostdin -v error -sseof -1 -i "$1" -f null - </dev/null
  t2=$(now)
  echo "$(echo "$t1 - $t0" | bc -l) $(echo "$t2 - $t1" | bc -l)"
}
ffmpeg -nostdin -hide_banner -loglevel error -stream_loop 19 -i "$work/out-on.mp4" -c copy \
  -y "$work/long.mp4"
for f in out-on long; do
  for i in 1 2 3 4 5; do echo "$f $(checks "$work/$f.mp4")" >>"$work/checks"; done
done

median() { sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
off=$(awk '$1=="off" {print $2}' "$work/results" | median)
on=$(awk '$1=="on" {print $2}' "$work/results" | median)
echo "1080p30 libx264 $preset + AAC, ${seconds} s of media, ${rounds} interleaved rounds, $(nproc) cores, $(date -u +%F)"
echo
echo "| --verify-outputs | wall s (median) | / off |"
echo "|---|---|---|"
echo "| false | $(printf %.2f "$off") | 1.0000 |"
echo "| true | $(printf %.2f "$on") | $(printf %.4f "$(echo "$on / $off" | bc -l)") |"
echo
echo "| output | media s | ffprobe s (median of 5) | tail decode s | both / encode wall (false) |"
echo "|---|---|---|---|---|"
for f in out-on long; do
  p=$(awk -v f="$f" '$1==f {print $2}' "$work/checks" | median)
  d=$(awk -v f="$f" '$1==f {print $3}' "$work/checks" | median)
  dur=$(ffprobe -v error -show_entries format=duration -of csv=p=0 "$work/$f.mp4")
  share=$(printf '%.3f %%' "$(echo "100 * ($p + $d) / $off" | bc -l)")
  echo "| $f.mp4 | $(printf %.1f "$dur") | $(printf %.3f "$p") | $(printf %.3f "$d") | $share |"
done
