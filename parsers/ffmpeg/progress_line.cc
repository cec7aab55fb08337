#include "parsers/ffmpeg/progress_line.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>

namespace ffpod {

namespace {

template <typename... Args>
std::string Printf(const char* format, Args... args) {
  char buf[64];
  int n = std::snprintf(buf, sizeof buf, format, args...);
  return n < 0 ? std::string()
               : std::string(buf, std::min<size_t>(static_cast<size_t>(n), sizeof buf - 1));
}

// H:MM:SS, with tenths when `tenths`.
std::string Clock(double seconds, bool tenths) {
  seconds = std::max(0.0, std::min(seconds, 1e9));
  if (!tenths) seconds = std::ceil(seconds);
  auto whole = static_cast<int64_t>(seconds);
  std::string out =
      Printf("%lld:%02lld:%02lld", static_cast<long long>(whole / 3600),
             static_cast<long long>(whole / 60 % 60), static_cast<long long>(whole % 60));
  if (tenths) out += Printf(".%d", static_cast<int>((seconds - static_cast<double>(whole)) * 10));
  return out;
}

std::string Size(int64_t bytes) {
  double b = static_cast<double>(std::max<int64_t>(0, bytes));
  if (b < 1024) return Printf("%.0f B", b);
  if (b < 1024.0 * 1024) return Printf("%.0f KiB", b / 1024);
  if (b < 1024.0 * 1024 * 1024) return Printf("%.1f MiB", b / (1024.0 * 1024));
  return Printf("%.2f GiB", b / (1024.0 * 1024 * 1024));
}

std::string Bitrate(double bps) {
  if (bps >= 10e6) return Printf("%.1f Mbit/s", bps / 1e6);
  if (bps >= 10e3) return Printf("%.0f kbit/s", bps / 1e3);
  return Printf("%.1f kbit/s", bps / 1e3);  // the first blocks: a header over a short time
}

}  // namespace

std::string FormatProgressLine(const ProgressView& v) {
  std::string out;
  auto add = [&out](const std::string& part) {
    if (!out.empty()) out += ' ';
    out += part;
  };
  if (v.ratio) {
    add(Printf("%5.1f%%", std::clamp(*v.ratio, 0.0, 1.0) * 100));
    if (v.eta_s) add("ETA " + Clock(*v.eta_s, false));
  } else if (v.out_time_s) {
    add("time " + Clock(*v.out_time_s, true));
  }
  if (v.speed) add(Printf("speed %.2fx", *v.speed));
  if (v.fps) add(*v.fps >= 10 ? Printf("fps %.0f", *v.fps) : Printf("fps %.1f", *v.fps));
  if (v.total_size_bytes) add("size " + Size(*v.total_size_bytes));
  if (v.bitrate_bps && *v.bitrate_bps > 0) add("bitrate " + Bitrate(*v.bitrate_bps));
  return out;
}

}  // namespace ffpod
