#include "parsers/common/text.h"

#include <charconv>
#include <cmath>

namespace ffpod {

std::string_view TrimLeft(std::string_view s, std::string_view chars) {
  size_t begin = s.find_first_not_of(chars);
  return begin == std::string_view::npos ? std::string_view() : s.substr(begin);
}

std::string_view TrimRight(std::string_view s, std::string_view chars) {
  size_t last = s.find_last_not_of(chars);
  return last == std::string_view::npos ? std::string_view() : s.substr(0, last + 1);
}

std::string_view Trim(std::string_view s, std::string_view chars) {
  return TrimRight(TrimLeft(s, chars), chars);
}

bool ConsumeSuffix(std::string_view* s, std::string_view suffix) {
  if (!s->ends_with(suffix)) return false;
  s->remove_suffix(suffix.size());
  return true;
}

std::string_view LeadingDigits(std::string_view s) {
  size_t n = 0;
  while (n < s.size() && IsDigit(s[n])) ++n;
  return s.substr(0, n);
}

namespace {

// std::from_chars over the whole of `s`: nullopt unless every character was used.
template <typename T>
std::optional<T> FromCharsWhole(std::string_view s) {
  T v{};
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size() || s.empty()) return std::nullopt;
  return v;
}

}  // namespace

std::optional<int64_t> ParseInt64(std::string_view s) { return FromCharsWhole<int64_t>(s); }

std::optional<uint64_t> ParseUint64(std::string_view s) { return FromCharsWhole<uint64_t>(s); }

std::optional<int64_t> ParseDurationSeconds(std::string_view s) {
  if (s.size() < 2) return std::nullopt;
  int64_t unit = 0;
  switch (s.back()) {
    case 's':
      unit = 1;
      break;
    case 'm':
      unit = 60;
      break;
    case 'h':
      unit = 3600;
      break;
    case 'd':
      unit = 86400;
      break;
    default:
      return std::nullopt;
  }
  auto n = ParseUint64(s.substr(0, s.size() - 1));
  constexpr uint64_t kMaxSeconds = 100ULL * 366 * 86400;
  if (!n || *n > kMaxSeconds / static_cast<uint64_t>(unit)) return std::nullopt;
  return static_cast<int64_t>(*n) * unit;
}

std::optional<double> ParseDouble(std::string_view s, Infinities infinities) {
  std::optional<double> v = FromCharsWhole<double>(s);
  if (!v || std::isnan(*v)) return std::nullopt;
  if (std::isinf(*v) && infinities == Infinities::kReject) return std::nullopt;
  return v;
}

void AppendLowerHex(std::string& out, std::span<const uint8_t> bytes) {
  for (uint8_t b : bytes) {
    out += LowerHexDigit(b >> 4);
    out += LowerHexDigit(b);
  }
}

std::string LowerHex(std::span<const uint8_t> bytes) {
  std::string out;
  out.reserve(2 * bytes.size());
  AppendLowerHex(out, bytes);
  return out;
}

bool DecodeHex(std::string_view hex, std::span<uint8_t> out, HexCase accepted) {
  if (hex.size() != 2 * out.size()) return false;
  for (size_t i = 0; i < out.size(); ++i) {
    int hi = HexDigitValue(hex[2 * i], accepted);
    int lo = HexDigitValue(hex[2 * i + 1], accepted);
    if (hi < 0 || lo < 0) return false;
    out[i] = static_cast<uint8_t>(hi << 4 | lo);
  }
  return true;
}

}  // namespace ffpod
