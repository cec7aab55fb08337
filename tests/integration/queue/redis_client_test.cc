// RedisClient against a real redis-server (tests/harness/redis_server.h): commands, pipelining,
// large binary values, AUTH/ACL, SELECT, unix socket, TLS, Lua scripts, blocking commands,
// server crashes and restarts, unreachable servers, timeouts, Close() and destruction.
// Also the pure pieces: the reconnect backoff and the script hash (the reply reader has its
// unit test, tests/unit/supervisor/queue/redis_reply_test.cc).
#include "supervisor/queue/redis_client.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "tests/harness/fake_peer.h"
#include "tests/harness/harness.h"
#include "tests/harness/redis_server.h"

namespace ffpod {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using std::chrono::steady_clock;
using ::testing::HasSubstr;
using testing::RedisServer;
using testing::RedisServerOptions;

constexpr auto kLimit = seconds(60);  // generous: CI machines are small

RedisUrl Url(const std::string& text) {
  auto r = ParseRedisUrl(text);
  if (!r.ok()) ADD_FAILURE() << text << ": " << r.error().message;
  return r.ok() ? r.value() : RedisUrl{};
}

// Runs `io` until `done()` or `limit`; returns done().
bool RunUntil(boost::asio::io_context& io, const std::function<bool()>& done,
              steady_clock::duration limit = kLimit) {
  auto deadline = steady_clock::now() + limit;
  while (!done() && steady_clock::now() < deadline) {
    io.restart();
    io.run_for(milliseconds(10));
  }
  return done();
}

void RunFor(boost::asio::io_context& io, steady_clock::duration d) {
  RunUntil(
      io, [] { return false; }, d);
}

// Option builders (designated initializers would trip -Wmissing-field-initializers).
RedisServerOptions ServerWith(std::string password, bool tls = false, int port = 0) {
  RedisServerOptions o;
  o.password = std::move(password);
  o.tls = tls;
  o.port = port;
  return o;
}

RedisClientOptions Backoff(milliseconds initial, milliseconds max = milliseconds(10000)) {
  RedisClientOptions o;
  o.reconnect_initial = initial;
  o.reconnect_max = max;
  return o;
}

struct Outcome {
  bool done = false;
  std::error_code ec;
  RedisReply reply;
};

// A client with its up/down events recorded.
struct Client {
  Client(boost::asio::io_context& io, const std::string& url, RedisClientOptions options = {})
      : client(std::make_unique<RedisClient>(io, Url(url), std::move(options))) {
    client->Start([this](bool up, const std::string& reason) { events.emplace_back(up, reason); });
  }

  std::shared_ptr<Outcome> Issue(std::vector<std::string> argv, milliseconds blocks_for = {}) {
    auto out = std::make_shared<Outcome>();
    client->Command(
        std::move(argv),
        [out](std::error_code ec, RedisReply reply) {
          EXPECT_FALSE(out->done) << "callback called twice";
          out->done = true;
          out->ec = ec;
          out->reply = std::move(reply);
        },
        blocks_for);
    return out;
  }

