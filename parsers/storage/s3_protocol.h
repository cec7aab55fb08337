// The parts of the S3 protocol an upload speaks, as pure functions (docs/storage.md): the error
// document, the multipart steps' bodies, how a file is cut into parts within S3's limits, which
// answers are worth another try, and the checksum header's encoding. Pure; thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ffpod {

// S3's limits on a multipart upload.
inline constexpr uint64_t kS3MinPartBytes = 5ull << 20;  // every part but the last
inline constexpr uint64_t kS3MaxPartBytes = 5ull << 30;  // any part, and a single PUT
inline constexpr uint32_t kS3MaxParts = 10000;
inline constexpr uint64_t kS3MaxObjectBytes = 5ull << 40;  // 5 TiB

// The text of the first <name>...</name> element of `xml` (entities &amp; &lt; &gt; &quot;
// &apos; decoded), or nullopt. Enough for S3's flat answers; not a general XML parser.
std::optional<std::string> XmlElementText(std::string_view xml, std::string_view name);

// An S3 error answer: `<Error><Code>AccessDenied</Code><Message>...</Message>...</Error>`.
struct S3Error {
  std::string code;     // "AccessDenied"; for a body that is not one: "HTTP <status>"
  std::string message;  // may be empty
};
S3Error ParseS3Error(int status, std::string_view body);

// "AccessDenied (HTTP 403): Access Denied", the form results and logs give.
std::string DescribeS3Error(int status, const S3Error& error);

// Whether a failed answer is worth another try: 5xx, 408 and 429, and the codes S3 sends for a
// passing condition (SlowDown, RequestTimeout, InternalError, ServiceUnavailable,
// RequestTimeTooSkewed after the clock is re-read, OperationAborted). AccessDenied, NoSuchBucket,
// SignatureDoesNotMatch, InvalidAccessKeyId, ExpiredToken, EntityTooLarge... are final.
bool IsRetryableS3Error(int status, std::string_view code);

// How an object of `size` bytes is sent: one PUT when it is at most `part_bytes`, else
// multipart in parts of `part_bytes`, raised when needed so there are at most 10000 parts.
struct PartPlan {
  bool multipart = false;
  uint64_t part_bytes = 0;  // every part but the last; multipart only
  uint32_t parts = 0;       // multipart only
};
// `part_bytes` is the configured size, within [kS3MinPartBytes, kS3MaxPartBytes] (callers
// check it). nullopt when `size` is over 5 TiB.
std::optional<PartPlan> PlanParts(uint64_t size, uint64_t part_bytes);

// The bytes [offset, offset + length) of part `number` (1-based) of `plan` for `size` bytes.
struct PartRange {
  uint64_t offset = 0;
  uint64_t length = 0;
};
PartRange PartAt(const PartPlan& plan, uint64_t size, uint32_t number);

// The body of CompleteMultipartUpload for parts 1..n with their ETags (as the store sent them,
// quotes included) and sha256 checksums (base64; empty: none).
struct CompletedPart {
  std::string etag;
  std::string checksum_sha256;
};
std::string CompleteMultipartBody(const std::vector<CompletedPart>& parts);

// The base64 of the bytes that the 64 hex digits `sha256_hex` spell: x-amz-checksum-sha256's
// value. Empty for anything that is not 64 hex digits.
std::string ChecksumHeader(std::string_view sha256_hex);

// Standard base64 with padding.
std::string Base64(std::string_view bytes);

}  // namespace ffpod
