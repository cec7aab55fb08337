#include "parsers/ffmpeg/hls_playlist.h"

#include "parsers/common/text.h"

namespace ffpod {

namespace {

// The value of attribute `name` in an attribute list (`URI="init.mp4",BYTERANGE="..."`).
std::string Attribute(std::string_view list, std::string_view name) {
  size_t at = 0;
  while ((at = list.find(name, at)) != std::string_view::npos) {
    bool starts = at == 0 || list[at - 1] == ',';
    size_t eq = at + name.size();
    if (!starts || eq >= list.size() || list[eq] != '=') {
      ++at;
      continue;
    }
    std::string_view value = list.substr(eq + 1);
    if (!value.empty() && value.front() == '"') {
      value.remove_prefix(1);
      return std::string(value.substr(0, value.find('"')));
    }
    return std::string(value.substr(0, value.find(',')));
  }
  return {};
}

}  // namespace

std::optional<HlsPlaylist> ParseHlsPlaylist(std::string_view text) {
  if (!text.starts_with("#EXTM3U")) return std::nullopt;
  HlsPlaylist p;
  std::optional<double> extinf;
  bool byte_range = false;
  bool variant_next = false;
  while (!text.empty()) {
    size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) continue;
    if (line.front() != '#') {  // a URI: of the segment the tags before it describe
      if (variant_next) {
        p.variants.emplace_back(line);
        variant_next = false;
      } else {
        p.segments.push_back(HlsSegment{std::string(line), extinf.value_or(0), byte_range});
      }
      extinf.reset();
      byte_range = false;
      continue;
    }
    if (line.starts_with("#EXTINF:")) {
      std::string_view v = line.substr(8);
      extinf = ParseDouble(v.substr(0, v.find(',')));
    } else if (line.starts_with("#EXT-X-BYTERANGE:")) {
      byte_range = true;
    } else if (line.starts_with("#EXT-X-STREAM-INF:")) {
      p.master = true;
      variant_next = true;
    } else if (line.starts_with("#EXT-X-MEDIA-SEQUENCE:")) {
      if (auto n = ParseDouble(line.substr(22)); n && *n >= 0 && *n < 9e15) {
        p.media_sequence = static_cast<int64_t>(*n);
      }
    } else if (line.starts_with("#EXT-X-MAP:")) {
      p.init_uri = Attribute(line.substr(11), "URI");
    } else if (line == "#EXT-X-ENDLIST") {
      p.ended = true;
    }
  }
  return p;
}

double HlsDuration(const HlsPlaylist& playlist) {
  double total = 0;
  for (const auto& s : playlist.segments) total += s.duration_s;
  return total;
}

}  // namespace ffpod
