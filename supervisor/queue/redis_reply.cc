#include "supervisor/queue/redis_reply.h"

#include <cstdio>
#include <new>

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

// hiredis builds replies through these functions. A root reply is allocated here and handed
// back by redisReaderGetReply (or freed by hiredis through FreeObject on a protocol error);
// a nested reply is constructed in place in its parent's `elements`, which is sized once when
// the array header is read, so the pointers hiredis keeps stay valid.
namespace {

RedisReply* SlotFor(const redisReadTask* task) {
  if (task->parent == nullptr) return new (std::nothrow) RedisReply;
  auto* parent = static_cast<RedisReply*>(task->parent->obj);
  return &parent->elements[static_cast<size_t>(task->idx)];
}

void* CreateString(const redisReadTask* task, char* str, size_t len) {
  RedisReply* r = SlotFor(task);
  if (r == nullptr) return nullptr;
  switch (task->type) {
    case REDIS_REPLY_ERROR:
      r->type = RedisReply::Type::kError;
      break;
    case REDIS_REPLY_STATUS:
      r->type = RedisReply::Type::kStatus;
      break;
    default:
      r->type = RedisReply::Type::kString;
      break;
  }
  r->str.assign(str, len);
  return r;
}

void* CreateArray(const redisReadTask* task, int elements) {
  RedisReply* r = SlotFor(task);
  if (r == nullptr) return nullptr;
  r->type = RedisReply::Type::kArray;
  r->elements.resize(static_cast<size_t>(elements));
  return r;
}

void* CreateInteger(const redisReadTask* task, long long value) {
  RedisReply* r = SlotFor(task);
  if (r == nullptr) return nullptr;
  r->type = RedisReply::Type::kInteger;
  r->integer = value;
  return r;
}

void* CreateNil(const redisReadTask* task) { return SlotFor(task); }

void FreeObject(void* root) { delete static_cast<RedisReply*>(root); }

redisReplyObjectFunctions kReplyFunctions = {CreateString, CreateArray, CreateInteger, CreateNil,
                                             FreeObject};

}  // namespace

RedisReplyReader::RedisReplyReader() : reader_(redisReaderCreateWithFunctions(&kReplyFunctions)) {
  if (!reader_) throw std::bad_alloc();
}

void RedisReplyReader::Feed(const char* data, size_t size) {
  // Fails only when out of memory or after a protocol error; Next() reports either.
  redisReaderFeed(reader_.get(), data, size);
}

Result<std::optional<RedisReply>> RedisReplyReader::Next() {
  void* raw = nullptr;
  if (redisReaderGetReply(reader_.get(), &raw) != REDIS_OK) {
    return Error{std::string("protocol error: ") + reader_->errstr};
  }
  if (raw == nullptr) return std::optional<RedisReply>();
  std::unique_ptr<RedisReply> reply(static_cast<RedisReply*>(raw));
  return std::optional<RedisReply>(std::move(*reply));
}

}  // namespace ffpod
