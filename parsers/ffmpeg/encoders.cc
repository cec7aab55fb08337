#include "parsers/ffmpeg/encoders.h"

#include <algorithm>

#include "parsers/common/text.h"

namespace ffpod {
namespace {

// The next whitespace-separated token of `s` (advancing it), or empty.
std::string_view NextToken(std::string_view& s) {
  s = Trim(s);
  size_t end = 0;
  while (end < s.size() && !IsAsciiSpace(s[end])) ++end;
  std::string_view token = s.substr(0, end);
  s.remove_prefix(end);
  return token;
}

}  // namespace

// ------------------------------------------------------------------------------------------
// Encoders of interest
// ------------------------------------------------------------------------------------------

std::string_view EncoderFamilyName(EncoderFamily family) {
  switch (family) {
    case EncoderFamily::kSoftware:
      return "software";
    case EncoderFamily::kNvenc:
      return "nvenc";
    case EncoderFamily::kVaapi:
      return "vaapi";
    case EncoderFamily::kQsv:
      return "qsv";
  }
  return "software";
}

EncoderFamily EncoderFamilyOf(std::string_view encoder) {
  if (encoder.ends_with("_nvenc")) return EncoderFamily::kNvenc;
  if (encoder.ends_with("_vaapi")) return EncoderFamily::kVaapi;
  if (encoder.ends_with("_qsv")) return EncoderFamily::kQsv;
  return EncoderFamily::kSoftware;
}

const std::vector<KnownEncoder>& KnownEncoders() {
  static const std::vector<KnownEncoder> kEncoders = {
      {"libx264", "h264", EncoderFamily::kSoftware},
      {"libx265", "hevc", EncoderFamily::kSoftware},
      {"libsvtav1", "av1", EncoderFamily::kSoftware},
      {"libvpx-vp9", "vp9", EncoderFamily::kSoftware},
      {"h264_nvenc", "h264", EncoderFamily::kNvenc},
      {"hevc_nvenc", "hevc", EncoderFamily::kNvenc},
      {"av1_nvenc", "av1", EncoderFamily::kNvenc},
      {"h264_vaapi", "h264", EncoderFamily::kVaapi},
      {"hevc_vaapi", "hevc", EncoderFamily::kVaapi},
      {"av1_vaapi", "av1", EncoderFamily::kVaapi},
      {"h264_qsv", "h264", EncoderFamily::kQsv},
      {"hevc_qsv", "hevc", EncoderFamily::kQsv},
      {"av1_qsv", "av1", EncoderFamily::kQsv},
  };
  return kEncoders;
}

const KnownEncoder* FindKnownEncoder(std::string_view name) {
  for (const KnownEncoder& e : KnownEncoders()) {
    if (e.name == name) return &e;
  }
  return nullptr;
}

std::string KnownEncoderNames() {
  std::string out;
  for (const KnownEncoder& e : KnownEncoders()) {
    if (!out.empty()) out += ", ";
    out += e.name;
  }
  return out;
}

// ------------------------------------------------------------------------------------------
// `ffmpeg -encoders`
// ------------------------------------------------------------------------------------------

void EncoderListParser::Feed(std::string_view bytes) {
  splitter_.Feed(bytes, [this](const SplitLine& l) { Line(l.text); });
}

void EncoderListParser::Finish() {
  splitter_.Finish([this](const SplitLine& l) { Line(l.text); });
}

void EncoderListParser::Line(std::string_view line) {
  std::string_view rest = Trim(line);
  if (!in_table_) {
    // The legend ends with a line of dashes.
    in_table_ = !rest.empty() && rest.find_first_not_of('-') == std::string_view::npos;
    return;
  }
  std::string_view flags = NextToken(rest);
  std::string_view name = NextToken(rest);
  if (flags.size() != 6 || name.empty()) return;
  if (flags[0] != 'V' && flags[0] != 'A' && flags[0] != 'S') return;
  for (char c : flags.substr(1)) {
    if (c != '.' && !IsAsciiAlpha(c)) return;
  }
  ListedEncoder e;
  e.name = std::string(name);
  e.media = flags[0];
  e.flags = std::string(flags);
  e.description = std::string(Trim(rest));
  // "... (codec h264)": the codec, when it differs from the encoder's own name.
  std::string_view d = e.description;
  constexpr std::string_view kCodec = "(codec ";
  size_t at = d.rfind(kCodec);
  if (at != std::string_view::npos && !d.empty() && d.back() == ')') {
    e.codec = std::string(Trim(d.substr(at + kCodec.size(), d.size() - 1 - at - kCodec.size())));
  }
  if (e.codec.empty()) e.codec = e.name;
  encoders_.push_back(std::move(e));
}

std::vector<ListedEncoder> ParseEncoderList(std::string_view text) {
  EncoderListParser parser;
  parser.Feed(text);
  parser.Finish();
  return parser.encoders();
}

// ------------------------------------------------------------------------------------------
// `ffmpeg -version` / `-buildconf`
// ------------------------------------------------------------------------------------------

std::vector<std::string> SplitConfiguration(std::string_view configuration) {
  std::vector<std::string> flags;
  size_t start = 0;
  auto take = [&](size_t end) {
    std::string_view flag = Trim(configuration.substr(start, end - start));
    if (!flag.empty()) flags.emplace_back(flag);
  };
  for (size_t i = 0; i + 3 <= configuration.size(); ++i) {
    if (configuration.compare(i, 3, " --") != 0) continue;
    if (configuration.substr(0, i).ends_with("pkg-config")) continue;  // "pkg-config --static"
    take(i);
    start = i + 1;
  }
  take(configuration.size());
  return flags;
}

void BuildInfoParser::Feed(std::string_view bytes) {
  splitter_.Feed(bytes, [this](const SplitLine& l) { Line(l.text); });
}

void BuildInfoParser::Finish() {
  splitter_.Finish([this](const SplitLine& l) { Line(l.text); });
}

void BuildInfoParser::Line(std::string_view line) {
  constexpr std::string_view kConfiguration = "configuration:";
  std::string_view t = Trim(line);
  if (in_buildconf_) {
    if (t.starts_with("--")) {
      build_.configuration.emplace_back(t);
      return;
    }
    in_buildconf_ = false;
  }
  if (line.starts_with("ffmpeg version ")) {
    build_.version = ParseFfmpegVersion(line);
    return;
  }
  if (t == kConfiguration) {  // -buildconf: one flag per following line
    build_.configuration.clear();
    in_buildconf_ = true;
    return;
  }
  // The banner on stderr indents these lines by two spaces; `-version` does not.
  if (t.starts_with(kConfiguration)) {
    build_.configuration = SplitConfiguration(t.substr(kConfiguration.size()));
    return;
  }
  // "libavcodec     59. 37.100 / 59. 37.100": compiled-against / loaded; keep the loaded one.
  if (t.starts_with("lib")) {
    std::string_view rest = t;
    std::string_view name = NextToken(rest);
    size_t slash = rest.find('/');
    std::string_view version = slash == std::string_view::npos ? rest : rest.substr(slash + 1);
    std::string compact;
    for (char c : version) {
      if (!IsAsciiSpace(c)) compact += c;
    }
    if (compact.empty() || !IsDigit(compact.front())) return;
    for (char c : compact) {
      if (c != '.' && !IsDigit(c)) return;
    }
    build_.libraries.emplace_back(std::string(name), std::move(compact));
  }
}

FfmpegBuild ParseBuildInfo(std::string_view text) {
  BuildInfoParser parser;
  parser.Feed(text);
  parser.Finish();
  return parser.build();
}

}  // namespace ffpod
