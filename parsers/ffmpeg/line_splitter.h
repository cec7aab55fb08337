// Splits FFmpeg's stderr byte stream into lines.
//
// FFmpeg ends stats updates with `\r` and everything else with `\n`; `\r\n` counts as one end
// (reported as kCarriageReturn, since the line is delivered as soon as its `\r` arrives).
// Empty lines are skipped. Memory is bounded: a line longer than the limit is delivered once,
// cut at the limit and marked truncated, when its terminator (or Finish) arrives; the bytes
// beyond the limit are dropped. Bytes are not interpreted: invalid UTF-8, NULs and binary noise
// pass through as bytes (the JSON writer sanitises). Any chunking of the input gives the same
// lines. Not thread-safe.
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

  // `max_line_bytes` (at least 1) bounds the bytes kept for one line.
  explicit LineSplitter(size_t max_line_bytes = 16 * 1024);

  // Delivers every line completed by `bytes` to `sink`, in order.
  void Feed(std::string_view bytes, const Sink& sink);
  // Delivers the unterminated tail, if any (end = kEof), and resets the splitter for reuse.
  // Call once at EOF.
  void Finish(const Sink& sink);

  // Lines delivered with truncated = true so far.
  uint64_t truncated_lines() const { return truncated_lines_; }

 private:
  void Append(const char* data, size_t size);
  void Deliver(std::string_view text, LineEnd end, bool truncated, const Sink& sink);

  size_t max_;
  std::string partial_;       // the current line so far, at most max_ bytes
  bool overflowed_ = false;   // the current line is longer than max_; the excess was dropped
  bool last_was_cr_ = false;  // a '\n' right after '\r' ends nothing
  uint64_t truncated_lines_ = 0;
};

}  // namespace ffpod
