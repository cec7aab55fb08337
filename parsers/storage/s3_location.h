// Where an object lives in an S3-protocol store, and how a request reaches it (docs/storage.md):
// `s3://bucket/key` URLs, the store's endpoint (AWS's regional one, or AWS_ENDPOINT_URL_S3 for
// S3-compatible stores), and path-style or virtual-host addressing. Pure; thread-safe.
//
// Addressing. AWS's own endpoint is addressed virtual-host style (`bucket.s3.<region>.amazonaws
// .com/key`) unless path style is forced or the bucket's name has a '.' (a TLS certificate for
// `*.s3...amazonaws.com` does not cover `a.b.s3...`). A custom endpoint (MinIO, Ceph RGW, R2,
// GCS's XML API, a test server) is addressed path style (`host:port/bucket/key`), which all of
// them serve and which needs no wildcard DNS.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "parsers/common/result.h"

namespace ffpod {

struct S3Object {
  std::string bucket;
  std::string key;  // decoded; a key ending in '/' names a prefix (a directory output's)
};

// `s3://bucket/key`: the bucket by S3's naming rules (3-63 of a-z 0-9 . -, beginning and ending
// with a letter or digit, not like an IP address), the key 1-1024 bytes, percent-escapes decoded.
// The error names what is wrong: "s3 URL s3://Media/x: bucket name Media: ...".
Result<S3Object> ParseS3Url(std::string_view url);

// `s3://bucket/key` again (the key as it is, not encoded): for logs and results.
std::string S3Url(const S3Object& object);

struct S3Endpoint {
  bool tls = true;
  std::string host;  // a name or an address (IPv6 without brackets)
  uint16_t port = 443;
  bool custom = false;  // from AWS_ENDPOINT_URL(_S3), not AWS's regional endpoint
};

// AWS's regional endpoint: https://s3.<region>.amazonaws.com.
S3Endpoint AwsS3Endpoint(std::string_view region);

// `http[s]://host[:port][/]` (AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL): nothing after the
// authority but one '/', no user-info. The error names `name`, the variable it came from.
Result<S3Endpoint> ParseS3Endpoint(std::string_view name, std::string_view url);

struct S3Address {
  bool tls = true;
  std::string host;  // where to connect
  uint16_t port = 443;
  std::string host_header;  // "bucket.s3.eu-west-1.amazonaws.com", "127.0.0.1:9000"
  std::string path;         // decoded, from the first '/': "/key" or "/bucket/key"
};

// How a request for `object` reaches the store (the rules above).
S3Address Address(const S3Endpoint& endpoint, bool force_path_style, const S3Object& object);

// A presigned URL (an output's `put_url`): `http[s]://host[:port]/path?query`, split into where
// to connect and the request target (path and query exactly as given: they are what was signed).
struct PresignedTarget {
  bool tls = true;
  std::string host;
  uint16_t port = 443;
  std::string host_header;
  std::string target;
};
// The error names `what` ("put_url of output out.mp4") but never quotes the URL's query, which
// holds the signature.
Result<PresignedTarget> ParsePresignedUrl(std::string_view what, std::string_view url);

}  // namespace ffpod
