// Fuzz target for LineSplitter. Lines must be the same whole, one byte at a time and in chunks
// of a size taken from the input; every line is non-empty, holds no terminator and is at most
// the limit long, and the truncation count matches the lines marked truncated.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "parsers/ffmpeg/line_splitter.h"

namespace {

struct Line {
  std::string text;
  ffpod::LineEnd end;
  bool truncated;
  bool operator==(const Line&) const = default;
};

struct Run {
  std::vector<Line> lines;
  uint64_t truncated = 0;
};

Run Split(std::string_view bytes, size_t chunk, size_t max) {
  ffpod::LineSplitter splitter(max);
  Run r;
  auto sink = [&r](const ffpod::SplitLine& l) {
    r.lines.push_back({std::string(l.text), l.end, l.truncated});
  };
  for (size_t i = 0; i < bytes.size(); i += chunk) splitter.Feed(bytes.substr(i, chunk), sink);
  splitter.Finish(sink);
  r.truncated = splitter.truncated_lines();
  return r;
}

void Check(bool ok) {
  if (!ok) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  // A small limit from the input exercises truncation; the default one the common path.
  const size_t max = size == 0 ? 1 : 1 + data[size - 1] % 97;
  for (size_t limit : {max, size_t{16 * 1024}}) {
    Run whole = Split(bytes, bytes.size() + 1, limit);
    Run bytewise = Split(bytes, 1, limit);
    Run chunked = Split(bytes, size == 0 ? 1 : 1 + data[0] % 31, limit);
    Check(whole.lines == bytewise.lines && whole.truncated == bytewise.truncated);
    Check(whole.lines == chunked.lines && whole.truncated == chunked.truncated);
    uint64_t marked = 0;
    size_t total = 0;
    for (const Line& l : whole.lines) {
      Check(!l.text.empty() && l.text.size() <= limit);
      Check(l.text.find_first_of("\r\n") == std::string::npos);
      if (l.truncated) {
        ++marked;
        Check(l.text.size() == limit);
      }
      total += l.text.size();
    }
    Check(marked == whole.truncated);
    Check(total <= size);
  }
  return 0;
}
