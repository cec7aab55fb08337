#include "supervisor/queue/redis_failover.h"

#include <array>
#include <string_view>

namespace ffpod {

namespace {

constexpr std::array<std::string_view, 5> kPrimaryLost = {"READONLY", "MASTERDOWN", "LOADING",
                                                          "CLUSTERDOWN", "TRYAGAIN"};

}  // namespace

std::optional<std::string> PrimaryLostCode(const RedisReply& reply) {
  if (!reply.IsError()) return std::nullopt;
  for (std::string_view code : kPrimaryLost) {
    if (reply.IsErrorCode(code)) return std::string(code);
    // Redis 6 wraps the error of a command inside a script: "... -READONLY You can't ...".
    std::string wrapped = "-" + std::string(code) + " ";
    if (reply.IsErrorCode("ERR") && reply.str.find(wrapped) != std::string::npos) {
      return std::string(code);
    }
  }
  return std::nullopt;
}

std::optional<std::string> RoleRefusal(const RedisReply& role, const std::string& address) {
  if (role.type != RedisReply::Type::kArray || role.elements.empty()) return std::nullopt;
  const std::string& name = role.elements[0].str;
  if (name == "master") return std::nullopt;
  if (name == "slave" || name == "replica") {
    std::string of;
    if (role.elements.size() >= 3) {
      of = " of " + role.elements[1].str + ":" + std::to_string(role.elements[2].integer);
    }
    return "READONLY: Redis at " + address + " is a replica" + of + ", not a primary";
  }
  if (name == "sentinel") {
    return "Redis at " + address + " is a Sentinel, not a primary: give the primary's address";
  }
  return "Redis at " + address + " answers ROLE with \"" + name + "\", not a primary";
}

}  // namespace ffpod
