// Decode errors ffmpeg reports on stderr while it encodes: the evidence that an input was
// damaged even when ffmpeg exits 0 (a concealed macroblock, a corrupt frame, a NAL unit it could
// not parse). Counted by kind for the result (`decode_errors`), the
// ffpod_decode_errors_total{kind} counter and the verification's `max_decode_errors`.
//
// Pure.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace ffpod {

// The kind of decode error `message` (a stderr line without its level tag and context) reports:
//   stream         `Error while decoding stream #0:0: ...`, 7.0+ `Decoding error: ...`
//   macroblock     h264/hevc `error while decoding MB 12 4, bytestream -7`
//   corrupt_frame  `corrupt decoded frame in stream 0` / `... frame ... is corrupt`
//   invalid_nal    `Invalid NAL unit size`, `Invalid NAL unit 0, skipping.`
//   concealed      `concealing 120 DC, 120 AC, 120 MV errors in P frame`
//   corrupt_packet `Packet corrupt (stream = 0, dts = 1234)`, `corrupt input packet in stream 1`
// nullopt for any other line.
std::optional<std::string_view> DecodeErrorKind(std::string_view message);

// Counts by kind, for one attempt.
class DecodeErrorCounts {
 public:
  // Counts `message` when it is a decode error; returns its kind.
  std::optional<std::string_view> Observe(std::string_view message);
  uint64_t total() const { return total_; }
  const std::map<std::string, uint64_t>& by_kind() const { return by_kind_; }

 private:
  std::map<std::string, uint64_t> by_kind_;
  uint64_t total_ = 0;
};

}  // namespace ffpod
