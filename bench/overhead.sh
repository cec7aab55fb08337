#!/usr/bin/env bash
# Whole-process overhead of supervising one 1080p libx264 encode, side by side in one run:
# bare ffmpeg, `tini --` ffmpeg, fluent-ffmpeg (Node.js, installed here from npm, not committed)
# and `ffpod run`. Rounds are interleaved so that machine load hits every variant alike.
#
#   bench/overhead.sh [rounds] [seconds of video]      (defaults: 3 rounds, 10 s)
#
# Needs a built ffpod (build/ffpod or $FFPOD), tini, node and npm. Prints a Markdown table:
# wall time per variant (median), its ratio to bare ffmpeg, ffpod's own CPU as a share of
# ffmpeg's, and ffpod's own peak RSS (both from ffpod's final log record).
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-3}
seconds=${2:-10}
ffpod=${FFPOD:-build/ffpod}
work=$(mktemp -d /tmp/ffpod-overhead-XXXXXX)
trap 'rm -rf "$work"' EXIT

if [[ ! -d bench/node_modules/fluent-ffmpeg ]]; then
  npm install --prefix bench --no-save --no-audit --no-fund fluent-ffmpeg@2.1.3 >/dev/null
fi
export NODE_PATH="$PWD/bench/node_modules"

src="testsrc2=size=1920x1080:rate=30"
enc=(-t "$seconds" -c:v libx264 -preset veryfast)

now() { date +%s.%N; }
run_variant() {
  local name=$1 out="$work/$1.mp4" t0 t1
  rm -f "$out"
  t0=$(now)
  case $name in
    ffmpeg) /usr/bin/time -f "%U %S" -o "$work/time" \
              ffmpeg -nostdin -hide_banner -loglevel error -f lavfi -i "$src" "${enc[@]}" -y "$out" ;;
    tini)   /usr/bin/time -f "%U %S" -o "$work/time" \
              tini -s -- ffmpeg -nostdin -hide_banner -loglevel error -f lavfi -i "$src" "${enc[@]}" -y "$out" ;;
    fluent) /usr/bin/time -f "%U %S" -o "$work/time" \
              node bench/fluent/progress.js "$src" "$seconds" "$out" >"$work/fluent.out" 2>/dev/null ;;
    ffpod)  /usr/bin/time -f "%U %S" -o "$work/time" \
              "$ffpod" run --listen 127.0.0.1:0 -- \
              ffmpeg -f lavfi -i "$src" "${enc[@]}" -y "$out" 2>"$work/ffpod.log" ;;
  esac
  t1=$(now)
  local cpu
  cpu=$(awk '{print $1 + $2}' "$work/time")  # the variant and all its children
  echo "$name $(echo "$t1 - $t0" | bc -l) $cpu" >>"$work/results"
  if [[ $name == ffpod ]]; then
    grep '"job finished' "$work/ffpod.log" |
      sed -E 's/.*"ffpod":\{"cpu_s":([0-9.e-]+),"max_rss_kib":([0-9]+)\}.*/\1 \2/' >>"$work/ffpod_self"
  fi
  if [[ $name == fluent ]]; then
    sed -nE 's/node_cpu_s=([0-9.]+) node_max_rss_kib=([0-9]+)/\1 \2/p' "$work/fluent.out" >>"$work/fluent_self"
  fi
}

ffmpeg -nostdin -hide_banner -loglevel error -f lavfi -i "$src" -t 1 -c:v libx264 -preset veryfast \
  -y "$work/warmup.mp4"
for r in $(seq "$rounds"); do
  for v in ffmpeg tini fluent ffpod; do run_variant "$v"; done
done

median() { sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
bare=$(awk '$1=="ffmpeg" {print $2}' "$work/results" | median)
bare_cpu=$(awk '$1=="ffmpeg" {print $3}' "$work/results" | median)
echo "1080p libx264 veryfast, ${seconds} s of video, ${rounds} interleaved rounds, $(nproc) cores, $(date -u +%F)"
echo
echo "| variant | wall s (median) | wall / bare ffmpeg | wrapper's own CPU s | own CPU / ffmpeg CPU | own peak RSS |"
echo "|---|---|---|---|---|---|"
for v in ffmpeg tini fluent ffpod; do
  w=$(awk -v v="$v" '$1==v {print $2}' "$work/results" | median)
  ratio=$(echo "$w / $bare" | bc -l)
  own="-"; share="-"; rss="-"
  if [[ $v == ffpod ]]; then
    own=$(awk '{print $1}' "$work/ffpod_self" | median)
    rss="$(awk '{print $2}' "$work/ffpod_self" | sort -n | tail -1) KiB"
  elif [[ $v == fluent ]]; then
    own=$(awk '{print $1}' "$work/fluent_self" | median)
    rss="$(awk '{print $2}' "$work/fluent_self" | sort -n | tail -1) KiB"
  fi
  [[ $own != "-" ]] && share=$(printf '%.3f %%' "$(echo "100 * $own / $bare_cpu" | bc -l)")
  printf '| %s | %.2f | %.4f | %s | %s | %s |\n' "$v" "$w" "$ratio" "$own" "$share" "$rss"
done
