// AWS Signature Version 4 for S3-protocol stores (docs/storage.md): the canonical request, the
// string to sign and the signature, for a request signed in its headers (Authorization) or for a
// presigned URL (the signature in the query string). Written once here and checked step by step
// against botocore's signer on the same inputs (tests/integration/storage/sigv4_reference_test.cc).
//
// Pure: the two hash functions come from the caller (`Hashes`; the shell passes OpenSSL's), so
// this room does no cryptography of its own. Time is passed in as the request's `amz_date`.
// Thread-safe.
//
// S3's rules, as the reference applies them: the path is the object's key percent-encoded once
// (every byte but A-Z a-z 0-9 - _ . ~ and '/'), never normalised ("a//b" and "./" stay); query
// names and values are encoded the same way except that '/' is encoded too, then sorted by
// encoded name and then value; header names are lowercased and sorted, their values trimmed with
// runs of blanks folded to one space.
#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ffpod::sigv4 {

// SHA-256 of `data` as 64 lowercase hex digits, and HMAC-SHA256 of `data` under `key` as the 32
// raw bytes.
struct Hashes {
  std::function<std::string(std::string_view data)> sha256_hex;
  std::function<std::string(std::string_view key, std::string_view data)> hmac_sha256;
};

struct Credentials {
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token;  // empty: none (long-lived keys)
};

// Where the signature is valid: `amz_date` is the request's time as "YYYYMMDDTHHMMSSZ" (UTC).
struct Scope {
  std::string region;
  std::string service = "s3";
  std::string amz_date;
};

using Pairs = std::vector<std::pair<std::string, std::string>>;

struct Request {
  std::string method;  // "PUT", "GET", "POST", "DELETE", "HEAD"
  std::string host;    // the Host header: "bucket.s3.eu-west-1.amazonaws.com", "127.0.0.1:9000"
  std::string path;    // decoded, from the first '/': "/bucket/dir/a b.mp4" (path-style)
  Pairs query;         // decoded names and values: {"partNumber", "3"}, {"uploads", ""}
  Pairs headers;       // the other headers to sign, as sent (any case): content-type, x-amz-*...
  // SHA-256 of the body as hex, or "UNSIGNED-PAYLOAD". Header signing sends it as
  // x-amz-content-sha256; presigning always signs UNSIGNED-PAYLOAD.
  std::string payload_sha256;
};

// Percent-encoding of `s` as SigV4 wants it: unreserved bytes (A-Z a-z 0-9 - _ . ~) as they are,
// '/' too when `keep_slash`, every other byte as %XX with upper-case hex.
std::string UriEncode(std::string_view s, bool keep_slash);

// `t` as an amz_date: "20261207T231559Z".
std::string AmzDate(std::chrono::system_clock::time_point t);

// "YYYYMMDD/region/service/aws4_request".
std::string CredentialScope(const Scope& scope);

// The canonical request of `request` with exactly the headers in request.headers plus host.
std::string CanonicalRequest(const Request& request);

// "AWS4-HMAC-SHA256\n<amz_date>\n<scope>\n<sha256 of the canonical request>".
std::string StringToSign(const Hashes& hashes, const Scope& scope,
                         std::string_view canonical_request);

// The hex signature of `string_to_sign` under the key derived from the secret and the scope.
std::string Signature(const Hashes& hashes, const Credentials& credentials, const Scope& scope,
                      std::string_view string_to_sign);

struct SignedRequest {
  // What to send besides the body: the request's headers, then host, x-amz-date,
  // x-amz-content-sha256, x-amz-security-token (with a session token) and authorization.
  Pairs headers;
  std::string canonical_request;
  std::string string_to_sign;
  std::string signature;
};

// Signs `request` in its headers. The added x-amz-* headers are signed too.
SignedRequest SignHeaders(const Hashes& hashes, const Credentials& credentials, const Scope& scope,
                          const Request& request);

struct PresignedUrl {
  // The encoded path and query to append to "https://<host>": the request's query, then the
  // X-Amz-* parameters, then X-Amz-Signature last.
  std::string path_and_query;
  std::string canonical_request;
  std::string string_to_sign;
  std::string signature;
};

// A presigned URL for `request`, valid `expires_s` seconds (1..604800, S3's limit) from
// scope.amz_date. Only host and request.headers are signed; payload_sha256 is ignored.
PresignedUrl Presign(const Hashes& hashes, const Credentials& credentials, const Scope& scope,
                     const Request& request, int expires_s);

}  // namespace ffpod::sigv4
