// Fuzz target for DecodeLogLine, on the whole input and on each of its lines: the views lie in
// the line, the message is its tail, a tag implies a level, a parent implies a component, and
// decoding is deterministic.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "parsers/ffmpeg/log_line.h"

namespace {

void Check(bool ok) {
  if (!ok) std::abort();
}

bool Inside(std::string_view part, std::string_view line) {
  if (part.empty()) return true;
  return part.data() >= line.data() && part.data() + part.size() <= line.data() + line.size();
}

void One(std::string_view line) {
  ffpod::LogLine d = ffpod::DecodeLogLine(line);
  Check(Inside(d.message, line) && Inside(d.component, line) && Inside(d.parent, line));
  Check(d.message.empty() || d.message.data() + d.message.size() == line.data() + line.size());
  Check(d.message.size() <= line.size());
  Check(!d.level_tagged || d.level != ffpod::LogLevel::kUnknown);
  Check(d.parent.empty() || !d.component.empty());
  Check(!ffpod::LogLevelName(d.level).empty());
  ffpod::LogLine again = ffpod::DecodeLogLine(line);
  Check(again.level == d.level && again.level_tagged == d.level_tagged &&
        again.component == d.component && again.parent == d.parent && again.message == d.message);
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
