#include "parsers/telemetry/redact.h"

#include <re2/re2.h>

#include <algorithm>
#include <array>
#include <string>

#include "parsers/common/text.h"

namespace ffpod {
namespace {

// Characters that end a URL, a parameter name or a value inside free text: ffmpeg quotes URLs
// with ' (`Input #0, mov, from 'in.mp4':`) and separates them from messages with spaces.
bool EndsToken(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\'' || c == '"' || c == '<' ||
         c == '>' || c == '`';
}
bool EndsParamName(char c) {
  return EndsToken(c) || c == '=' || c == '&' || c == ';' || c == '#' || c == '?' || c == '/';
}
bool EndsParamValue(char c) { return EndsToken(c) || c == '&' || c == ';' || c == '#'; }

// Lower-cased, percent-decoded parameter name without leading/trailing underscores
// (Akamai's `__token__`).
std::string NormalizeName(std::string_view name) {
  std::string out;
  out.reserve(name.size());
  for (size_t i = 0; i < name.size(); ++i) {
    if (name[i] == '%' && i + 2 < name.size()) {
      int hi = HexDigitValue(name[i + 1]);
      int lo = HexDigitValue(name[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out.push_back(AsciiLower(static_cast<char>(hi * 16 + lo)));
        i += 2;
        continue;
      }
    }
    out.push_back(AsciiLower(name[i]));
  }
  return std::string(Trim(out, "_"));
}

// Query or fragment parameters whose values are credentials: signed-URL schemes (AWS SigV4,
// Google Cloud Storage V4, CloudFront, Azure SAS `sig`, Akamai `hdnts`/`__token__`, Wowza),
// OAuth tokens, API keys, SRT passphrases and plain passwords.
bool IsSecretParam(std::string_view raw_name) {
  std::string name = NormalizeName(raw_name);
  if (name.empty()) return false;
  static constexpr std::array<std::string_view, 14> kExact = {
      "sig",   "pass",  "pwd",    "passphrase",  "session",     "sessionid",  "jwt",
      "hdnts", "hdnea", "policy", "key-pair-id", "wmsauthsign", "credential", "code"};
  for (std::string_view e : kExact) {
    if (name == e) return true;
  }
  // Suffixes cover `token`, `access_token`, `X-Amz-Security-Token`, `signature`,
  // `X-Amz-Signature`, `X-Goog-Credential`, `key`, `api_key`, `streamkey`, `password`, `auth`.
  static constexpr std::array<std::string_view, 10> kSuffix = {
      "token",      "secret",      "signature", "password", "passwd",
      "credential", "credentials", "key",       "auth",     "authorization"};
  for (std::string_view s : kSuffix) {
    if (name.size() >= s.size() && name.compare(name.size() - s.size(), s.size(), s) == 0) {
      return true;
    }
  }
  return false;
}

// `scheme://user:password@` (the last '@' before the host ends the user-info).
const RE2& UserInfoRe() {
  static const RE2 re(R"(([A-Za-z][A-Za-z0-9+.\-]*://)[^/?#\s'"<>`@]*(?:@[^/?#\s'"<>`@]*)*@)");
  return re;
}

// Credential-carrying HTTP headers, as ffmpeg prints requests at debug level and as users pass
// them to -headers: the whole value goes.
const RE2& HeaderRe() {
  static const RE2 re(
      R"((?i)(\b(?:proxy-)?authorization|\b(?:set-)?cookie|\bx-api-key|\bx-auth-token|)"
      R"(\bx-amz-security-token|\bx-goog-api-key)\s*:\s*\S[^\r\n]*)");
  return re;
}

// Redacts the values of secret parameters introduced by '?', '&', ';' or '#'. Appends to `out`.
void RedactParams(std::string_view text, std::string* out) {
  size_t i = 0;
  const size_t n = text.size();
  while (i < n) {
    char c = text[i];
    out->push_back(c);
    ++i;
    if (c != '?' && c != '&' && c != ';' && c != '#') continue;
    size_t name_end = i;
    while (name_end < n && !EndsParamName(text[name_end])) ++name_end;
    if (name_end == i || name_end >= n || text[name_end] != '=') continue;
    size_t value_end = name_end + 1;
    while (value_end < n && !EndsParamValue(text[value_end])) ++value_end;
    // ffmpeg's `<url>: <error>`: the colon ends the URL, not the value.
    if (value_end > name_end + 1 && text[value_end - 1] == ':') --value_end;
    std::string_view name = text.substr(i, name_end - i);
    out->append(name);
    out->push_back('=');
    if (IsSecretParam(name) && value_end > name_end + 1) {
      out->append(kRedacted);
    } else {
      out->append(text.substr(name_end + 1, value_end - name_end - 1));
    }
    i = value_end;
  }
}

// Cheap test before any regex work: everything redacted needs one of these characters.
bool MightHoldSecret(std::string_view text) {
  return text.find_first_of("@?&;#:") != std::string_view::npos;
}

bool ContainsIgnoringCase(std::string_view text, std::string_view lower_needle) {
  if (lower_needle.size() > text.size()) return false;
  for (size_t i = 0; i + lower_needle.size() <= text.size(); ++i) {
    size_t j = 0;
    while (j < lower_needle.size() && AsciiLower(text[i + j]) == lower_needle[j]) ++j;
    if (j == lower_needle.size()) return true;
  }
  return false;
}

// Only lines that name one of the headers HeaderRe() knows are worth the regex.
bool MightHoldHeader(std::string_view text) {
  if (text.find(':') == std::string_view::npos) return false;
  for (std::string_view stem : {"authorization", "cookie", "api-key", "-token"}) {
    if (ContainsIgnoringCase(text, stem)) return true;
  }
  return false;
}

std::string RedactUserInfoAndHeaders(std::string_view text) {
  std::string s(text);
  if (s.find('@') != std::string::npos && s.find("://") != std::string::npos) {
    RE2::GlobalReplace(&s, UserInfoRe(), std::string("\\1") + std::string(kRedacted) + "@");
  }
  if (MightHoldHeader(s)) {
    RE2::GlobalReplace(&s, HeaderRe(), std::string("\\1: ") + std::string(kRedacted));
  }
  return s;
}

// Options whose value is itself a secret (keys, passphrases, headers, cookies), without the
// leading '-' and any `:stream_specifier`.
bool IsSecretOption(std::string_view arg) {
  if (arg.size() < 2 || arg[0] != '-') return false;
  std::string_view name = arg.substr(1);
  if (!name.empty() && name[0] == '-') name.remove_prefix(1);
  if (size_t colon = name.find(':'); colon != std::string_view::npos) name = name.substr(0, colon);
  static constexpr std::array<std::string_view, 20> kOptions = {"headers",
                                                                "cookies",
                                                                "passphrase",
                                                                "decryption_key",
                                                                "decryption_keys",
                                                                "encryption_key",
                                                                "cenc_decryption_key",
                                                                "cenc_decryption_keys",
                                                                "hls_enc_key",
                                                                "hls_enc_iv",
                                                                "srtp_out_params",
                                                                "srtp_in_params",
                                                                "key",
                                                                "iv",
                                                                "password",
                                                                "activation_bytes",
                                                                "audible_key",
                                                                "audible_iv",
                                                                "auth_token",
                                                                "api_key"};
  return std::find(kOptions.begin(), kOptions.end(), name) != kOptions.end();
}

}  // namespace

std::string RedactUrl(std::string_view url) { return RedactText(url); }

std::string RedactText(std::string_view text) {
  if (!MightHoldSecret(text)) return std::string(text);
  std::string first = RedactUserInfoAndHeaders(text);
  if (first.find_first_of("?&;#") == std::string::npos) return first;
  std::string out;
  out.reserve(first.size() + 16);
  RedactParams(first, &out);
  return out;
}

std::vector<std::string> RedactArgs(const std::vector<std::string>& args) {
  std::vector<std::string> out;
  out.reserve(args.size());
  for (size_t i = 0; i < args.size(); ++i) {
    out.push_back(RedactText(args[i]));
    if (IsSecretOption(args[i]) && i + 1 < args.size()) {
      out.emplace_back(kRedacted);
      ++i;
    }
  }
  return out;
}

}  // namespace ffpod
