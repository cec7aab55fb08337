// Splits FFmpeg's stderr byte stream into lines.
//
// FFmpeg ends stats updates with `\r` and everything else with `\n`; `\r\n` counts as one end.
// Empty lines are skipped. Memory is bounded: a line longer than the limit is delivered once,
// cut at the limit and marked truncated, and the rest of it is dropped up to the next terminator.
// Bytes are not interpreted: invalid UTF-8 and binary noise pass through as bytes (the JSON
// writer sanitises). Not thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

namespace ffpod {

enum class LineEnd { kNewline, kCarriageReturn, kEof };

struct SplitLine {
  std::string_view text;  // without the terminator; valid only during the callback
  LineEnd end = LineEnd::kNewline;
  bool truncated = false;  // the original line was longer than the limit
};

class LineSplitter {
 public:
  using Sink = std::function<void(const SplitLine&)>;

  explicit LineSplitter(size_t max_line_bytes = 16 * 1024);

  // Delivers every line completed by `bytes` to `sink`, in order.
  void Feed(std::string_view bytes, const Sink& sink);
  // Delivers the unterminated tail, if any (end = kEof). Call once at EOF.
  void Finish(const Sink& sink);

  uint64_t truncated_lines() const { return truncated_lines_; }

 private:
  size_t max_;
  std::string partial_;
  bool overflowed_ = false;  // partial_ was already delivered truncated; dropping until terminator
  bool last_was_cr_ = false; // a '\n' right after '\r' ends nothing
  uint64_t truncated_lines_ = 0;
};

}  // namespace ffpod
