// Text helpers of the pure core: ASCII character classes and case, trimming, strict number
// parsing and hexadecimal. Everything is ASCII and locale-independent: nothing here reads
// LC_CTYPE or LC_NUMERIC, so a byte >= 0x80 is never a letter, a digit or a blank, and a decimal
// point is always '.'. Pure; thread-safe.
//
// The number parsers take the whole of their argument or nothing: no blanks before or after, no
// '+', no trailing junk; a value out of range is nullopt, never clamped. A caller that allows
// blanks or units trims or strips them first, so that what it accepts is visible where it is.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace ffpod {

// ---- Character classes and case (ASCII only) --------------------------------------------------

constexpr bool IsDigit(char c) { return c >= '0' && c <= '9'; }
constexpr bool IsAsciiLower(char c) { return c >= 'a' && c <= 'z'; }
constexpr bool IsAsciiUpper(char c) { return c >= 'A' && c <= 'Z'; }
constexpr bool IsAsciiAlpha(char c) { return IsAsciiLower(c) || IsAsciiUpper(c); }
constexpr bool IsAsciiAlnum(char c) { return IsAsciiAlpha(c) || IsDigit(c); }
// ' ', '\t', '\n', '\v', '\f', '\r': what isspace() matches in the "C" locale.
constexpr bool IsAsciiSpace(char c) { return c == ' ' || (c >= '\t' && c <= '\r'); }

// 'A'-'Z' to 'a'-'z' (and back); every other byte unchanged.
constexpr char AsciiLower(char c) { return IsAsciiUpper(c) ? static_cast<char>(c - 'A' + 'a') : c; }
constexpr char AsciiUpper(char c) { return IsAsciiLower(c) ? static_cast<char>(c - 'a' + 'A') : c; }
// `s` with its ASCII letters in lower case (other bytes as they are).
inline std::string AsciiLowered(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = AsciiLower(c);
  return out;
}

// ---- Trimming -----------------------------------------------------------------------------------

// The characters IsAsciiSpace matches.
inline constexpr std::string_view kAsciiWhitespace = " \t\n\v\f\r";

// `s` without the leading and/or trailing characters that are in `chars`.
std::string_view Trim(std::string_view s, std::string_view chars = kAsciiWhitespace);
std::string_view TrimLeft(std::string_view s, std::string_view chars = kAsciiWhitespace);
std::string_view TrimRight(std::string_view s, std::string_view chars = kAsciiWhitespace);

// When `*s` ends with `suffix`: removes it and returns true. Otherwise false, `*s` unchanged.
bool ConsumeSuffix(std::string_view* s, std::string_view suffix);

// The run of decimal digits at the front of `s` (empty when `s` does not start with one).
std::string_view LeadingDigits(std::string_view s);

// ---- Numbers ------------------------------------------------------------------------------------

// `[-]digits` as an int64 ("-0" is 0). Nullopt for "", "+1", " 1", "1 ", "1.0", "0x1" and for a
// value outside the int64 range.
std::optional<int64_t> ParseInt64(std::string_view s);

// A duration of whole units: "30s", "15m", "2h", "7d" (digits, then s, m, h or d), in seconds.
// Nullopt for anything else ("", "15", "1.5h", "-1d", "1w", "2 h") and beyond 100 years.
std::optional<int64_t> ParseDurationSeconds(std::string_view s);

// `digits` as a uint64: no sign at all. Nullopt for "", "-0", "+1", "1 " and for a value above
// UINT64_MAX. Leading zeros are fine ("007" is 7).
std::optional<uint64_t> ParseUint64(std::string_view s);

// Whether ParseDouble may return an infinity.
enum class Infinities { kReject, kAccept };

// A decimal floating-point number as std::from_chars reads it: `[-]` then digits with an
// optional '.' and an optional exponent ("12", "-0.5", ".5", "5.", "1e3", "1E-3"), or, with
// Infinities::kAccept, "inf"/"infinity" in any case with an optional '-'. Nullopt for "", "+1",
// blanks, "0x1p3", "1,5", trailing junk, any NaN ("nan", "nan(...)"), and a decimal that does
// not fit a double ("1e999", and "1e-999" too: std::from_chars reports underflow as out of
// range). -0.0 stays -0.0: callers that print it add 0.0.
std::optional<double> ParseDouble(std::string_view s, Infinities infinities = Infinities::kReject);

// ---- Hexadecimal --------------------------------------------------------------------------------

// Which letters a hex digit may use: W3C trace context ids are lower-case only, FFmpeg's
// `-qphist` prints upper case, URLs and pointers use either.
enum class HexCase { kLower, kUpper, kAny };

// 0-15 for a hex digit of the accepted case, -1 for anything else.
constexpr int HexDigitValue(char c, HexCase accepted = HexCase::kAny) {
  if (IsDigit(c)) return c - '0';
  if (accepted != HexCase::kUpper && c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (accepted != HexCase::kLower && c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// The lower-case hex digit of the low four bits of `v`.
constexpr char LowerHexDigit(unsigned v) { return "0123456789abcdef"[v & 0xf]; }

// Two lower-case hex digits per byte, most significant nibble first: {0x0a, 0xff} -> "0aff".
std::string LowerHex(std::span<const uint8_t> bytes);
void AppendLowerHex(std::string& out, std::span<const uint8_t> bytes);

// Decodes exactly 2 * out.size() hex digits of the accepted case into `out`. False, with `out`
// unspecified, when `hex` has another length or a character that is not such a digit.
bool DecodeHex(std::string_view hex, std::span<uint8_t> out, HexCase accepted = HexCase::kAny);

}  // namespace ffpod