  std::unique_ptr<RedisClient> client;
  std::vector<std::pair<bool, std::string>> events;
};

Outcome Call(boost::asio::io_context& io, Client& c, std::vector<std::string> argv) {
  auto out = c.Issue(std::move(argv));
  EXPECT_TRUE(RunUntil(io, [&] { return out->done; })) << "no reply";
  return *out;
}

bool WaitUp(boost::asio::io_context& io, Client& c) {
  bool up = RunUntil(io, [&] { return c.client->up(); });
  EXPECT_TRUE(up) << "not up; last error: " << c.client->last_error();
  return up;
}

// ---------------------------------------------------------------------------------------------
// Pure pieces

TEST(RedisReconnectDelay, DoublesWithJitterUpToTheCap) {
  const milliseconds initial(100), max(1000);
  EXPECT_EQ(RedisReconnectDelay(0, initial, max, 0.0), milliseconds(50));
  EXPECT_EQ(RedisReconnectDelay(0, initial, max, 1.0), milliseconds(100));
  EXPECT_EQ(RedisReconnectDelay(1, initial, max, 1.0), milliseconds(200));
  EXPECT_EQ(RedisReconnectDelay(3, initial, max, 1.0), milliseconds(800));
  EXPECT_EQ(RedisReconnectDelay(3, initial, max, 0.5), milliseconds(600));
  EXPECT_EQ(RedisReconnectDelay(4, initial, max, 1.0), milliseconds(1000));
  EXPECT_EQ(RedisReconnectDelay(4, initial, max, 0.0), milliseconds(500));
  EXPECT_EQ(RedisReconnectDelay(1000, initial, max, 1.0), milliseconds(1000));
}

TEST(RedisScript, Sha1OfSource) {
  EXPECT_EQ(RedisScript("return 1").sha1(), "e0e1f9fabfc9d4800c877a703b823ac0578ff8db");
}

// ---------------------------------------------------------------------------------------------
// Against redis-server

TEST(RedisClient, RunsCommandsAndReportsUp) {
  RedisServer server;
  boost::asio::io_context io;
  RedisClientOptions named;
  named.client_name = "ffpod test\n\xC3\xA9";  // sent as ffpod_test___
  Client c(io, server.Url(), named);
  ASSERT_TRUE(WaitUp(io, c));
  EXPECT_EQ(c.events, (std::vector<std::pair<bool, std::string>>{{true, ""}}));

  EXPECT_EQ(Call(io, c, {"SET", "k", "v"}).reply, RedisReply::Status("OK"));
  EXPECT_EQ(Call(io, c, {"GET", "k"}).reply, RedisReply::String("v"));
  EXPECT_EQ(Call(io, c, {"GET", "missing"}).reply, RedisReply::Nil());
  EXPECT_EQ(Call(io, c, {"RPUSH", "l", "a", "b"}).reply, RedisReply::Integer(2));
  EXPECT_EQ(Call(io, c, {"LRANGE", "l", "0", "-1"}).reply,
            RedisReply::Array({RedisReply::String("a"), RedisReply::String("b")}));
  // A server-side error is a reply, not a delivery failure, and the connection stays usable.
  Outcome err = Call(io, c, {"INCR", "k"});
  EXPECT_FALSE(err.ec);
  EXPECT_TRUE(err.reply.IsError());
  EXPECT_THAT(err.reply.str, HasSubstr("not an integer"));
  EXPECT_EQ(Call(io, c, {"CLIENT", "GETNAME"}).reply, RedisReply::String("ffpod_test___"));
  EXPECT_EQ(server.Command({"GET", "k"}), RedisReply::String("v"));
  EXPECT_EQ(c.client->stats().connects, 1u);
  EXPECT_EQ(c.client->in_flight(), 0u);
}

TEST(RedisClient, PipelinesAThousandCommandsInOrder) {
  RedisServer server;
  boost::asio::io_context io;
  Client c(io, server.Url());
  ASSERT_TRUE(WaitUp(io, c));
  std::vector<long long> seen;
  for (int i = 0; i < 1000; ++i) {
    c.client->Command({"INCR", "counter"}, [&seen](std::error_code ec, RedisReply r) {
      EXPECT_FALSE(ec);
      seen.push_back(r.integer);
    });
  }
  // All issued before any reply could arrive: they are in flight together.
  EXPECT_EQ(c.client->in_flight(), 1000u);
  EXPECT_TRUE(seen.empty());  // never called from inside Command()
  ASSERT_TRUE(RunUntil(io, [&] { return seen.size() == 1000; }));
  for (int i = 0; i < 1000; ++i) ASSERT_EQ(seen[i], i + 1) << "reply " << i;
  EXPECT_EQ(server.Command({"GET", "counter"}), RedisReply::String("1000"));
}

TEST(RedisClient, TenMegabyteBinaryValueRoundTrips) {
  RedisServer server;
  boost::asio::io_context io;
  Client c(io, server.Url());
  ASSERT_TRUE(WaitUp(io, c));
  std::string value(10 * 1024 * 1024 + 7, '\0');
  for (size_t i = 0; i < value.size(); ++i) value[i] = static_cast<char>((i * 7 + i / 251) & 0xff);
  value.replace(1000, 4, "\r\n\r\n");
  auto set = c.Issue({"SET", std::string("job\0doc", 7), value});
  auto get = c.Issue({"GET", std::string("job\0doc", 7)});
  auto len = c.Issue({"STRLEN", std::string("job\0doc", 7)});
  ASSERT_TRUE(RunUntil(io, [&] { return len->done; }));
  EXPECT_EQ(set->reply, RedisReply::Status("OK"));
  ASSERT_EQ(get->reply.type, RedisReply::Type::kString);
  EXPECT_EQ(get->reply.str.size(), value.size());
  EXPECT_TRUE(get->reply.str == value) << "value differs";
  EXPECT_EQ(len->reply, RedisReply::Integer(static_cast<long long>(value.size())));
  EXPECT_TRUE(server.Command({"GET", std::string("job\0doc", 7)}).str == value);
}

TEST(RedisClient, AuthenticatesWithPassword) {
  RedisServer server(ServerWith("s3cret:/@x"));
  boost::asio::io_context io;
  Client good(io, server.Url(":s3cret%3A%2F%40x"));
  ASSERT_TRUE(WaitUp(io, good));
  EXPECT_EQ(Call(io, good, {"SET", "a", "1"}).reply, RedisReply::Status("OK"));

  RedisClientOptions fast_retry = Backoff(milliseconds(50), milliseconds(200));
  Client wrong(io, server.Url(":nope"), fast_retry);
  Client none(io, server.Url(), fast_retry);
  ASSERT_TRUE(RunUntil(io, [&] {
    return wrong.client->stats().connect_attempts >= 3 &&
           none.client->stats().connect_attempts >= 3;
  }));
  ASSERT_EQ(wrong.events.size(), 1u);  // reported once, then retried quietly
  EXPECT_FALSE(wrong.events[0].first);
  EXPECT_THAT(wrong.events[0].second, HasSubstr("AUTH failed: WRONGPASS"));
  EXPECT_THAT(wrong.client->last_error(), HasSubstr("WRONGPASS"));
  EXPECT_EQ(wrong.events[0].second.find("nope"), std::string::npos);
  ASSERT_EQ(none.events.size(), 1u);
  EXPECT_THAT(none.events[0].second, HasSubstr("NOAUTH"));
  EXPECT_FALSE(wrong.client->up());
  EXPECT_FALSE(none.client->up());
  EXPECT_EQ(wrong.client->stats().connects, 0u);
  // Still good after the failures next to it.
  EXPECT_EQ(Call(io, good, {"GET", "a"}).reply, RedisReply::String("1"));
}

TEST(RedisClient, AuthenticatesAsAclUser) {
  RedisServerOptions acl = ServerWith("adminpw");
  acl.acl_user = "worker";
  acl.acl_password = "w0rker";
  RedisServer server(acl);
  boost::asio::io_context io;
  Client c(io, server.Url("worker:w0rker"));
  ASSERT_TRUE(WaitUp(io, c));
  EXPECT_EQ(Call(io, c, {"ACL", "WHOAMI"}).reply, RedisReply::String("worker"));
  Client wrong(io, server.Url("worker:adminpw"));
  ASSERT_TRUE(RunUntil(io, [&] { return !wrong.events.empty(); }));
  EXPECT_FALSE(wrong.events[0].first);
  EXPECT_THAT(wrong.events[0].second, HasSubstr("WRONGPASS"));
}

TEST(RedisClient, SelectsTheDatabase) {
  RedisServer server(ServerWith("pw"));
  boost::asio::io_context io;
  Client c(io, server.Url(":pw", 3));
  ASSERT_TRUE(WaitUp(io, c));
  EXPECT_EQ(Call(io, c, {"SET", "only-in-3", "yes"}).reply, RedisReply::Status("OK"));
  EXPECT_EQ(server.Command({"GET", "only-in-3"}, 3), RedisReply::String("yes"));
  EXPECT_EQ(server.Command({"GET", "only-in-3"}, 0), RedisReply::Nil());
  EXPECT_THAT(Call(io, c, {"CLIENT", "INFO"}).reply.str, HasSubstr(" db=3 "));
}

TEST(RedisClient, ConnectsOverUnixSocket) {
  RedisServer server(ServerWith("pw"));
  boost::asio::io_context io;
  Client c(io, server.UnixUrl(":pw", 2));
  ASSERT_TRUE(WaitUp(io, c));
  EXPECT_EQ(Call(io, c, {"SET", "u", "1"}).reply, RedisReply::Status("OK"));
  EXPECT_EQ(server.Command({"GET", "u"}, 2), RedisReply::String("1"));
  EXPECT_THAT(Call(io, c, {"CLIENT", "INFO"}).reply.str, HasSubstr(server.unix_socket()));
}

TEST(RedisClient, TlsWithTheRightCa) {
  RedisServer server(ServerWith("pw", true));
  boost::asio::io_context io;
  Client by_name(io, server.Url(":pw", 1));  // rediss://localhost:P/1?ca_file=...
  Client by_ip(io, "rediss://:pw@127.0.0.1:" + std::to_string(server.port()) +
                       "?ca_file=" + server.certificates().ca_cert);
  ASSERT_TRUE(WaitUp(io, by_name));
  ASSERT_TRUE(WaitUp(io, by_ip));
  std::string big(3 * 1024 * 1024, 'x');  // many TLS records each way
  EXPECT_EQ(Call(io, by_name, {"SET", "t", big}).reply, RedisReply::Status("OK"));
  EXPECT_EQ(Call(io, by_name, {"GET", "t"}).reply, RedisReply::String(big));
  EXPECT_EQ(server.Command({"STRLEN", "t"}, 1), RedisReply::Integer(3 * 1024 * 1024));
  EXPECT_EQ(Call(io, by_ip, {"PING"}).reply, RedisReply::Status("PONG"));
}

TEST(RedisClient, TlsRejectsTheWrongCaOrName) {
  RedisServer server(ServerWith("", true));
  ffpod::testing::TempDir other;
  auto other_ca = ffpod::testing::MakeTestCertificates(other.path());
  std::string port = std::to_string(server.port());
  boost::asio::io_context io;
  Client wrong_ca(io, "rediss://localhost:" + port + "?ca_file=" + other_ca.ca_cert);
  Client wrong_name(io, "rediss://127.0.0.1:" + port +
                            "?server_name=redis.example&ca_file=" + server.certificates().ca_cert);
  Client no_ca(io, "rediss://localhost:" + port);  // the system store does not know our CA
  Client insecure(
      io, "rediss://localhost:" + port + "?insecure_skip_verify=true&ca_file=" + other_ca.ca_cert);
  ASSERT_TRUE(RunUntil(io, [&] {
    return !wrong_ca.events.empty() && !wrong_name.events.empty() && !no_ca.events.empty() &&
           !insecure.events.empty();
  }));
  for (Client* c : {&wrong_ca, &wrong_name, &no_ca}) {
    EXPECT_FALSE(c->events[0].first);
    EXPECT_THAT(c->events[0].second, HasSubstr("certificate verify failed"));
  }
  EXPECT_THAT(wrong_name.events[0].second, HasSubstr("mismatch"));
  EXPECT_TRUE(insecure.events[0].first) << insecure.events[0].second;
  EXPECT_EQ(Call(io, insecure, {"PING"}).reply, RedisReply::Status("PONG"));
}

TEST(RedisClient, TlsClientCertificate) {
  RedisServerOptions options = ServerWith("", true);
  options.tls_client_auth = true;
  RedisServer server(options);
  const auto& certs = server.certificates();
  boost::asio::io_context io;
  Client with_cert(
      io, server.Url() + "&cert_file=" + certs.client_cert + "&key_file=" + certs.client_key);
  Client without_cert(io, server.Url(), Backoff(milliseconds(50)));
  ASSERT_TRUE(WaitUp(io, with_cert));
  EXPECT_EQ(Call(io, with_cert, {"PING"}).reply, RedisReply::Status("PONG"));
  ASSERT_TRUE(RunUntil(io, [&] { return !without_cert.events.empty(); }));
  EXPECT_FALSE(without_cert.events[0].first);
  EXPECT_THAT(without_cert.events[0].second, HasSubstr("certificate required"));
  EXPECT_FALSE(without_cert.client->up());
  RunFor(io, milliseconds(300));
  EXPECT_EQ(without_cert.client->stats().connects, 0u);
}

TEST(RedisClient, UnreadableTlsFilesAreReported) {
  RedisServer server(ServerWith("", true));
  boost::asio::io_context io;
  std::string base = "rediss://localhost:" + std::to_string(server.port());
  Client missing_ca(io, base + "?ca_file=/nonexistent/ca.pem");
  Client missing_cert(io, base + "?ca_file=" + server.certificates().ca_cert +
                              "&cert_file=/nonexistent/c.pem&key_file=/nonexistent/k.pem");
  ASSERT_TRUE(
      RunUntil(io, [&] { return !missing_ca.events.empty() && !missing_cert.events.empty(); }));
  EXPECT_THAT(missing_ca.events[0].second, HasSubstr("TLS ca_file /nonexistent/ca.pem: "));
  EXPECT_THAT(missing_cert.events[0].second, HasSubstr("TLS cert_file /nonexistent/c.pem: "));
}

TEST(RedisClient, Ipv6Loopback) {
  boost::system::error_code ec;
  boost::asio::io_context probe;
  boost::asio::ip::tcp::acceptor v6(probe);
  v6.open(boost::asio::ip::tcp::v6(), ec);
  if (!ec) v6.bind({boost::asio::ip::make_address("::1"), 0}, ec);
  if (ec) GTEST_SKIP() << "no IPv6 loopback here: " << ec.message();
  v6.close();
  RedisServer server;  // binds 127.0.0.1 and ::1
  boost::asio::io_context io;
  Client c(io, "redis://[::1]:" + std::to_string(server.port()));
  ASSERT_TRUE(WaitUp(io, c));
  EXPECT_THAT(Call(io, c, {"CLIENT", "INFO"}).reply.str, HasSubstr("addr=[::1]:"));
}

TEST(RedisClient, EvalUsesEvalshaAndFallsBackOnNoscript) {
  RedisServer server;
  boost::asio::io_context io;
  Client c(io, server.Url());
  ASSERT_TRUE(WaitUp(io, c));
  RedisScript script("return redis.call('INCRBY', KEYS[1], ARGV[1])");
  EXPECT_EQ(server.Command({"SCRIPT", "LOAD", script.source()}), RedisReply::String(script.sha1()));
  ASSERT_EQ(server.Command({"SCRIPT", "FLUSH"}), RedisReply::Status("OK"));
  ASSERT_EQ(server.Command({"CONFIG", "RESETSTAT"}), RedisReply::Status("OK"));

  auto eval = [&](const std::string& by) {
    auto out = std::make_shared<Outcome>();
    c.client->Eval(script, {"n"}, {by}, [out](std::error_code ec, RedisReply r) {
      out->done = true;
      out->ec = ec;
      out->reply = std::move(r);
    });
    EXPECT_TRUE(RunUntil(io, [&] { return out->done; }));
    return *out;
  };
  EXPECT_EQ(eval("5").reply, RedisReply::Integer(5));  // NOSCRIPT, then EVAL
  EXPECT_EQ(server.Command({"SCRIPT", "EXISTS", script.sha1()}),
            RedisReply::Array({RedisReply::Integer(1)}));
  EXPECT_EQ(eval("5").reply, RedisReply::Integer(10));                       // EVALSHA hits
  ASSERT_EQ(server.Command({"SCRIPT", "FLUSH"}), RedisReply::Status("OK"));  // like a restart
  EXPECT_EQ(eval("5").reply, RedisReply::Integer(15));  // NOSCRIPT, then EVAL again

  std::string stats = server.Command({"INFO", "commandstats"}).str;
  EXPECT_THAT(stats, HasSubstr("cmdstat_evalsha:calls=3,"));
  EXPECT_THAT(stats, HasSubstr("cmdstat_eval:calls=2,"));

  // A script's own error is a reply.
  RedisScript failing("return redis.error_reply('bad_job: id')");
  auto out = std::make_shared<Outcome>();
  c.client->Eval(failing, {}, {}, [out](std::error_code ec, RedisReply r) {
    out->done = true;
    out->ec = ec;
    out->reply = std::move(r);
  });
  ASSERT_TRUE(RunUntil(io, [&] { return out->done; }));
  EXPECT_FALSE(out->ec);
  EXPECT_EQ(out->reply, RedisReply::Error("bad_job: id"));
}

TEST(RedisClient, BlockingCommandOnItsOwnClientLeavesOthersWorking) {
  RedisServer server;
  boost::asio::io_context io;
  Client blocker(io, server.Url());
  Client worker(io, server.Url());
  ASSERT_TRUE(WaitUp(io, blocker));
  ASSERT_TRUE(WaitUp(io, worker));
  auto claim =
      blocker.Issue({"BLMOVE", "q:pending", "q:active", "RIGHT", "LEFT", "30"}, seconds(30));
  auto after_claim = blocker.Issue({"PING"});  // same connection: waits behind BLMOVE
  ASSERT_TRUE(RunUntil(io, [&] {
    return server.Command({"INFO", "clients"}).str.find("blocked_clients:1") != std::string::npos;
  }));
  int done = 0;
  for (int i = 0; i < 200; ++i) {
    worker.client->Command({"INCR", "beats"}, [&done](std::error_code ec, RedisReply) {
      EXPECT_FALSE(ec);
      ++done;
    });
  }
  ASSERT_TRUE(RunUntil(io, [&] { return done == 200; }));
  EXPECT_FALSE(claim->done);
  EXPECT_FALSE(after_claim->done);
  EXPECT_EQ(Call(io, worker, {"LPUSH", "q:pending", "{\"id\":\"j1\"}"}).reply,
            RedisReply::Integer(1));
  ASSERT_TRUE(RunUntil(io, [&] { return after_claim->done; }));
  EXPECT_EQ(claim->reply, RedisReply::String("{\"id\":\"j1\"}"));
  EXPECT_EQ(after_claim->reply, RedisReply::Status("PONG"));
  EXPECT_EQ(server.Command({"LRANGE", "q:active", "0", "-1"}),
            RedisReply::Array({RedisReply::String("{\"id\":\"j1\"}")}));
}

TEST(RedisClient, ServerKilledMidCommandThenRestarted) {
  RedisServer server;
  boost::asio::io_context io;
  Client c(io, server.Url(), Backoff(milliseconds(50), milliseconds(500)));
  ASSERT_TRUE(WaitUp(io, c));
  EXPECT_EQ(Call(io, c, {"SET", "kept", "yes"}).reply, RedisReply::Status("OK"));
  auto blocked = c.Issue({"BLMOVE", "src", "dst", "RIGHT", "LEFT", "60"}, seconds(60));
  ASSERT_TRUE(RunUntil(io, [&] {
    return server.Command({"INFO", "clients"}).str.find("blocked_clients:1") != std::string::npos;
  }));
  server.Kill();
  ASSERT_TRUE(RunUntil(io, [&] { return blocked->done; }));
  EXPECT_EQ(blocked->ec, RedisErrc::kConnectionLost);
  ASSERT_EQ(c.events.size(), 2u);
  EXPECT_FALSE(c.events[1].first);
  EXPECT_FALSE(c.events[1].second.empty());
  EXPECT_FALSE(c.client->up());

  // While down, commands fail at once, and not from inside Command().
  auto refused = c.Issue({"GET", "kept"});
  EXPECT_FALSE(refused->done);
  ASSERT_TRUE(RunUntil(
      io, [&] { return refused->done; }, seconds(5)));
  EXPECT_EQ(refused->ec, RedisErrc::kNotConnected);
  RunFor(io, milliseconds(300));  // a few failed attempts against the dead port
  EXPECT_EQ(c.events.size(), 2u);

  server.Start();
  ASSERT_TRUE(WaitUp(io, c));
  ASSERT_EQ(c.events.size(), 3u);
  EXPECT_EQ(c.events[2], std::make_pair(true, std::string()));
  EXPECT_EQ(Call(io, c, {"GET", "kept"}).reply, RedisReply::String("yes"));  // appendonly
  EXPECT_EQ(c.client->stats().connects, 2u);
  EXPECT_EQ(c.client->stats().disconnects, 1u);
  EXPECT_GE(c.client->stats().commands_failed, 2u);
}

TEST(RedisClient, GracefulRestartKeepsDataAndReconnects) {
  RedisServer server;
  boost::asio::io_context io;
  Client c(io, server.Url(), Backoff(milliseconds(50)));
  ASSERT_TRUE(WaitUp(io, c));
  EXPECT_EQ(Call(io, c, {"RPUSH", "Q:pending", "a", "b"}).reply, RedisReply::Integer(2));
  server.Restart();
  ASSERT_TRUE(RunUntil(io, [&] { return c.events.size() >= 3 && c.client->up(); }));
  EXPECT_EQ(Call(io, c, {"LLEN", "Q:pending"}).reply, RedisReply::Integer(2));
}

TEST(RedisClient, ClosedPortIsDownAndRetriedWithBackoff) {
  int port = ffpod::testing::FreePort();
  boost::asio::io_context io;
  Client c(io, "redis://127.0.0.1:" + std::to_string(port),
           Backoff(milliseconds(100), milliseconds(400)));
  auto start = steady_clock::now();
  RunFor(io, seconds(3));
  double elapsed_ms =
      std::chrono::duration<double, std::milli>(steady_clock::now() - start).count();
  ASSERT_EQ(c.events.size(), 1u);
  EXPECT_FALSE(c.events[0].first);
  EXPECT_THAT(c.events[0].second, HasSubstr("Connection refused"));
  EXPECT_THAT(c.events[0].second, HasSubstr("127.0.0.1:" + std::to_string(port)));
  EXPECT_FALSE(c.client->up());
  uint64_t attempts = c.client->stats().connect_attempts;
  EXPECT_GE(attempts, 3u);
  // Delays are at least 50, 100, 200, 200, ... ms: without backoff there would be thousands.
  EXPECT_LE(static_cast<double>(attempts), 4 + elapsed_ms / 200) << attempts << " attempts";

  RedisServer server(ServerWith("", false, port));
  ASSERT_TRUE(WaitUp(io, c));
  EXPECT_EQ(c.events.size(), 2u);
  EXPECT_EQ(Call(io, c, {"PING"}).reply, RedisReply::Status("PONG"));
}

TEST(RedisClient, ConnectTimesOutWhenTheServerNeverAnswers) {
  // A listening socket nobody accepts on: TCP connects, the handshake's PING gets no reply.
  boost::asio::io_context io;
  boost::asio::ip::tcp::acceptor silent(
      io, boost::asio::ip::tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), 0));
  int port = silent.local_endpoint().port();
  RedisClientOptions options = Backoff(milliseconds(50));
  options.connect_timeout = milliseconds(300);
  Client c(io, "redis://127.0.0.1:" + std::to_string(port), options);
  ASSERT_TRUE(RunUntil(io, [&] { return c.client->stats().connect_attempts >= 2; }));
  ASSERT_GE(c.events.size(), 1u);
  EXPECT_FALSE(c.events[0].first);
  EXPECT_THAT(c.events[0].second, HasSubstr("timed out after 300 ms"));
  EXPECT_EQ(c.events.size(), 1u);
}

