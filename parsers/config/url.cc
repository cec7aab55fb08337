#include "parsers/config/url.h"

// Boost.URL (1.81) is header-only when its sources are compiled into exactly one translation
// unit of the program: this one. src.hpp also includes <boost/url.hpp>.
#include <boost/url/src.hpp>

#include <algorithm>

#include "parsers/common/text.h"

namespace ffpod {

namespace urls = boost::urls;

namespace {

bool IsDigits(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// RFC 3986 reg-name: unreserved characters, sub-delims and %XX escapes (an IPv4 address is one).
bool IsRegName(std::string_view host) {
  static constexpr auto kRule =
      urls::pct_encoded_rule(urls::unreserved_chars + urls::sub_delim_chars);
  return urls::grammar::parse(host, kRule).has_value();
}

}  // namespace

std::optional<std::string> PercentDecode(std::string_view text) {
  auto encoded = urls::make_pct_string_view(text);
  if (!encoded) return std::nullopt;
  return encoded->decode();
}

bool IsSchemeName(std::string_view text) {
  if (text.empty() || !IsAsciiAlpha(text.front())) return false;
  return std::all_of(text.begin(), text.end(),
                     [](char c) { return IsAsciiAlnum(c) || c == '+' || c == '-' || c == '.'; });
}

std::string PercentEncode(std::string_view text) {
  return urls::encode(text, urls::unreserved_chars);
}

std::variant<Authority, AuthorityError> ParseAuthority(std::string_view text,
                                                       bool (*name_char)(char)) {
  using P = AuthorityProblem;
  auto error = [](P problem, std::string_view what) {
    return AuthorityError{problem, std::string(what)};
  };
  if (text.find('@') != std::string_view::npos) return error(P::kBadHost, text);
  Authority a;
  std::string_view after_host;  // empty, or ":" and the port
  if (text.starts_with('[')) {
    size_t close = text.find(']');
    if (close == std::string_view::npos) return error(P::kUnclosedBracket, text.substr(1));
    std::string_view inside = text.substr(1, close - 1);
    if (!urls::parse_ipv6_address(inside)) return error(P::kNotIpv6, inside);
    a.host = std::string(inside);
    a.ipv6 = true;
    after_host = text.substr(close + 1);
    if (!after_host.empty() && after_host.front() != ':')
      return error(P::kAfterBracket, after_host);
  } else {
    size_t colon = text.find(':');
    if (colon != std::string_view::npos && text.find(':', colon + 1) != std::string_view::npos) {
      return error(P::kBareIpv6, text);
    }
    a.host = std::string(text.substr(0, colon));
    after_host = colon == std::string_view::npos ? "" : text.substr(colon);
    if (a.host.empty()) return error(P::kNoHost, "");
    if (!IsRegName(a.host) ||
        (name_char != nullptr && !std::all_of(a.host.begin(), a.host.end(), name_char))) {
      return error(P::kBadHost, a.host);
    }
  }
  a.has_port = !after_host.empty();
  if (a.has_port) a.port = std::string(after_host.substr(1));
  if (!IsDigits(a.port)) return error(P::kBadPort, a.port);
  return a;
}

}  // namespace ffpod
