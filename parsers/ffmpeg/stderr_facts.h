// Facts ffmpeg states about itself on stderr before it transcodes, read for free from the
// lines ffpod forwards anyway:
//   [info] ffmpeg version 5.1.9-0+deb12u1 Copyright ...      the version (banner, first line)
//   [info]   built with gcc 12 ...   [info]   libavutil 57...  the rest of the banner
//   [info] Input #0, mov,mp4,m4a,3gp,3g2,mj2, from 'in.mp4':   an input's header
//   [info]   Duration: 00:00:03.00, start: 0.000000, ...       its duration (or N/A)
//   [info] Press [q] to stop, [?] for help                      stdin interaction is on
// The durations are rounded to 1/100 s; ffprobe's are exact, so ffpod uses these for inputs it
// does not probe (network URLs: no second fetch of a signed URL). Pure; bounded memory.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string_view>

#include "parsers/ffmpeg/ffmpeg_version.h"

namespace ffpod {

class StderrFacts {
 public:
  // Observes one stderr line. Returns true when the line belongs to the version banner
  // (which ffpod forwards at debug level only).
  bool Observe(std::string_view raw);

  const std::optional<FfmpegVersion>& version() const { return version_; }
  // The duration printed for input `index`: outer nullopt = not printed (yet); inner nullopt
  // = printed as N/A.
  std::optional<std::optional<int64_t>> InputDuration(int index) const;
  size_t inputs_seen() const { return durations_.size(); }
  bool stdin_interaction() const { return stdin_interaction_; }

 private:
  std::optional<FfmpegVersion> version_;
  bool in_banner_ = false;
  int current_input_ = -1;
  std::map<int, std::optional<int64_t>> durations_;
  bool stdin_interaction_ = false;
};

}  // namespace ffpod