TEST(RedisClient, GarbledReplyIsAProtocolErrorThatReconnectsNotACrash) {
  // A peer that answers every connection's handshake with an array header of 2^31-1 elements.
  testing::FakePeer peer("*2147483647\r\n");
  boost::asio::io_context io;
  Client c(io, peer.Url(), Backoff(milliseconds(50)));
  ASSERT_TRUE(RunUntil(io, [&] { return c.client->stats().connect_attempts >= 3; }));
  ASSERT_EQ(c.events.size(), 1u) << "down is reported once, not per attempt";
  EXPECT_FALSE(c.events[0].first);
  EXPECT_EQ(c.events[0].second, "Redis at 127.0.0.1:" + std::to_string(peer.port()) +
                                    ": protocol error: array of 2147483647 elements exceeds the "
                                    "limit of 1048576");
  EXPECT_FALSE(c.client->up());
  EXPECT_GE(peer.connections(), 2);
}

TEST(RedisClient, GarbledReplyAfterTheHandshakeDropsTheConnection) {
  // PONG for the handshake, then an overlong bulk length with no command waiting for it.
  testing::FakePeer peer("+PONG\r\n$99999999999\r\n");
  boost::asio::io_context io;
  Client c(io, peer.Url(), Backoff(milliseconds(50)));
  ASSERT_TRUE(RunUntil(io, [&] { return c.events.size() >= 2; }));
  EXPECT_TRUE(c.events[0].first);
  EXPECT_FALSE(c.events[1].first);
  EXPECT_THAT(c.events[1].second,
              HasSubstr("protocol error: bulk string of 99999999999 bytes exceeds the limit"));
  EXPECT_EQ(c.client->stats().disconnects, 1u);
}

