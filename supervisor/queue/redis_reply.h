// RESP2 replies as values, and the incremental reader that turns bytes from a Redis connection
// into them (hiredis's reply reader with ffpod's own reply objects, so no hiredis type escapes).
//
// RedisReply is a plain value: copyable, movable, thread-compatible. RedisReplyReader owns a
// hiredis reader: non-copyable, single-threaded.
#pragma once

#include <hiredis/read.h>

#include <memory>
#include <optional>
#include <string>
#include <string_view>
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

// Incremental RESP2 parser: Feed() bytes as they arrive, then call Next() until it returns
// nullopt. The same replies come out whether the bytes arrive at once or one at a time.
class RedisReplyReader {
 public:
  RedisReplyReader();
  RedisReplyReader(const RedisReplyReader&) = delete;
  RedisReplyReader& operator=(const RedisReplyReader&) = delete;

  void Feed(const char* data, size_t size);

  // The next complete reply; nullopt when more bytes are needed; an error ("protocol error:
  // ...") when the stream is not RESP2. After an error the reader is unusable.
  Result<std::optional<RedisReply>> Next();

 private:
  struct Deleter {
    void operator()(redisReader* r) const { redisReaderFree(r); }
  };
  std::unique_ptr<redisReader, Deleter> reader_;
};

}  // namespace ffpod
