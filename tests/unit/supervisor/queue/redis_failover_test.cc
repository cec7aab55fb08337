#include "supervisor/queue/redis_failover.h"

#include <gtest/gtest.h>

#include <optional>
#include <string>

namespace ffpod {
namespace {

TEST(PrimaryLostCode, NamesEachErrorOfANodeThatIsNoLongerAUsablePrimary) {
  struct Case {
    std::string error;
    std::optional<std::string> code;
  };
  const Case cases[] = {
      {"READONLY You can't write against a read only replica.", "READONLY"},
      // Redis 7: a write inside a script on a replica.
      {"READONLY You can't write against a read only replica. script: 0a9f, on @user_script:1.",
       "READONLY"},
      // Redis 6 and older wrap it in the script's error.
      {"ERR Error running script (call to f_0a9f): @user_script:1: @user_script: 1: -READONLY "
       "You can't write against a read only replica.",
       "READONLY"},
      {"MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'.",
       "MASTERDOWN"},
      {"LOADING Redis is loading the dataset in memory", "LOADING"},
      {"CLUSTERDOWN The cluster is down", "CLUSTERDOWN"},
      {"TRYAGAIN Multiple keys request during rehashing of slot", "TRYAGAIN"},
      // A primary refusing a write is still the primary: not a failover.
      {"OOM command not allowed when used memory > 'maxmemory'.", std::nullopt},
      {"NOREPLICAS Not enough good replicas to write.", std::nullopt},
      {"NOSCRIPT No matching script. Please use EVAL.", std::nullopt},
      {"WRONGTYPE Operation against a key holding the wrong kind of value", std::nullopt},
      // The code must be the error's code, not any word of it.
      {"ERR unknown command 'READONLYX'", std::nullopt},
      {"READONLYISH not a code of ours", std::nullopt},
      {"ERR the value READONLY is not a code", std::nullopt},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(PrimaryLostCode(RedisReply::Error(c.error)), c.code) << c.error;
  }
}

TEST(PrimaryLostCode, OnlyErrorsCount) {
  EXPECT_EQ(PrimaryLostCode(RedisReply::Status("READONLY")), std::nullopt);
  EXPECT_EQ(PrimaryLostCode(RedisReply::String("READONLY You can't write")), std::nullopt);
  EXPECT_EQ(PrimaryLostCode(RedisReply::Nil()), std::nullopt);
  EXPECT_EQ(PrimaryLostCode(RedisReply::Integer(0)), std::nullopt);
}

TEST(RoleRefusal, APrimaryIsUsed) {
  RedisReply master = RedisReply::Array(
      {RedisReply::String("master"), RedisReply::Integer(3129659), RedisReply::Array({})});
  EXPECT_EQ(RoleRefusal(master, "127.0.0.1:6379"), std::nullopt);
}

TEST(RoleRefusal, AReplicaIsRefusedNamingItsPrimaryAndTheErrorItsWritesWouldGet) {
  RedisReply replica = RedisReply::Array(
      {RedisReply::String("slave"), RedisReply::String("10.0.0.4"), RedisReply::Integer(6379),
       RedisReply::String("connected"), RedisReply::Integer(3167038)});
  EXPECT_EQ(RoleRefusal(replica, "10.0.0.5:6379"),
            "READONLY: Redis at 10.0.0.5:6379 is a replica of 10.0.0.4:6379, not a primary");
}

TEST(RoleRefusal, ASentinelIsRefused) {
  RedisReply sentinel = RedisReply::Array(
      {RedisReply::String("sentinel"), RedisReply::Array({RedisReply::String("mymaster")})});
  EXPECT_EQ(RoleRefusal(sentinel, "10.0.0.9:26379"),
            "Redis at 10.0.0.9:26379 is a Sentinel, not a primary: give the primary's address");
}

TEST(RoleRefusal, ARefusedRoleCommandLeavesTheDecisionToTheWrites) {
  // Renamed away or not allowed by the user's ACL: the node may well be the primary.
  EXPECT_EQ(RoleRefusal(RedisReply::Error("ERR unknown command 'ROLE'"), "h:1"), std::nullopt);
  EXPECT_EQ(RoleRefusal(RedisReply::Error("NOPERM this user has no permissions to run the 'role' "
                                          "command"),
                        "h:1"),
            std::nullopt);
  EXPECT_EQ(RoleRefusal(RedisReply::Array({}), "h:1"), std::nullopt);
}

}  // namespace
}  // namespace ffpod
