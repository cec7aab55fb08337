#include "parsers/storage/s3_location.h"

#include <variant>

#include "parsers/common/text.h"
#include "parsers/config/url.h"

namespace ffpod {
namespace {

bool IsBucketChar(char c) { return IsAsciiLower(c) || IsDigit(c) || c == '.' || c == '-'; }

// Why `bucket` is not an S3 bucket name, or "" when it is one.
std::string BucketProblem(std::string_view bucket) {
  if (bucket.size() < 3 || bucket.size() > 63) return "must be 3 to 63 characters";
  for (char c : bucket) {
    if (!IsBucketChar(c)) return "may hold only a-z, 0-9, '.' and '-'";
  }
  if (!IsAsciiAlnum(bucket.front()) || !IsAsciiAlnum(bucket.back())) {
    return "must begin and end with a letter or a digit";
  }
  if (bucket.find("..") != std::string_view::npos) return "must not hold \"..\"";
  int dots = 0;
  bool digits_and_dots = true;
  for (char c : bucket) {
    dots += c == '.';
    digits_and_dots = digits_and_dots && (IsDigit(c) || c == '.');
  }
  if (digits_and_dots && dots == 3) return "must not look like an IP address";
  return "";
}

std::string HostHeader(const std::string& host, bool ipv6, uint16_t port, bool tls) {
  std::string out = ipv6 ? "[" + host + "]" : host;
  if (port != (tls ? 443 : 80)) out += ":" + std::to_string(port);
  return out;
}

}  // namespace

Result<S3Object> ParseS3Url(std::string_view url) {
  auto fail = [&](std::string_view why) {
    return Error{"s3 URL " + std::string(url) + ": " + std::string(why)};
  };
  std::string_view rest = url;
  if (rest.substr(0, 5) != "s3://") return fail("must begin with s3://");
  rest.remove_prefix(5);
  size_t slash = rest.find('/');
  if (slash == std::string_view::npos || slash + 1 == rest.size()) {
    return fail("names no key (s3://bucket/key)");
  }
  S3Object object;
  object.bucket = std::string(rest.substr(0, slash));
  if (std::string why = BucketProblem(object.bucket); !why.empty()) {
    return fail("bucket name " + object.bucket + " " + why);
  }
  std::optional<std::string> key = PercentDecode(rest.substr(slash + 1));
  if (!key) return fail("key has a malformed %-escape");
  if (key->size() > 1024) return fail("key is longer than 1024 bytes");
  object.key = std::move(*key);
  return object;
}

std::string S3Url(const S3Object& object) { return "s3://" + object.bucket + "/" + object.key; }

S3Endpoint AwsS3Endpoint(std::string_view region) {
  S3Endpoint e;
  e.host = "s3." + std::string(region) + ".amazonaws.com";
  return e;
}

Result<S3Endpoint> ParseS3Endpoint(std::string_view name, std::string_view url) {
  auto fail = [&](std::string_view why) {
    return Error{std::string(name) + "=" + std::string(url) + ": " + std::string(why)};
  };
  S3Endpoint e;
  e.custom = true;
  std::string_view rest = url;
  if (rest.substr(0, 8) == "https://") {
    rest.remove_prefix(8);
  } else if (rest.substr(0, 7) == "http://") {
    e.tls = false;
    e.port = 80;
    rest.remove_prefix(7);
  } else {
    return fail("must begin with http:// or https://");
  }
  if (!rest.empty() && rest.back() == '/') rest.remove_suffix(1);
  if (rest.find_first_of("/?#@") != std::string_view::npos) {
    return fail("must be a scheme, a host and an optional port only");
  }
  auto parsed = ParseAuthority(rest);
  if (std::holds_alternative<AuthorityError>(parsed)) return fail("is not a host[:port]");
  const Authority& authority = std::get<Authority>(parsed);
  e.host = authority.host;
  if (authority.has_port) {
    std::optional<uint64_t> port = ParseUint64(authority.port);
    if (!port || *port == 0 || *port > 65535) return fail("port must be 1 to 65535");
    e.port = static_cast<uint16_t>(*port);
  }
  return e;
}

S3Address Address(const S3Endpoint& endpoint, bool force_path_style, const S3Object& object) {
  S3Address a;
  a.tls = endpoint.tls;
  a.port = endpoint.port;
  bool ipv6 = endpoint.host.find(':') != std::string::npos;
  bool path_style =
      force_path_style || endpoint.custom || object.bucket.find('.') != std::string::npos;
  if (path_style) {
    a.host = endpoint.host;
    a.host_header = HostHeader(endpoint.host, ipv6, endpoint.port, endpoint.tls);
    a.path = "/" + object.bucket + "/" + object.key;
  } else {
    a.host = object.bucket + "." + endpoint.host;
    a.host_header = HostHeader(a.host, false, endpoint.port, endpoint.tls);
    a.path = "/" + object.key;
  }
  return a;
}

Result<PresignedTarget> ParsePresignedUrl(std::string_view what, std::string_view url) {
  size_t scheme_end = url.find("://");
  size_t path = scheme_end == std::string_view::npos ? url.npos : url.find('/', scheme_end + 3);
  if (path == std::string_view::npos || url.find('?', path) == std::string_view::npos) {
    return Error{std::string(what) +
                 " must be an http(s) URL with a path and a query (a presigned URL)"};
  }
  Result<S3Endpoint> origin = ParseS3Endpoint(what, url.substr(0, path));
  if (!origin) {
    // The endpoint parser's sentence without the URL it quotes: "<what>: <why>".
    return Error{std::string(what) + origin.error().message.substr(what.size() + 1 + path)};
  }
  PresignedTarget t;
  t.tls = origin->tls;
  t.host = origin->host;
  t.port = origin->port;
  t.host_header = HostHeader(t.host, t.host.find(':') != std::string::npos, t.port, t.tls);
  t.target = std::string(url.substr(path));
  return t;
}

}  // namespace ffpod
