#include "supervisor/queue/redis_reply.h"

#include <cstdio>

#include "parsers/common/text.h"

namespace ffpod {

RedisReply RedisReply::Integer(long long v) {
  RedisReply r;
  r.type = Type::kInteger;
  r.integer = v;
  return r;
}

RedisReply RedisReply::Status(std::string s) {
  RedisReply r;
  r.type = Type::kStatus;
  r.str = std::move(s);
  return r;
}

RedisReply RedisReply::Error(std::string s) {
  RedisReply r;
  r.type = Type::kError;
  r.str = std::move(s);
  return r;
}

RedisReply RedisReply::String(std::string s) {
  RedisReply r;
  r.type = Type::kString;
  r.str = std::move(s);
  return r;
}

RedisReply RedisReply::Array(std::vector<RedisReply> v) {
  RedisReply r;
  r.type = Type::kArray;
  r.elements = std::move(v);
  return r;
}

bool RedisReply::IsErrorCode(std::string_view code) const {
  if (type != Type::kError || str.size() < code.size() || str.compare(0, code.size(), code) != 0) {
    return false;
  }
  return str.size() == code.size() || str[code.size()] == ' ';
}

std::string RedisReply::ToString() const {
  switch (type) {
    case Type::kNil:
      return "(nil)";
    case Type::kInteger:
      return "(integer) " + std::to_string(integer);
    case Type::kStatus:
      return str;
    case Type::kError:
      return "(error) " + str;
    case Type::kString: {
      std::string out = "\"";
      for (char c : str) {
        auto u = static_cast<unsigned char>(c);
        if (c == '"' || c == '\\') {
          out += '\\';
          out += c;
        } else if (u < 0x20 || u >= 0x7f) {
          char buf[5];
          std::snprintf(buf, sizeof buf, "\\x%02x", u);
          out += buf;
        } else {
          out += c;
        }
      }
      return out + "\"";
    }
    case Type::kArray: {
      std::string out = "[";
      for (size_t i = 0; i < elements.size(); ++i) {
        if (i > 0) out += ", ";
        out += elements[i].ToString();
      }
      return out + "]";
    }
  }
  return "";
}

// ---------------------------------------------------------------------------------------------
// RedisReplyReader

namespace {

std::string Quoted(std::string_view line) {
  return RedisReply::String(std::string(line)).ToString();
}

}  // namespace

RedisReplyReader::RedisReplyReader(RedisReplyLimits limits) : limits_(limits) {}

void RedisReplyReader::Feed(const char* data, size_t size) {
  if (error_) return;
  if (pos_ > 0) {
    buffer_.erase(0, pos_);
    pos_ = 0;
  }
  buffer_.append(data, size);
}

Result<std::optional<RedisReply>> RedisReplyReader::Next() {
  while (!error_) {
    std::optional<RedisReply> leaf;
    Step step = ParseOne(&leaf);
    if (step == Step::kNeedMore) return std::optional<RedisReply>();
    if (step == Step::kBad) break;
    if (!leaf) continue;  // an array header: its elements come next
    if (std::optional<RedisReply> root = Attach(std::move(*leaf))) {
      reply_bytes_ = 0;
      reply_elements_ = 0;
      return root;
    }
  }
  return *error_;
}

std::optional<RedisReply> RedisReplyReader::Attach(RedisReply value) {
  while (!open_.empty()) {
    Open& parent = open_.back();
    parent.array.elements.push_back(std::move(value));
    if (--parent.remaining > 0) return std::nullopt;
    value = std::move(parent.array);
    open_.pop_back();
  }
  return value;
}

void RedisReplyReader::Consume(size_t n) {
  pos_ += n;
  reply_bytes_ += n;
}

RedisReplyReader::Step RedisReplyReader::Fail(std::string why) {
  error_ = Error{"protocol error: " + std::move(why)};
  buffer_.clear();
  pos_ = 0;
  open_.clear();
  return Step::kBad;
}

std::optional<int64_t> RedisReplyReader::Length(std::string_view line, const char* what,
                                                const char* unit, size_t max) {
  if (line == "-1") return -1;
  if (!line.empty() && line[0] == '-' && ParseUint64(line.substr(1))) {
    Fail(std::string(what) + " length " + std::string(line) + " is negative (only -1, nil, is)");
    return std::nullopt;
  }
  std::optional<uint64_t> n = ParseUint64(line);
  if (!n) {
    Fail(std::string(what) + " length " + Quoted(line) + " is not a number");
    return std::nullopt;
  }
  if (*n > max) {
    Fail(std::string(what) + " of " + std::string(line) + " " + unit + " exceeds the limit of " +
         std::to_string(max));
    return std::nullopt;
  }
  return static_cast<int64_t>(*n);
}

RedisReplyReader::Step RedisReplyReader::ParseOne(std::optional<RedisReply>* leaf) {
  if (pos_ == buffer_.size()) return Step::kNeedMore;
  const char type = buffer_[pos_];
  if (type != '+' && type != '-' && type != ':' && type != '$' && type != '*') {
    return Fail("expected a reply type (+ - : $ *), got " +
                Quoted(std::string_view(&buffer_[pos_], 1)));
  }
  const bool text = type == '+' || type == '-';
  const size_t max = text ? limits_.max_line_bytes : limits_.max_number_bytes;
  std::string_view rest = std::string_view(buffer_).substr(pos_ + 1);
  size_t end = rest.substr(0, max + 2).find("\r\n");
  if (end == std::string_view::npos) {
    if (rest.size() < max + 2) return Step::kNeedMore;
    return Fail(std::string(text ? "a status or error" : "a number") + " line is longer than " +
                std::to_string(max) + " bytes");
  }
  std::string_view line = rest.substr(0, end);
  const size_t header = 1 + end + 2;
  if (reply_bytes_ + header > limits_.max_reply_bytes) {
    return Fail("reply exceeds the limit of " + std::to_string(limits_.max_reply_bytes) + " bytes");
  }
  switch (type) {
    case '+':
      *leaf = RedisReply::Status(std::string(line));
      break;
    case '-':
      *leaf = RedisReply::Error(std::string(line));
      break;
    case ':': {
      std::optional<int64_t> v = ParseInt64(line);
      if (!v) return Fail("integer " + Quoted(line) + " is not a 64-bit number");
      *leaf = RedisReply::Integer(*v);
      break;
    }
    case '$':
      return ParseBulk(header, line, leaf);
    default:
      return ParseArray(header, line, leaf);
  }
  Consume(header);
  return Step::kParsed;
}

// The bulk string waits, unconsumed, until all of its bytes are there.
RedisReplyReader::Step RedisReplyReader::ParseBulk(size_t header, std::string_view line,
                                                   std::optional<RedisReply>* leaf) {
  std::optional<int64_t> len = Length(line, "bulk string", "bytes", limits_.max_bulk_bytes);
  if (!len) return Step::kBad;
  if (*len < 0) {
    *leaf = RedisReply::Nil();
    Consume(header);
    return Step::kParsed;
  }
  auto size = static_cast<size_t>(*len);
  if (reply_bytes_ + header + size + 2 > limits_.max_reply_bytes) {
    return Fail("reply exceeds the limit of " + std::to_string(limits_.max_reply_bytes) + " bytes");
  }
  if (buffer_.size() - pos_ < header + size + 2) return Step::kNeedMore;
  if (buffer_.compare(pos_ + header + size, 2, "\r\n") != 0) {
    return Fail("bulk string of " + std::to_string(size) + " bytes is not followed by CRLF");
  }
  *leaf = RedisReply::String(buffer_.substr(pos_ + header, size));
  Consume(header + size + 2);
  return Step::kParsed;
}

// The elements are appended as they complete; nothing is reserved from the declared count.
RedisReplyReader::Step RedisReplyReader::ParseArray(size_t header, std::string_view line,
                                                    std::optional<RedisReply>* leaf) {
  std::optional<int64_t> count = Length(line, "array", "elements", limits_.max_elements);
  if (!count) return Step::kBad;
  if (*count <= 0) {
    *leaf = *count < 0 ? RedisReply::Nil() : RedisReply::Array({});
    Consume(header);
    return Step::kParsed;
  }
  auto n = static_cast<size_t>(*count);
  if (reply_elements_ + n > limits_.max_elements) {
    return Fail("the arrays of one reply hold more than " + std::to_string(limits_.max_elements) +
                " elements together");
  }
  if (open_.size() >= limits_.max_depth) {
    return Fail("arrays nested more than " + std::to_string(limits_.max_depth) + " deep");
  }
  reply_elements_ += n;
  open_.push_back(Open{RedisReply::Array({}), n});
  Consume(header);
  return Step::kParsed;
}

Error RedisFailure(const std::error_code& ec) { return Error{"Redis: " + ec.message()}; }

Error RedisFailure(const RedisReply& reply) {
  return Error{"Redis: " + (reply.IsError() ? reply.str : "unexpected reply " + reply.ToString())};
}

}  // namespace ffpod
