// Fuzz target for RedisReplyReader (supervisor/queue/redis_reply.h), with the default bounds and
// with small ones: the input fed whole, one byte at a time and in chunks of 7 gives the same
// replies and the same error, an error is a "protocol error: ..." sentence and is final, and
// no reply is deeper or larger than the bounds allow.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "supervisor/queue/redis_reply.h"

namespace {

void Check(bool ok) {
  if (!ok) std::abort();
}

struct Outcome {
  std::vector<ffpod::RedisReply> replies;
  std::string error;
  bool operator==(const Outcome&) const = default;
};

Outcome Feed(std::string_view bytes, size_t chunk, const ffpod::RedisReplyLimits& limits) {
  ffpod::RedisReplyReader reader(limits);
  Outcome out;
  for (size_t pos = 0; pos < bytes.size(); pos += chunk) {
    std::string_view piece = bytes.substr(pos, chunk);
    reader.Feed(piece.data(), piece.size());
    for (;;) {
      auto next = reader.Next();
      if (!next.ok()) {
        out.error = next.error().message;
        Check(out.error.rfind("protocol error: ", 0) == 0);
        auto again = reader.Next();
        Check(!again.ok() && again.error().message == out.error);
        return out;
      }
      if (!next->has_value()) break;
      out.replies.push_back(std::move(**next));
    }
  }
  return out;
}

size_t Depth(const ffpod::RedisReply& r) {
  size_t deepest = 0;
  for (const auto& e : r.elements) deepest = std::max(deepest, Depth(e));
  return r.type == ffpod::RedisReply::Type::kArray ? deepest + 1 : 0;
}

void Run(std::string_view bytes, const ffpod::RedisReplyLimits& limits) {
  Outcome whole = Feed(bytes, bytes.size() + 1, limits);
  Check(Feed(bytes, 1, limits) == whole);
  Check(Feed(bytes, 7, limits) == whole);
  for (const auto& r : whole.replies) {
    Check(Depth(r) <= limits.max_depth);
    Check(r.elements.size() <= limits.max_elements);
    Check(r.str.size() <= std::max(limits.max_bulk_bytes, limits.max_line_bytes));
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  Run(bytes, ffpod::RedisReplyLimits{});
  ffpod::RedisReplyLimits small;
  small.max_bulk_bytes = 16;
  small.max_elements = 8;
  small.max_depth = 3;
  small.max_reply_bytes = 128;
  small.max_line_bytes = 16;
  small.max_number_bytes = 8;
  Run(bytes, small);
  return 0;
}
