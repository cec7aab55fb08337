#include "parsers/storage/s3_protocol.h"

#include <array>
#include <span>

#include "parsers/common/text.h"

namespace ffpod {
namespace {

std::string DecodeEntities(std::string_view text) {
  static constexpr std::array<std::pair<std::string_view, char>, 5> kEntities = {
      {{"&amp;", '&'}, {"&lt;", '<'}, {"&gt;", '>'}, {"&quot;", '"'}, {"&apos;", '\''}}};
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    bool replaced = false;
    if (text[i] == '&') {
      for (const auto& [entity, c] : kEntities) {
        if (text.substr(i, entity.size()) == entity) {
          out += c;
          i += entity.size() - 1;
          replaced = true;
          break;
        }
      }
    }
    if (!replaced) out += text[i];
  }
  return out;
}

std::string EncodeEntities(std::string_view text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

}  // namespace

std::optional<std::string> XmlElementText(std::string_view xml, std::string_view name) {
  std::string open = "<" + std::string(name) + ">";
  std::string close = "</" + std::string(name) + ">";
  size_t begin = xml.find(open);
  if (begin == std::string_view::npos) return std::nullopt;
  begin += open.size();
  size_t end = xml.find(close, begin);
  if (end == std::string_view::npos) return std::nullopt;
  return DecodeEntities(xml.substr(begin, end - begin));
}

S3Error ParseS3Error(int status, std::string_view body) {
  S3Error e;
  std::optional<std::string> code = XmlElementText(body, "Code");
  e.code = code && !code->empty() ? *code : "HTTP " + std::to_string(status);
  e.message = XmlElementText(body, "Message").value_or("");
  return e;
}

std::string DescribeS3Error(int status, const S3Error& error) {
  std::string out = error.code;
  if (error.code != "HTTP " + std::to_string(status)) {
    out += " (HTTP " + std::to_string(status) + ")";
  }
  if (!error.message.empty()) out += ": " + error.message;
  return out;
}

bool IsRetryableS3Error(int status, std::string_view code) {
  for (std::string_view c : {"SlowDown", "RequestTimeout", "InternalError", "ServiceUnavailable",
                             "RequestTimeTooSkewed", "OperationAborted", "Throttling"}) {
    if (code == c) return true;
  }
  return status >= 500 || status == 408 || status == 429;
}

std::optional<PartPlan> PlanParts(uint64_t size, uint64_t part_bytes) {
  if (size > kS3MaxObjectBytes) return std::nullopt;
  PartPlan plan;
  if (size <= part_bytes) return plan;
  plan.multipart = true;
  // The smallest part size, in whole MiB, at or above part_bytes that needs at most 10000 parts.
  uint64_t needed = (size + kS3MaxParts - 1) / kS3MaxParts;
  uint64_t mib = 1ull << 20;
  plan.part_bytes = std::max(part_bytes, (needed + mib - 1) / mib * mib);
  plan.parts = static_cast<uint32_t>((size + plan.part_bytes - 1) / plan.part_bytes);
  return plan;
}

PartRange PartAt(const PartPlan& plan, uint64_t size, uint32_t number) {
  PartRange r;
  r.offset = static_cast<uint64_t>(number - 1) * plan.part_bytes;
  r.length = std::min(plan.part_bytes, size - r.offset);
  return r;
}

std::string CompleteMultipartBody(const std::vector<CompletedPart>& parts) {
  std::string out = "<CompleteMultipartUpload xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">";
  for (size_t i = 0; i < parts.size(); ++i) {
    out += "<Part><PartNumber>" + std::to_string(i + 1) + "</PartNumber><ETag>" +
           EncodeEntities(parts[i].etag) + "</ETag>";
    if (!parts[i].checksum_sha256.empty()) {
      out += "<ChecksumSHA256>" + parts[i].checksum_sha256 + "</ChecksumSHA256>";
    }
    out += "</Part>";
  }
  out += "</CompleteMultipartUpload>";
  return out;
}

std::string ChecksumHeader(std::string_view sha256_hex) {
  std::array<uint8_t, 32> digest{};
  if (sha256_hex.size() != 64 || !DecodeHex(sha256_hex, digest)) return "";
  return Base64(std::string_view(reinterpret_cast<const char*>(digest.data()), digest.size()));
}

std::string Base64(std::string_view bytes) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  for (size_t i = 0; i < bytes.size(); i += 3) {
    uint32_t n = static_cast<uint8_t>(bytes[i]) << 16;
    if (i + 1 < bytes.size()) n |= static_cast<uint8_t>(bytes[i + 1]) << 8;
    if (i + 2 < bytes.size()) n |= static_cast<uint8_t>(bytes[i + 2]);
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
    out += i + 1 < bytes.size() ? kAlphabet[(n >> 6) & 63] : '=';
    out += i + 2 < bytes.size() ? kAlphabet[n & 63] : '=';
  }
  return out;
}

}  // namespace ffpod
