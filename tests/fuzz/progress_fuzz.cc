// Fuzz target for ProgressParser and ParseClockTime. Besides surviving any input, the parser
// must give the same blocks and error count whole, one byte at a time and in chunks of a size
// taken from the input, must keep its per-block bounds, and must never report a sentinel time.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>
#include <vector>

#include "parsers/ffmpeg/progress.h"

namespace {

struct Run {
  std::vector<ffpod::ProgressBlock> blocks;
  uint64_t errors = 0;
};

Run Feed(std::string_view bytes, size_t chunk) {
  ffpod::ProgressParser parser;
  Run r;
  for (size_t i = 0; i < bytes.size(); i += chunk) parser.Feed(bytes.substr(i, chunk), &r.blocks);
  r.errors = parser.errors();
  return r;
}

void Check(bool ok) {
  if (!ok) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  Run whole = Feed(bytes, bytes.size() + 1);
  Run bytewise = Feed(bytes, 1);
  Run chunked = Feed(bytes, size == 0 ? 1 : 1 + data[0] % 61);
  Check(whole.blocks == bytewise.blocks && whole.errors == bytewise.errors);
  Check(whole.blocks == chunked.blocks && whole.errors == chunked.errors);
  for (const ffpod::ProgressBlock& b : whole.blocks) {
    Check(b.extra.size() <= ffpod::ProgressParser::kMaxExtraKeys);
    Check(b.stream_q.size() <= ffpod::ProgressParser::kMaxStreams);
    Check(b.stream_psnr.size() <= ffpod::ProgressParser::kMaxStreams);
    Check(!b.out_time_us || !ffpod::IsSentinelTime(*b.out_time_us));
    for (const auto& [key, value] : b.extra) {
      Check(!key.empty() && key.size() + value.size() < ffpod::ProgressParser::kMaxLineBytes);
    }
  }
  if (std::optional<int64_t> t = ffpod::ParseClockTime(bytes)) {
    Check(bytes.find(':') != std::string_view::npos);
  }
  return 0;
}