TEST(RedisClient, TlsToASilentPortNamesTheStalledHandshake) {
  // TCP connects; the peer never answers the ClientHello (a plain port waiting for a line).
  testing::FakePeer silent("");
  boost::asio::io_context io;
  RedisClientOptions options = Backoff(milliseconds(50));
  options.connect_timeout = milliseconds(1000);
  Client c(io, silent.Url("rediss"), options);
  ASSERT_TRUE(RunUntil(io, [&] { return !c.events.empty(); }));
  EXPECT_FALSE(c.events[0].first);
  EXPECT_EQ(c.events[0].second, "TLS handshake with 127.0.0.1:" + std::to_string(silent.port()) +
                                    " did not complete in 1 s: is it a TLS port?");
}

TEST(RedisClient, TlsToAPlainRedisPortNamesTheTlsHandshake) {
  RedisServer server;  // plain TCP
  boost::asio::io_context io;
  RedisClientOptions options = Backoff(milliseconds(50));
  options.connect_timeout = milliseconds(1500);
  Client c(io, "rediss://127.0.0.1:" + std::to_string(server.port()), options);
  ASSERT_TRUE(RunUntil(io, [&] { return !c.events.empty(); }));
  EXPECT_FALSE(c.events[0].first);
  // Redis waits for a line end the ClientHello seldom has (a stall), or answers an error line
  // OpenSSL cannot read: either way the message names the handshake and the port.
  EXPECT_THAT(c.events[0].second,
              HasSubstr("TLS handshake with 127.0.0.1:" + std::to_string(server.port())));
  EXPECT_THAT(c.events[0].second, HasSubstr("is it a TLS port?"));
  EXPECT_THAT(c.events[0].second, ::testing::Not(HasSubstr("connect to")));
}

