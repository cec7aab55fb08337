// Fuzz target for ParseStatsLine and ToProgressBlock, on the whole input and on each of its
// lines. A parsed line never carries a sentinel time, its size is whole KiB, and the progress
// block built from it carries the same values.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "parsers/ffmpeg/stats_line.h"

namespace {

void Check(bool ok) {
  if (!ok) std::abort();
}

void One(std::string_view line) {
  std::optional<ffpod::StatsLine> s = ffpod::ParseStatsLine(line);
  if (!s) return;
  Check(s == ffpod::ParseStatsLine(line));
  Check(!s->time_us || !ffpod::IsSentinelTime(*s->time_us));
  Check(!s->size_bytes || (*s->size_bytes >= 0 && *s->size_bytes % 1024 == 0));
  ffpod::ProgressBlock b = ffpod::ToProgressBlock(*s);
  Check(b.frame == s->frame && b.out_time_us == s->time_us && b.speed == s->speed &&
        b.total_size_bytes == s->size_bytes && b.end == s->last && b.stream_q.empty());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  One(bytes);
  size_t start = 0;
  for (size_t i = 0; i <= bytes.size(); ++i) {
    if (i == bytes.size() || bytes[i] == '\r' || bytes[i] == '\n') {
      if (i > start) One(bytes.substr(start, i - start));
      start = i + 1;
    }
  }
  return 0;
}
