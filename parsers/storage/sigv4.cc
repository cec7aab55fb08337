#include "parsers/storage/sigv4.h"

#include <algorithm>
#include <cstdio>
#include <ctime>

#include "parsers/common/text.h"

namespace ffpod::sigv4 {
namespace {

constexpr std::string_view kAlgorithm = "AWS4-HMAC-SHA256";
constexpr std::string_view kUnsignedPayload = "UNSIGNED-PAYLOAD";

bool IsUnreserved(char c) {
  return IsAsciiAlnum(c) || c == '-' || c == '_' || c == '.' || c == '~';
}

// "a  b\t c " as "a b c": the value trimmed, each run of blanks one space.
std::string FoldBlanks(std::string_view value) {
  std::string out;
  bool blank = false;
  for (char c : Trim(value, " \t")) {
    if (c == ' ' || c == '\t') {
      blank = true;
      continue;
    }
    if (blank && !out.empty()) out += ' ';
    blank = false;
    out += c;
  }
  return out;
}

struct CanonicalHeaders {
  std::string lines;         // "name:value\n" per header, sorted by name
  std::string signed_names;  // "name;name2"
};

// Lowercased, sorted by name; a name given twice has its values joined by ',' in the order
// given, as one header line.
CanonicalHeaders Canonicalize(const Request& request) {
  std::vector<std::pair<std::string, std::string>> headers;
  headers.emplace_back("host", FoldBlanks(request.host));
  for (const auto& [name, value] : request.headers) {
    headers.emplace_back(AsciiLowered(Trim(name)), FoldBlanks(value));
  }
  std::stable_sort(headers.begin(), headers.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  CanonicalHeaders out;
  for (size_t i = 0; i < headers.size(); ++i) {
    if (i > 0 && headers[i].first == headers[i - 1].first) {
      out.lines.pop_back();  // the previous line's '\n'
      out.lines += ',' + headers[i].second + '\n';
      continue;
    }
    if (!out.signed_names.empty()) out.signed_names += ';';
    out.signed_names += headers[i].first;
    out.lines += headers[i].first + ':' + headers[i].second + '\n';
  }
  return out;
}

std::string CanonicalQuery(const Pairs& query) {
  std::vector<std::pair<std::string, std::string>> encoded;
  encoded.reserve(query.size());
  for (const auto& [name, value] : query) {
    encoded.emplace_back(UriEncode(name, false), UriEncode(value, false));
  }
  std::sort(encoded.begin(), encoded.end());
  std::string out;
  for (const auto& [name, value] : encoded) {
    if (!out.empty()) out += '&';
    out += name + '=' + value;
  }
  return out;
}

std::string Canonical(const Request& request, const Pairs& query, std::string_view payload) {
  CanonicalHeaders headers = Canonicalize(request);
  std::string out = request.method + '\n';
  out += UriEncode(request.path, true) + '\n';
  out += CanonicalQuery(query) + '\n';
  out += headers.lines + '\n';
  out += headers.signed_names + '\n';
  out += payload;
  return out;
}

}  // namespace

std::string UriEncode(std::string_view s, bool keep_slash) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    if (IsUnreserved(c) || (keep_slash && c == '/')) {
      out += c;
      continue;
    }
    auto byte = static_cast<unsigned char>(c);
    out += '%';
    out += kHex[byte >> 4];
    out += kHex[byte & 0xf];
  }
  return out;
}

std::string AmzDate(std::chrono::system_clock::time_point t) {
  std::time_t secs = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d%02d%02dT%02d%02d%02dZ", tm.tm_year + 1900, tm.tm_mon + 1,
                tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
  return buf;
}

std::string CredentialScope(const Scope& scope) {
  return scope.amz_date.substr(0, 8) + '/' + scope.region + '/' + scope.service + "/aws4_request";
}

std::string CanonicalRequest(const Request& request) {
  return Canonical(request, request.query, request.payload_sha256);
}

std::string StringToSign(const Hashes& hashes, const Scope& scope,
                         std::string_view canonical_request) {
  std::string out(kAlgorithm);
  out += '\n' + scope.amz_date + '\n' + CredentialScope(scope) + '\n';
  out += hashes.sha256_hex(canonical_request);
  return out;
}

std::string Signature(const Hashes& hashes, const Credentials& credentials, const Scope& scope,
                      std::string_view string_to_sign) {
  std::string key = hashes.hmac_sha256("AWS4" + credentials.secret_access_key,
                                       std::string_view(scope.amz_date).substr(0, 8));
  key = hashes.hmac_sha256(key, scope.region);
  key = hashes.hmac_sha256(key, scope.service);
  key = hashes.hmac_sha256(key, "aws4_request");
  std::string mac = hashes.hmac_sha256(key, string_to_sign);
  return LowerHex(
      std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(mac.data()), mac.size()));
}

SignedRequest SignHeaders(const Hashes& hashes, const Credentials& credentials, const Scope& scope,
                          const Request& request) {
  Request signing = request;
  signing.headers.emplace_back("x-amz-date", scope.amz_date);
  signing.headers.emplace_back("x-amz-content-sha256", request.payload_sha256);
  if (!credentials.session_token.empty()) {
    signing.headers.emplace_back("x-amz-security-token", credentials.session_token);
  }
  SignedRequest out;
  out.canonical_request = CanonicalRequest(signing);
  out.string_to_sign = StringToSign(hashes, scope, out.canonical_request);
  out.signature = Signature(hashes, credentials, scope, out.string_to_sign);
  out.headers = request.headers;
  out.headers.emplace_back("host", request.host);
  for (size_t i = request.headers.size(); i < signing.headers.size(); ++i) {
    out.headers.push_back(signing.headers[i]);
  }
  out.headers.emplace_back(
      "authorization", std::string(kAlgorithm) + " Credential=" + credentials.access_key_id + '/' +
                           CredentialScope(scope) + ", SignedHeaders=" +
                           Canonicalize(signing).signed_names + ", Signature=" + out.signature);
  return out;
}

PresignedUrl Presign(const Hashes& hashes, const Credentials& credentials, const Scope& scope,
                     const Request& request, int expires_s) {
  Pairs query = request.query;
  query.emplace_back("X-Amz-Algorithm", std::string(kAlgorithm));
  query.emplace_back("X-Amz-Credential", credentials.access_key_id + '/' + CredentialScope(scope));
  query.emplace_back("X-Amz-Date", scope.amz_date);
  query.emplace_back("X-Amz-Expires", std::to_string(std::clamp(expires_s, 1, 604800)));
  query.emplace_back("X-Amz-SignedHeaders", Canonicalize(request).signed_names);
  if (!credentials.session_token.empty()) {
    query.emplace_back("X-Amz-Security-Token", credentials.session_token);
  }
  PresignedUrl out;
  out.canonical_request = Canonical(request, query, kUnsignedPayload);
  out.string_to_sign = StringToSign(hashes, scope, out.canonical_request);
  out.signature = Signature(hashes, credentials, scope, out.string_to_sign);
  out.path_and_query = UriEncode(request.path, true);
  char separator = '?';
  for (const auto& [name, value] : query) {
    out.path_and_query += separator + UriEncode(name, false) + '=' + UriEncode(value, false);
    separator = '&';
  }
  out.path_and_query += "&X-Amz-Signature=" + out.signature;
  return out;
}

}  // namespace ffpod::sigv4