TEST(RedisClient, ReplyTimeoutDropsAStuckConnectionButAllowsBlocking) {
  RedisServer server;
  boost::asio::io_context io;
  RedisClientOptions options = Backoff(milliseconds(50));
  options.connect_timeout = seconds(30);
  options.reply_timeout = milliseconds(400);
  Client c(io, server.Url(), options);
  ASSERT_TRUE(WaitUp(io, c));
  // A blocking command that the server holds for 1.5 s: allowed by its blocks_for.
  auto blmove = c.Issue({"BLMOVE", "none", "x", "RIGHT", "LEFT", "1.5"}, milliseconds(1500));
  ASSERT_TRUE(RunUntil(io, [&] { return blmove->done; }));
  EXPECT_FALSE(blmove->ec);
  EXPECT_EQ(blmove->reply, RedisReply::Nil());
  EXPECT_EQ(c.events.size(), 1u);

  // A server that stops answering: the connection is dropped, then comes back by itself.
  ASSERT_EQ(server.Command({"CLIENT", "PAUSE", "2500", "ALL"}), RedisReply::Status("OK"));
  auto stuck = c.Issue({"GET", "k"});
  ASSERT_TRUE(RunUntil(io, [&] { return stuck->done; }));
  EXPECT_EQ(stuck->ec, RedisErrc::kConnectionLost);
  ASSERT_GE(c.events.size(), 2u);
  EXPECT_THAT(c.events[1].second, HasSubstr("no reply from"));
  ASSERT_TRUE(WaitUp(io, c));
  EXPECT_EQ(Call(io, c, {"PING"}).reply, RedisReply::Status("PONG"));
}

