// Fuzz target for FailureClassifier: the input is a stderr stream (its first line also serves as
// an input URL of the context). Whatever the lines, Classify() answers for every exit status and
// stop cause; what ffpod did decides first; messages and evidence stay within their bound; and
// the same bytes give the same result whether split naively or by the real LineSplitter.
#include <csignal>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "parsers/ffmpeg/classifier.h"
#include "parsers/ffmpeg/line_splitter.h"

namespace {

void Check(bool ok) {
  if (!ok) std::abort();
}

std::vector<std::string> Lines(std::string_view bytes) {
  std::vector<std::string> lines;
  size_t start = 0;
  for (size_t i = 0; i <= bytes.size(); ++i) {
    if (i == bytes.size() || bytes[i] == '\r' || bytes[i] == '\n') {
      if (i > start) lines.emplace_back(bytes.substr(start, i - start));
      start = i + 1;
    }
  }
  return lines;
}

bool Same(const ffpod::Classification& a, const ffpod::Classification& b) {
  return a.reason == b.reason && a.message == b.message && a.evidence == b.evidence;
}

void CheckOne(const ffpod::Classification& c) {
  Check(!c.message.empty());
  Check(c.message.size() <= ffpod::kMaxEvidenceBytes);
  Check(c.evidence.size() <= ffpod::kMaxEvidenceBytes);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  std::vector<std::string> lines = Lines(bytes);
  ffpod::ClassifierContext context;
  if (!lines.empty()) context.inputs.push_back(lines.front().substr(0, 64));
  context.outputs = {"out.mp4", "rtmp://ingest/live/key"};

  ffpod::FailureClassifier naive(context);
  for (const std::string& line : lines) naive.Observe(line);
  Check(naive.last_error_line().size() <= ffpod::kMaxEvidenceBytes);

  const ffpod::ExitStatus statuses[] = {ffpod::ExitStatus::Exited(0),
                                        ffpod::ExitStatus::Exited(1),
                                        ffpod::ExitStatus::Exited(255),
                                        ffpod::ExitStatus::Exited(123),
                                        ffpod::ExitStatus::Exited(228),
                                        ffpod::ExitStatus::Signaled(SIGKILL),
                                        ffpod::ExitStatus::Signaled(SIGSEGV, true),
                                        ffpod::ExitStatus::NotStarted(127)};
  for (const ffpod::ExitStatus& exit : statuses) {
    for (bool oom : {false, true}) {
      ffpod::Classification c = naive.Classify(exit, ffpod::StopCause::kNone, oom);
      CheckOne(c);
      if (exit.kind == ffpod::ExitStatus::Kind::kSignaled) {
        Check(c.reason == ((exit.signal == SIGKILL && oom) ? ffpod::Reason::kOomKilled
                                                           : ffpod::Reason::kKilled));
      }
      if (exit.kind == ffpod::ExitStatus::Kind::kExited && exit.code == 0) {
        Check(c.reason == ffpod::Reason::kOk || c.reason == ffpod::Reason::kDiskFull ||
              c.reason == ffpod::Reason::kOutputFailed || c.reason == ffpod::Reason::kNetwork ||
              c.reason == ffpod::Reason::kInputInvalid || c.reason == ffpod::Reason::kKilled);
      } else {
        Check(c.reason != ffpod::Reason::kOk);
      }
      Check(c.reason != ffpod::Reason::kWorkerLost && c.reason != ffpod::Reason::kBadJob);
      Check(Same(c, naive.Classify(exit, ffpod::StopCause::kNone, oom)));
    }
    Check(naive.Classify(exit, ffpod::StopCause::kDrain, true).reason == ffpod::Reason::kPreempted);
    Check(naive.Classify(exit, ffpod::StopCause::kStall, false).reason == ffpod::Reason::kStalled);
    Check(naive.Classify(exit, ffpod::StopCause::kTimeout, false).reason ==
          ffpod::Reason::kTimeout);
    Check(naive.Classify(exit, ffpod::StopCause::kCancel, false).reason ==
          ffpod::Reason::kCancelled);
  }

  // The real splitter, fed one byte at a time, delivers the same lines (none is over its limit).
  bool short_lines = true;
  for (const std::string& line : lines) short_lines = short_lines && line.size() < 16 * 1024;
  if (short_lines) {
    ffpod::FailureClassifier split(context);
    ffpod::LineSplitter splitter;
    auto sink = [&](const ffpod::SplitLine& l) { split.Observe(l.text); };
    for (size_t i = 0; i < bytes.size(); ++i) splitter.Feed(bytes.substr(i, 1), sink);
    splitter.Finish(sink);
    for (const ffpod::ExitStatus& exit : statuses) {
      Check(Same(split.Classify(exit, ffpod::StopCause::kNone, false),
                 naive.Classify(exit, ffpod::StopCause::kNone, false)));
    }
  }
  return 0;
}
