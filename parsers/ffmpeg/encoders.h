// What an ffmpeg build says about itself: the encoders ffpod knows and their families, the rows
// of `ffmpeg -encoders`, and the build configuration and library versions of `ffmpeg -version`
// (or `-buildconf`). Pure: incremental parsers (any chunking of the input gives the same
// result) and plain functions; probes/capabilities.h runs the commands.
//
// Threading: thread-compatible; KnownEncoders() is immutable.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "parsers/ffmpeg/ffmpeg_version.h"
#include "parsers/ffmpeg/line_splitter.h"

namespace ffpod {

// ------------------------------------------------------------------------------------------
// Encoders of interest
// ------------------------------------------------------------------------------------------

enum class EncoderFamily {
  kSoftware,  // libx264, libx265, libsvtav1, libvpx-vp9: CPU only
  kNvenc,     // NVIDIA: needs libcuda.so.1 and libnvidia-encode.so.1 from the driver
  kVaapi,     // VA-API (Intel, AMD): needs a /dev/dri render node and a VA driver
  kQsv,       // Intel Quick Sync: needs an Intel render node and the MFX/oneVPL runtime
};

// "software", "nvenc", "vaapi", "qsv".
std::string_view EncoderFamilyName(EncoderFamily family);
// The family an encoder name belongs to by its suffix (`_nvenc`, `_vaapi`, `_qsv`), else
// software.
EncoderFamily EncoderFamilyOf(std::string_view encoder);

struct KnownEncoder {
  std::string_view name;   // ffmpeg's encoder name, e.g. "h264_nvenc"
  std::string_view codec;  // the codec it produces: "h264", "hevc", "av1", "vp9"
  EncoderFamily family;
};

// The encoders ffpod reports on, in report order: libx264, libx265, libsvtav1, libvpx-vp9, then
// h264/hevc/av1 for NVENC, VAAPI and QSV.
const std::vector<KnownEncoder>& KnownEncoders();
// The entry for `name`, or nullptr when ffpod does not know it.
const KnownEncoder* FindKnownEncoder(std::string_view name);
// "libx264, libx265, ..." for messages.
std::string KnownEncoderNames();

// ------------------------------------------------------------------------------------------
// `ffmpeg -encoders`
// ------------------------------------------------------------------------------------------

// One row of `ffmpeg -encoders`: ` V....D libx264   libx264 H.264 / AVC ... (codec h264)`.
struct ListedEncoder {
  std::string name;
  char media = 'V';         // V video, A audio, S subtitle
  std::string flags;        // the six capability columns as printed, e.g. "V....D"
  std::string description;  // the rest of the row
  std::string codec;        // from a trailing "(codec X)", else the name itself
};

// Incremental parser of `ffmpeg -encoders` output (stdout). The legend before the `------`
// line is skipped; rows that do not have the shape above are ignored. Not thread-safe.
class EncoderListParser {
 public:
  void Feed(std::string_view bytes);
  // Takes an unterminated last row; call once at EOF.
  void Finish();
  const std::vector<ListedEncoder>& encoders() const { return encoders_; }
  // True once the `------` separator was seen: the text was an encoder list.
  bool saw_table() const { return in_table_; }

 private:
  void Line(std::string_view line);

  LineSplitter splitter_;
  bool in_table_ = false;
  std::vector<ListedEncoder> encoders_;
};

std::vector<ListedEncoder> ParseEncoderList(std::string_view text);

// ------------------------------------------------------------------------------------------
// `ffmpeg -version` (or `-buildconf`)
// ------------------------------------------------------------------------------------------

struct FfmpegBuild {
  FfmpegVersion version;                   // from the first line
  std::vector<std::string> configuration;  // configure flags, e.g. "--enable-libx264"
  // Library versions as printed, in order: {"libavcodec", "59.37.100"}.
  std::vector<std::pair<std::string, std::string>> libraries;
};

// Splits a configure string into flags the way `ffmpeg -buildconf` does: a new flag starts at
// every " --" (so values with spaces stay whole), except after "pkg-config".
std::vector<std::string> SplitConfiguration(std::string_view configuration);

// Incremental parser of `ffmpeg -version` output: the `ffmpeg version` line, the
// `configuration:` line and the `libavcodec  59. 37.100 / 59. 37.100` lines; also of the same
// lines in the banner ffmpeg prints on stderr (indented). Also reads `ffmpeg -buildconf` output
// (an indented `configuration:` header followed by one flag per line).
// Not thread-safe.
class BuildInfoParser {
 public:
  void Feed(std::string_view bytes);
  void Finish();
  const FfmpegBuild& build() const { return build_; }

 private:
  void Line(std::string_view line);

  LineSplitter splitter_;
  bool in_buildconf_ = false;
  FfmpegBuild build_;
};

FfmpegBuild ParseBuildInfo(std::string_view text);

}  // namespace ffpod