TEST(RedisClient, CommandsBeforeUpFailAtOnce) {
  RedisServer server;
  boost::asio::io_context io;
  Client c(io, server.Url());
  auto early = c.Issue({"PING"});
  auto empty = c.Issue({});
  EXPECT_FALSE(early->done);
  ASSERT_TRUE(RunUntil(io, [&] { return early->done && empty->done; }));
  EXPECT_EQ(early->ec, RedisErrc::kNotConnected);
  EXPECT_EQ(empty->ec, RedisErrc::kInvalidCommand);
  ASSERT_TRUE(WaitUp(io, c));
  EXPECT_EQ(Call(io, c, {"PING"}).reply, RedisReply::Status("PONG"));
}

TEST(RedisClient, CloseFailsPendingCommandsWithClosed) {
  RedisServer server;
  boost::asio::io_context io;
  Client c(io, server.Url());
  ASSERT_TRUE(WaitUp(io, c));
  std::vector<std::shared_ptr<Outcome>> outs;
  outs.push_back(c.Issue({"BLMOVE", "a", "b", "RIGHT", "LEFT", "0"}, RedisClient::kBlockForever));
  for (int i = 0; i < 50; ++i) outs.push_back(c.Issue({"INCR", "n"}));
  c.client->Close();
  c.client->Close();                           // idempotent
  for (auto& o : outs) EXPECT_FALSE(o->done);  // not from inside Close()
  auto after = c.Issue({"PING"});
  ASSERT_TRUE(RunUntil(io, [&] {
    for (auto& o : outs) {
      if (!o->done) return false;
    }
    return after->done;
  }));
  for (auto& o : outs) EXPECT_EQ(o->ec, RedisErrc::kClosed);
  EXPECT_EQ(after->ec, RedisErrc::kClosed);
  RunFor(io, milliseconds(300));
  EXPECT_EQ(c.events.size(), 1u);  // no down report for our own Close()
  EXPECT_FALSE(c.client->up());
}

