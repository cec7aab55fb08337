// The RFC 3986 pieces of the URLs ffpod is configured with (`--redis`, the OTLP endpoint), done
// by Boost.URL: percent-decoding and -encoding, and splitting an authority into host and port.
// What each URL means (schemes, defaults, which parts are allowed) stays with its parser
// (redis_url.h, otel_config.h), as do the sentences that say what is wrong. Pure; never throws.
// Thread-compatible.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <variant>

namespace ffpod {

// Decodes %XX escapes (either case); nullopt for a malformed escape (`%`, `%2`, `%g0`). `+`
// stays `+`; every other byte, reserved or not, is kept as it is.
std::optional<std::string> PercentDecode(std::string_view text);

// Whether `text` is an RFC 3986 scheme name (a letter, then letters, digits, '+', '-', '.'):
// what precedes "://" is quoted in an error only when it is one, since it may be anything.
bool IsSchemeName(std::string_view text);

// Percent-encodes every byte but the RFC 3986 unreserved characters (A-Z a-z 0-9 - . _ ~),
// with upper-case hex digits: "/etc/ca.pem" -> "%2Fetc%2Fca.pem".
std::string PercentEncode(std::string_view text);

// `host[:port]` or `[IPv6][:port]` (no user-info: callers split that off first, each by its own
// rule). The parts are checked with Boost.URL's RFC 3986 rules (IPv6address, reg-name with %XX
// escapes, port digits); the split itself is done here because Boost.URL 1.81's authority
// parser refuses a reg-name that begins like an IPv4 address (`10.0.0.7a`, `1.2.3.4.5`).
struct Authority {
  std::string host;  // as written (still percent-encoded); an IPv6 address without brackets
  bool ipv6 = false;
  bool has_port = false;  // a ':' after the host, even with nothing after it
  std::string port;       // the digits after ':' (may be empty or out of range: callers check)
};

// Why an authority is not one, for the caller to say in its own words. Checked in this order.
enum class AuthorityProblem {
  kUnclosedBracket,  // `[::1`: `text` is what follows the '['
  kNotIpv6,          // `[h.example]`, `[]`: `text` is what is inside the brackets
  kAfterBracket,     // `[::1]x`: `text` is what follows the ']'
  kBareIpv6,         // `::1:6379`: several ':' outside brackets (`text` is the authority)
  kNoHost,           // `:6379`, ``
  kBadHost,          // `h<x`: a character no host (or the caller's rule) allows; `text`: the host
  kBadPort,          // `h:12ab`: `text` is what follows the ':'
};
struct AuthorityError {
  AuthorityProblem problem;
  std::string text;
};

// Splits `text`. `name_char`, when given, is a further rule every character of a host name (not
// of an IPv6 address) must pass, checked before the port.
std::variant<Authority, AuthorityError> ParseAuthority(std::string_view text,
                                                       bool (*name_char)(char) = nullptr);

}  // namespace ffpod
