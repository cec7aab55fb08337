// RESP2 replies as values, and the incremental reader that turns bytes from a Redis connection
// into them, within bounds (RedisReplyLimits) that a misbehaving peer cannot push it past.
//
// RedisReply is a plain value: copyable, movable, thread-compatible. RedisReplyReader is pure
// (bytes in, values out): non-copyable, single-threaded.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "parsers/common/result.h"

namespace ffpod {

// One RESP2 reply. A server-side error (`-ERR ...`, `-NOSCRIPT ...`, `-WRONGTYPE ...`) is a
// reply of type kError, not a failure of the command's delivery.
struct RedisReply {
  enum class Type { kNil, kInteger, kStatus, kError, kString, kArray };

  Type type = Type::kNil;
  long long integer = 0;             // kInteger
  std::string str;                   // kStatus, kError (message without '-'), kString (bytes)
  std::vector<RedisReply> elements;  // kArray

  static RedisReply Nil() { return {}; }
  static RedisReply Integer(long long v);
  static RedisReply Status(std::string s);
  static RedisReply Error(std::string s);
  static RedisReply String(std::string s);
  static RedisReply Array(std::vector<RedisReply> v);

  bool IsNil() const { return type == Type::kNil; }
  bool IsError() const { return type == Type::kError; }
  // kError whose message starts with `code` followed by a space or the end ("NOSCRIPT").
  bool IsErrorCode(std::string_view code) const;

  // redis-cli-like rendering for logs and test messages: `(nil)`, `(integer) 3`, `OK`,
  // `(error) ERR ...`, `"bytes"` (non-printable bytes as \xNN), `[a, b]` for arrays.
  std::string ToString() const;

  bool operator==(const RedisReply&) const = default;
};

// The error of a queue step whose command failed: it was not delivered (`ec`), or Redis answered
// with an error or with a reply the step does not expect ("Redis: ...").
Error RedisFailure(const std::error_code& ec);
Error RedisFailure(const RedisReply& reply);

// Bounds on one reply, so that a peer that is not Redis (or a corrupted stream) cannot make
// ffpod allocate without limit. ffpod's own replies are at most a few MiB. A reply over a bound
// is a protocol error, reported as soon as the header that declares it is read; nothing is
// reserved from a declared count or length before its bytes have arrived.
struct RedisReplyLimits {
  size_t max_bulk_bytes = 64 << 20;    // one bulk string
  size_t max_elements = 1 << 20;       // one array, and all arrays of one reply together
  size_t max_depth = 8;                // arrays inside arrays
  size_t max_reply_bytes = 128 << 20;  // one whole reply as it arrives (headers included)
  size_t max_line_bytes = 64 << 10;    // a status (+) or error (-) line
  size_t max_number_bytes = 32;        // an integer (:) or length ($, *) line
};

// Incremental RESP2 parser: Feed() bytes as they arrive, then call Next() until it returns
// nullopt. The same replies come out whether the bytes arrive at once or one at a time.
// Grammar: `+line`, `-line`, `:int64`, `$len` then len bytes (len -1: nil), `*count` then count
// replies (count -1: nil), each line ended by CRLF. A length is -1 or decimal digits; anything
// else (another negative number, a sign, blanks, junk) is a protocol error.
class RedisReplyReader {
 public:
  explicit RedisReplyReader(RedisReplyLimits limits = {});
  RedisReplyReader(const RedisReplyReader&) = delete;
  RedisReplyReader& operator=(const RedisReplyReader&) = delete;

  // Ignored after a protocol error.
  void Feed(const char* data, size_t size);

  // The next complete reply; nullopt when more bytes are needed; an error ("protocol error:
  // ..." naming what was wrong) when the stream is not RESP2 or a reply is over a bound. After
  // an error the reader is unusable: every later call returns the same error.
  Result<std::optional<RedisReply>> Next();

 private:
  enum class Step { kParsed, kNeedMore, kBad };
  // An array whose elements are still arriving.
  struct Open {
    RedisReply array;
    size_t remaining = 0;
  };

  // Reads one value at pos_: a complete leaf into *leaf, or an array header onto open_.
  Step ParseOne(std::optional<RedisReply>* leaf);
  Step ParseBulk(size_t header, std::string_view line, std::optional<RedisReply>* leaf);
  Step ParseArray(size_t header, std::string_view line, std::optional<RedisReply>* leaf);
  // A length line: -1, or digits up to `max`; `what` and `unit` name it in the error.
  std::optional<int64_t> Length(std::string_view line, const char* what, const char* unit,
                                size_t max);
  // Puts a finished value into the open arrays; the root reply when that completes it.
  std::optional<RedisReply> Attach(RedisReply value);
  void Consume(size_t n);
  Step Fail(std::string why);

  RedisReplyLimits limits_;
  std::string buffer_;  // bytes fed and not yet consumed start at pos_
  size_t pos_ = 0;
  std::vector<Open> open_;
  size_t reply_bytes_ = 0;     // consumed by the reply being read
  size_t reply_elements_ = 0;  // declared by its arrays
  std::optional<Error> error_;
};

}  // namespace ffpod