TEST(RedisClient, DestroyedWithCommandsInFlightDropsCallbacks) {
  RedisServer server(ServerWith("", true));
  boost::asio::io_context io;
  int called = 0;
  int called_before_destruction = -1;
  {
    Client c(io, server.Url());
    ASSERT_TRUE(WaitUp(io, c));
    for (int i = 0; i < 100; ++i) {
      c.client->Command({"SET", "k" + std::to_string(i), std::string(100000, 'v')},
                        [&called](std::error_code, RedisReply) { ++called; });
    }
    c.client->Command(
        {"BLMOVE", "a", "b", "RIGHT", "LEFT", "0"},
        [&called](std::error_code, RedisReply) { ++called; }, RedisClient::kBlockForever);
    io.restart();
    io.poll();                             // some of the writes and reads are under way
    EXPECT_GE(c.client->in_flight(), 1u);  // at least the BLMOVE
    called_before_destruction = called;
    c.client.reset();
  }
  RunFor(io, milliseconds(500));
  EXPECT_EQ(called, called_before_destruction);
  EXPECT_LE(called, 100);

  // Destroyed while connecting (TLS handshake in progress) and from inside its own callback.
  {
    Client connecting(io, server.Url());
    io.restart();
    io.poll();
    connecting.client.reset();
  }
  Client self_destroying(io, server.Url());
  ASSERT_TRUE(WaitUp(io, self_destroying));
  int after = 0;
  self_destroying.client->Command({"PING"}, [&](std::error_code ec, RedisReply) {
    EXPECT_FALSE(ec);
    self_destroying.client.reset();
  });
  self_destroying.client->Command({"PING"}, [&after](std::error_code, RedisReply) { ++after; });
  ASSERT_TRUE(RunUntil(io, [&] { return !self_destroying.client; }));
  RunFor(io, milliseconds(300));
  EXPECT_EQ(after, 0);
}

TEST(RedisClient, StateCallbackMayDestroyTheClient) {
  RedisServer server;
  boost::asio::io_context io;
  auto client = std::make_unique<RedisClient>(io, Url(server.Url()));
  int commands_called = 0;
  client->Start([&](bool up, const std::string&) {
    if (up) {
      client->Command(
          {"BLMOVE", "a", "b", "RIGHT", "LEFT", "0"},
          [&](std::error_code, RedisReply) { ++commands_called; }, RedisClient::kBlockForever);
    } else {
      client.reset();  // on the down report, with a command in flight
    }
  });
  ASSERT_TRUE(RunUntil(io, [&] { return client->in_flight() == 1 && client->up(); }));
  ASSERT_TRUE(RunUntil(io, [&] {
    return server.Command({"INFO", "clients"}).str.find("blocked_clients:1") != std::string::npos;
  }));
  server.Kill();
  ASSERT_TRUE(RunUntil(io, [&] { return !client; }));
  RunFor(io, milliseconds(200));
  EXPECT_EQ(commands_called, 0);
}

}  // namespace
}  // namespace ffpod
