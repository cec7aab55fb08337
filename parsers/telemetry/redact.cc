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
  return text.find_first_of("@?&;#:") != std::string_view::npos ||
         text.find("option") != std::string_view::npos;
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

// Options whose value is itself a secret (keys, passphrases, headers, cookies, tokens), by name
// without the leading '-', the `/` of ffmpeg 7's "value from a file" form and any
// `:stream_specifier`. Paths to files that hold keys (hls_key_info_file, key_file, cert_file)
// are not secrets and stay readable.
bool IsSecretOptionName(std::string_view name) {
  if (!name.empty() && name[0] == '-') name.remove_prefix(1);
  if (!name.empty() && name[0] == '-') name.remove_prefix(1);
  if (!name.empty() && name[0] == '/') name.remove_prefix(1);
  if (size_t colon = name.find(':'); colon != std::string_view::npos) name = name.substr(0, colon);
  static constexpr std::string_view kOptions[] = {
      // HTTP (-headers, -cookies) and WHIP's bearer token
      "headers", "cookies", "authorization", "auth_token", "api_key", "token",
      // SRT, RIST, icecast, FTP, SMB and similar protocols
      "passphrase", "password", "pass", "secret", "ftp-anonymous-password",
      // the crypto protocol, MP4/CENC and HLS encryption, Audible
      "key", "iv", "cryptokey", "cryptoiv", "decryption_key", "decryption_keys", "decryption_iv",
      "encryption_key", "encryption_iv", "cenc_decryption_key", "cenc_decryption_keys",
      "hls_enc_key", "hls_enc_iv", "activation_bytes", "audible_key", "audible_iv",
      "audible_fixed_key",
      // SRTP (rtp, rtsp)
      "srtp_in_params", "srtp_out_params"};
  return std::find(std::begin(kOptions), std::end(kOptions), name) != std::end(kOptions);
}

// ffmpeg's own echo of an option and its value: the command-line dump at -loglevel debug and
// its errors about a value (the same in 4.x to 8.x, fftools/cmdutils.c and libavutil/opt.c):
//   Reading option '-X' ... matched as AVOption 'X' with argument 'V'.
//   Reading option '-X' ... matched as option 'X' (help) with argument 'V'.
//   Applying option X (help) with argument V.
//   Error parsing option 'X' with argument 'V'.
//   Failed to set value 'V' for option 'X': reason
//   Error setting option X to value V.
// Each regex captures the option (group 1) and the value (group 2). A value that goes on over
// several lines (a -headers list) runs to the end of its first line here; the lines after it are
// SecretValues' to redact.
struct EchoShape {
  const RE2* re;
  int option_group;
  int value_group;
};

const std::array<EchoShape, 5>& EchoShapes() {
  static const RE2 reading(
      R"(Reading option '([^']*)' \.\.\. ?matched as .*? with argument '(.*?)(?:'\.)?$)");
  static const RE2 applying(R"(Applying option (\S+) \(.*\) with argument (.*?)\.?$)");
  static const RE2 parsing(R"(Error parsing option '([^']*)' with argument '(.*?)(?:'\.)?$)");
  static const RE2 failed(R"(Failed to set value '(.*)' for option '([^']*)')");
  static const RE2 setting(R"(Error setting option (\S+) to value (.*?)\.?$)");
  static const std::array<EchoShape, 5> shapes = {
      EchoShape{&reading, 1, 2}, EchoShape{&applying, 1, 2}, EchoShape{&parsing, 1, 2},
      EchoShape{&failed, 2, 1}, EchoShape{&setting, 1, 2}};
  return shapes;
}

// Replaces the value in an echo line of a secret option with REDACTED.
std::string RedactOptionEcho(std::string text) {
  if (text.find("option") == std::string::npos) return text;
  for (const EchoShape& shape : EchoShapes()) {
    std::array<re2::StringPiece, 3> groups;
    if (!shape.re->Match(text, 0, text.size(), RE2::UNANCHORED, groups.data(), 3)) continue;
    const re2::StringPiece option = groups[shape.option_group];
    const re2::StringPiece value = groups[shape.value_group];
    if (!IsSecretOptionName(std::string_view(option.data(), option.size())) || value.empty()) {
      continue;
    }
    size_t at = static_cast<size_t>(value.data() - text.data());
    text.replace(at, value.size(), kRedacted);
  }
  return text;
}

}  // namespace

bool IsSecretOption(std::string_view arg) {
  return arg.size() >= 2 && arg[0] == '-' && IsSecretOptionName(arg);
}

std::string RedactUrl(std::string_view url) { return RedactText(url); }

std::string RedactText(std::string_view text) {
  if (!MightHoldSecret(text)) return std::string(text);
  std::string first = RedactOptionEcho(RedactUserInfoAndHeaders(text));
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

namespace {

// The password of `scheme://user:password@...`, or empty.
std::string_view UrlPassword(std::string_view arg) {
  size_t scheme = arg.find("://");
  if (scheme == std::string_view::npos) return {};
  // The authority ends at the path, query or fragment (a password has those percent-encoded).
  std::string_view rest = arg.substr(scheme + 3);
  rest = rest.substr(0, rest.find_first_of("/?#"));
  size_t at = rest.rfind('@');
  if (at == std::string_view::npos) return {};
  std::string_view info = rest.substr(0, at);
  size_t colon = info.find(':');
  return colon == std::string_view::npos ? std::string_view() : info.substr(colon + 1);
}

}  // namespace

SecretValues::SecretValues(const std::vector<std::string>& args) {
  for (size_t i = 0; i < args.size(); ++i) {
    Add(UrlPassword(args[i]));
    if (!IsSecretOption(args[i]) || i + 1 >= args.size()) continue;
    std::string_view value = args[++i];
    // Line by line: "Name: value" (headers), "name=value; attributes" (cookies).
    size_t start = 0;
    while (start < value.size()) {
      size_t end = value.find_first_of("\r\n", start);
      if (end == std::string_view::npos) end = value.size();
      std::string_view line = Trim(value.substr(start, end - start), " \t");
      start = end + 1;
      // A header keeps its name and a cookie its name when they are printed again.
      size_t colon = line.find(':');
      std::string_view cookie = line.substr(0, line.find(';'));
      size_t eq = cookie.find('=');
      if (colon != std::string_view::npos && (eq == std::string_view::npos || colon < eq)) {
        Add(Trim(line.substr(colon + 1), " \t"));
      } else if (eq != std::string_view::npos) {
        Add(Trim(cookie.substr(eq + 1), " \t"));
      } else {
        Add(line);
      }
    }
  }
  std::sort(values_.begin(), values_.end(),
            [](const std::string& a, const std::string& b) { return a.size() > b.size(); });
  values_.erase(std::unique(values_.begin(), values_.end()), values_.end());
}

void SecretValues::Add(std::string_view value) {
  if (value.size() < kMinSecretBytes || value == kRedacted) return;
  values_.emplace_back(value);
}

std::string SecretValues::Redact(std::string_view text) const {
  std::string out(text);
  for (const std::string& value : values_) {
    for (size_t at = out.find(value); at != std::string::npos;
         at = out.find(value, at + kRedacted.size())) {
      out.replace(at, value.size(), kRedacted);
    }
  }
  return RedactText(out);
}

}  // namespace ffpod
