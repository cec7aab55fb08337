// RedisClient across a failover, against real redis-server processes on loopback: a primary and
// a replica started by the test (REPLICAOF). A client that requires a primary refuses a replica
// with the error its writes would get, a reply that says the node was demoted drops the
// connection before the command's own callback sees it, and the client comes back once the node
// it points at is a primary again. The classification itself has its unit test
// (tests/unit/supervisor/queue/redis_failover_test.cc).
#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "supervisor/queue/redis_client.h"
#include "tests/harness/redis_server.h"

namespace ffpod {
namespace {

using std::chrono::milliseconds;
using std::chrono::steady_clock;
using testing::RedisServer;

bool RunUntil(boost::asio::io_context& io, const std::function<bool()>& done) {
  auto deadline = steady_clock::now() + std::chrono::seconds(60);
  while (!done() && steady_clock::now() < deadline) {
    io.restart();
    io.run_for(milliseconds(10));
  }
  return done();
}

RedisClientOptions RequirePrimary() {
  RedisClientOptions o;
  o.reconnect_initial = milliseconds(50);
  o.reconnect_max = milliseconds(200);
  o.require_primary = true;
  return o;
}

std::string Address(const RedisServer& s) { return "127.0.0.1:" + std::to_string(s.port()); }

// A client with its up/down events recorded.
struct Client {
  Client(boost::asio::io_context& io, const RedisServer& server, const RedisClientOptions& options)
      : client(std::make_unique<RedisClient>(io, *ParseRedisUrl(server.Url()), options)) {
    client->Start([this](bool up, const std::string& reason) { events.emplace_back(up, reason); });
  }
  std::unique_ptr<RedisClient> client;
  std::vector<std::pair<bool, std::string>> events;
};

TEST(RedisClientFailover, ARequiredPrimaryThatIsAReplicaIsDownWithReadonlyUntilPromoted) {
  RedisServer primary;
  RedisServer replica;
  replica.ReplicaOf(primary);
  boost::asio::io_context io;
  Client c(io, replica, RequirePrimary());
  ASSERT_TRUE(RunUntil(io, [&] { return c.client->stats().connect_attempts >= 4; }));
  ASSERT_EQ(c.events.size(), 1u) << "down is reported once, not per attempt";
  EXPECT_FALSE(c.events[0].first);
  EXPECT_EQ(c.events[0].second, "READONLY: Redis at " + Address(replica) + " is a replica of " +
                                    Address(primary) + ", not a primary");
  EXPECT_EQ(c.client->stats().connects, 0u);

  replica.PromoteToPrimary();
  ASSERT_TRUE(RunUntil(io, [&] { return c.client->up(); }));
  ASSERT_EQ(c.events.size(), 2u);
  EXPECT_TRUE(c.events[1].first);
  bool written = false;
  c.client->Command({"SET", "after", "promotion"},
                    [&](std::error_code ec, const RedisReply& reply) {
                      EXPECT_FALSE(ec);
                      EXPECT_EQ(reply, RedisReply::Status("OK"));
                      written = true;
                    });
  ASSERT_TRUE(RunUntil(io, [&] { return written; }));
  EXPECT_EQ(replica.Command({"GET", "after"}), RedisReply::String("promotion"));
}

TEST(RedisClientFailover, AWriteToADemotedPrimaryDropsTheConnectionAndItStaysDownUntilPromoted) {
  RedisServer a;
  RedisServer b;
  b.ReplicaOf(a);
  boost::asio::io_context io;
  Client c(io, a, RequirePrimary());
  ASSERT_TRUE(RunUntil(io, [&] { return c.client->up(); }));

  // The failover: b is promoted, a demoted to its replica (the connection stays open).
  b.PromoteToPrimary();
  a.ReplicaOf(b);
  bool answered = false;
  bool up_in_callback = true;
  RedisReply refused;
  c.client->Command({"SET", "k", "v"}, [&](std::error_code ec, const RedisReply& reply) {
    EXPECT_FALSE(ec) << "Redis answered: the error is its reply";
    answered = true;
    up_in_callback = c.client->up();
    refused = reply;
  });
  ASSERT_TRUE(RunUntil(io, [&] { return answered; }));
  EXPECT_TRUE(refused.IsErrorCode("READONLY")) << refused.ToString();
  EXPECT_FALSE(up_in_callback) << "down before the caller hears of the refusal";
  ASSERT_EQ(c.events.size(), 2u);
  EXPECT_FALSE(c.events[1].first);
  EXPECT_EQ(c.events[1].second,
            "Redis at " + Address(a) + " is not a usable primary: " + refused.str);
  EXPECT_EQ(c.client->stats().primary_lost, 1u);
  EXPECT_EQ(c.client->stats().disconnects, 1u);

  // Reconnecting finds a replica each time: down, and no second report.
  uint64_t attempts = c.client->stats().connect_attempts;
  ASSERT_TRUE(RunUntil(io, [&] { return c.client->stats().connect_attempts >= attempts + 3; }));
  EXPECT_FALSE(c.client->up());
  EXPECT_EQ(c.events.size(), 2u);
  EXPECT_NE(c.client->last_error().find("READONLY: Redis at " + Address(a) + " is a replica"),
            std::string::npos)
      << c.client->last_error();

  a.PromoteToPrimary();
  ASSERT_TRUE(RunUntil(io, [&] { return c.client->up(); }));
  EXPECT_EQ(c.events.size(), 3u);
}

// Regression: each write the kernel took counted as progress, so a client that kept issuing
// commands (heartbeats every second) never timed out on a server that had stopped answering.
TEST(RedisClientFailover, LaterWritesDoNotKeepAStoppedServerLookingAlive) {
  RedisServer redis;
  boost::asio::io_context io;
  RedisClientOptions options = RequirePrimary();
  options.reply_timeout = milliseconds(1000);
  options.connect_timeout = milliseconds(500);
  Client c(io, redis, options);
  ASSERT_TRUE(RunUntil(io, [&] { return c.client->up(); }));

  redis.Freeze();
  boost::asio::steady_timer ticker(io);
  std::function<void()> tick = [&] {
    if (c.client->up()) c.client->Command({"PING"}, [](std::error_code, const RedisReply&) {});
    ticker.expires_after(milliseconds(100));
    ticker.async_wait([&](const boost::system::error_code& ec) {
      if (!ec) tick();
    });
  };
  tick();
  ASSERT_TRUE(RunUntil(io, [&] { return c.events.size() >= 2; }));
  ticker.cancel();
  EXPECT_FALSE(c.events[1].first);
  EXPECT_EQ(c.events[1].second, "no reply from " + Address(redis) + " within 1000 ms");

  redis.Thaw();
  ASSERT_TRUE(RunUntil(io, [&] { return c.client->up(); }));
}

}  // namespace
}  // namespace ffpod
