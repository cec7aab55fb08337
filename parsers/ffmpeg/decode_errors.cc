#include "parsers/ffmpeg/decode_errors.h"

#include <array>
#include <utility>

namespace ffpod {

namespace {

bool Has(std::string_view text, std::string_view part) {
  return text.find(part) != std::string_view::npos;
}

}  // namespace

std::optional<std::string_view> DecodeErrorKind(std::string_view m) {
  if (Has(m, "Error while decoding stream") || m.starts_with("Decoding error:")) return "stream";
  if (Has(m, "error while decoding MB")) return "macroblock";
  if (Has(m, "corrupt decoded frame") || (Has(m, "frame") && Has(m, "is corrupt"))) {
    return "corrupt_frame";
  }
  if (Has(m, "Invalid NAL unit")) return "invalid_nal";
  if (m.starts_with("concealing ") && Has(m, " errors")) return "concealed";
  if (m.starts_with("Packet corrupt") || Has(m, "corrupt input packet")) return "corrupt_packet";
  return std::nullopt;
}

std::optional<std::string_view> DecodeErrorCounts::Observe(std::string_view message) {
  std::optional<std::string_view> kind = DecodeErrorKind(message);
  if (!kind) return std::nullopt;
  ++by_kind_[std::string(*kind)];
  ++total_;
  return kind;
}

}  // namespace ffpod
