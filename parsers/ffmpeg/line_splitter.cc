#include "parsers/ffmpeg/line_splitter.h"

#include <algorithm>

namespace ffpod {
namespace {

// First '\r' or '\n' in [p, end), or end.
const char* FindTerminator(const char* p, const char* end) {
  while (p < end && *p != '\n' && *p != '\r') ++p;
  return p;
}

}  // namespace

LineSplitter::LineSplitter(size_t max_line_bytes) : max_(std::max<size_t>(max_line_bytes, 1)) {}

void LineSplitter::Feed(std::string_view bytes, const Sink& sink) {
  const char* p = bytes.data();
  const char* const end = p + bytes.size();
  while (p < end) {
    if (last_was_cr_) {
      last_was_cr_ = false;
      if (*p == '\n') {
        ++p;
        continue;
      }
    }
    const char* t = FindTerminator(p, end);
    if (t == end) {
      Append(p, end - p);
      return;
    }
    LineEnd line_end = *t == '\r' ? LineEnd::kCarriageReturn : LineEnd::kNewline;
    size_t len = t - p;
    if (partial_.empty() && !overflowed_) {
      // Fast path: the whole line is in `bytes`; deliver it without copying.
      if (len > max_) {
        Deliver(std::string_view(p, max_), line_end, true, sink);
      } else {
        Deliver(std::string_view(p, len), line_end, false, sink);
      }
    } else {
      Append(p, len);
      Deliver(partial_, line_end, overflowed_, sink);
      partial_.clear();
      overflowed_ = false;
    }
    last_was_cr_ = line_end == LineEnd::kCarriageReturn;
    p = t + 1;
  }
}

void LineSplitter::Finish(const Sink& sink) {
  Deliver(partial_, LineEnd::kEof, overflowed_, sink);
  partial_.clear();
  overflowed_ = false;
  last_was_cr_ = false;
}

void LineSplitter::Append(const char* data, size_t size) {
  if (overflowed_) return;
  size_t room = max_ - partial_.size();
  if (size > room) {
    partial_.append(data, room);
    overflowed_ = true;
  } else {
    partial_.append(data, size);
  }
}

void LineSplitter::Deliver(std::string_view text, LineEnd end, bool truncated, const Sink& sink) {
  if (text.empty()) return;  // empty lines are skipped (a truncated line is never empty)
  if (truncated) ++truncated_lines_;
  sink(SplitLine{text, end, truncated});
}

}  // namespace ffpod
