// An HLS playlist as ffmpeg's HLS muxer writes it (RFC 8216): the media segments it lists, in
// order, with their durations, or, for a master playlist, its variant streams. For the result
// of an HLS output (docs/queue.md: the playlist and a count, never every segment) and for
// checking that what it lists exists. Pure.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ffpod {

struct HlsSegment {
  std::string uri;          // as listed: relative to the playlist's directory, or absolute
  double duration_s = 0;    // its #EXTINF
  bool byte_range = false;  // #EXT-X-BYTERANGE: a range of a file another entry may share
};

struct HlsPlaylist {
  bool master = false;                    // lists variant streams (#EXT-X-STREAM-INF), not segments
  std::vector<std::string> variants;      // master: the variant playlists' URIs
  std::vector<HlsSegment> segments;       // media: in order
  std::optional<int64_t> media_sequence;  // #EXT-X-MEDIA-SEQUENCE
  bool ended = false;                     // #EXT-X-ENDLIST: nothing more will be appended
  // The media playlist's init section (#EXT-X-MAP:URI=...), fMP4 segments only.
  std::string init_uri;
};

// Parses `text`, which must start with #EXTM3U (else nullopt: not a playlist). Tolerates CRLF,
// blank lines and tags it does not know.
std::optional<HlsPlaylist> ParseHlsPlaylist(std::string_view text);

// The sum of the segments' #EXTINF durations.
double HlsDuration(const HlsPlaylist& playlist);

}  // namespace ffpod
