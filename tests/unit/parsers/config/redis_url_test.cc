#include "parsers/config/redis_url.h"

#include <gtest/gtest.h>

namespace ffpod {
namespace {

RedisUrl Parse(std::string_view text) {
  auto r = ParseRedisUrl(text);
  EXPECT_TRUE(r.ok()) << text << ": " << (r.ok() ? "" : r.error().message);
  return r.ok() ? r.value() : RedisUrl{};
}

std::string ParseError(std::string_view text) {
  auto r = ParseRedisUrl(text);
  EXPECT_FALSE(r.ok()) << text << " was accepted";
  return r.ok() ? "" : r.error().message;
}

TEST(RedisUrl, PlainHostDefaultsPortAndDb) {
  RedisUrl u = Parse("redis://redis.queue.svc");
  EXPECT_EQ(u.transport, RedisTransport::kTcp);
  EXPECT_EQ(u.host, "redis.queue.svc");
  EXPECT_EQ(u.port, 6379);
  EXPECT_EQ(u.db, 0);
  EXPECT_EQ(u.user, "");
  EXPECT_EQ(u.password, "");
  EXPECT_EQ(u.tls, RedisTlsOptions{});
  EXPECT_EQ(Parse("redis://redis.queue.svc/"), u);
  EXPECT_EQ(Parse("REDIS://redis.queue.svc:6379/0"), u);
}

TEST(RedisUrl, PortDbAndPassword) {
  RedisUrl u = Parse("redis://:s3cret@10.0.0.7:6380/5");
  EXPECT_EQ(u.host, "10.0.0.7");
  EXPECT_EQ(u.port, 6380);
  EXPECT_EQ(u.db, 5);
  EXPECT_EQ(u.user, "");
  EXPECT_EQ(u.password, "s3cret");
  EXPECT_EQ(Parse("redis://:s3cret@10.0.0.7:6380?db=5"), u);
}

TEST(RedisUrl, AclUserAndPercentDecoding) {
  RedisUrl u = Parse("redis://work%3Aer:p%40ss%25w%2Frd@h:1/2");
  EXPECT_EQ(u.user, "work:er");
  EXPECT_EQ(u.password, "p@ss%w/rd");
  EXPECT_EQ(u.host, "h");
  EXPECT_EQ(u.port, 1);
  EXPECT_EQ(u.db, 2);
}

TEST(RedisUrl, RawSpecialCharactersInPassword) {
  // The user-info ends at the last '@': '/', '?', '#', ':' and '@' may appear raw in it.
  RedisUrl u = Parse("redis://worker:a/b?c#d:e@f@redis:7000/3");
  EXPECT_EQ(u.user, "worker");
  EXPECT_EQ(u.password, "a/b?c#d:e@f");
  EXPECT_EQ(u.host, "redis");
  EXPECT_EQ(u.port, 7000);
  EXPECT_EQ(u.db, 3);
}

TEST(RedisUrl, Ipv6) {
  RedisUrl u = Parse("redis://[::1]:6390/1");
  EXPECT_EQ(u.host, "::1");
  EXPECT_EQ(u.port, 6390);
  EXPECT_EQ(u.db, 1);
  EXPECT_EQ(u.Address(), "[::1]:6390");
  RedisUrl v = Parse("redis://[fe80::1:2]");
  EXPECT_EQ(v.host, "fe80::1:2");
  EXPECT_EQ(v.port, 6379);
  EXPECT_EQ(Parse("redis://[::ffff:10.0.0.1]:1").host, "::ffff:10.0.0.1");
}

TEST(RedisUrl, TlsWithParameters) {
  RedisUrl u = Parse(
      "rediss://worker:pw@redis:6380/4?ca_file=%2Fetc%2Fca.pem&cert_file=/c.pem&key_file=/k.pem"
      "&server_name=redis.internal&insecure_skip_verify=false");
  EXPECT_EQ(u.transport, RedisTransport::kTls);
  EXPECT_EQ(u.host, "redis");
  EXPECT_EQ(u.port, 6380);
  EXPECT_EQ(u.db, 4);
  EXPECT_EQ(u.tls.ca_file, "/etc/ca.pem");
  EXPECT_EQ(u.tls.cert_file, "/c.pem");
  EXPECT_EQ(u.tls.key_file, "/k.pem");
  EXPECT_EQ(u.tls.server_name, "redis.internal");
  EXPECT_FALSE(u.tls.insecure_skip_verify);
  EXPECT_TRUE(Parse("rediss://h?insecure_skip_verify=true").tls.insecure_skip_verify);
  EXPECT_TRUE(Parse("rediss://h?insecure_skip_verify=1").tls.insecure_skip_verify);
  EXPECT_EQ(Parse("rediss://h").port, 6379);
}

TEST(RedisUrl, UnixSocket) {
  RedisUrl u = Parse("unix:///run/redis/redis.sock");
  EXPECT_EQ(u.transport, RedisTransport::kUnix);
  EXPECT_EQ(u.path, "/run/redis/redis.sock");
  EXPECT_EQ(u.db, 0);
  EXPECT_EQ(u.host, "");
  EXPECT_EQ(u.Address(), "/run/redis/redis.sock");

  RedisUrl v = Parse("unix://w:p%3Fw@/tmp/my%20redis.sock?db=9");
  EXPECT_EQ(v.path, "/tmp/my redis.sock");
  EXPECT_EQ(v.user, "w");
  EXPECT_EQ(v.password, "p?w");
  EXPECT_EQ(v.db, 9);
  EXPECT_EQ(Parse("unix://:pw@/s").password, "pw");
}

TEST(RedisUrl, UnixPathLengthLimit) {
  std::string path = "/" + std::string(106, 'a');  // 107 bytes: the most sun_path holds
  EXPECT_EQ(Parse("unix://" + path).path, path);
  EXPECT_NE(ParseError("unix://" + path + "a").find("longer than 107"), std::string::npos);
}

TEST(RedisUrl, Redacted) {
  EXPECT_EQ(Parse("redis://:s3cret@h:1/2").Redacted(), "redis://:REDACTED@h:1/2");
  EXPECT_EQ(Parse("redis://h").Redacted(), "redis://h:6379");
  EXPECT_EQ(Parse("redis://u%40x:pw@[::1]").Redacted(), "redis://u%40x:REDACTED@[::1]:6379");
  EXPECT_EQ(Parse("rediss://w:pw@h:6380/3?ca_file=/etc/ca.pem&insecure_skip_verify=yes").Redacted(),
            "rediss://w:REDACTED@h:6380/3?ca_file=%2Fetc%2Fca.pem&insecure_skip_verify=true");
  EXPECT_EQ(Parse("unix://:pw@/tmp/a%20b.sock?db=2").Redacted(),
            "unix://:REDACTED@/tmp/a%20b.sock?db=2");
  // Redacted() of a URL without secrets parses back to the same URL.
  for (std::string_view text : {"redis://h:1/2", "rediss://[::1]:7/1?ca_file=/x%40y&server_name=n",
                                "unix:///tmp/a%20b.sock?db=2"}) {
    RedisUrl u = Parse(text);
    EXPECT_EQ(Parse(u.Redacted()), u) << text;
  }
}

TEST(RedisUrl, RedactedNeverShowsThePassword) {
  for (std::string_view text :
       {"redis://:hunter2@h", "rediss://u:hunter2@h:1/1?ca_file=/c", "unix://u:hunter2@/s"}) {
    EXPECT_EQ(Parse(text).Redacted().find("hunter2"), std::string::npos) << text;
  }
}

struct BadCase {
  std::string_view url;
  std::string_view expect;  // substring of the error
};

TEST(RedisUrl, BadInputsNameTheProblem) {
  const BadCase kCases[] = {
      {"", "must start with"},
      {"localhost:6379", "must start with"},
      {"http://h", "scheme 'http'"},
      {"redis://", "has no host"},
      {"redis://:6379", "has no host"},
      {"redis://h:", "port is not a number in 1-65535"},
      {"redis://h:0", "port is not a number"},
      {"redis://h:65536", "port is not a number"},
      {"redis://h:12ab", "port is not a number"},
      {"redis://h:-1", "port is not a number"},
      {"redis://h/x", "database is not a non-negative number"},
      {"redis://h/-1", "database '-1'"},
      {"redis://h/1/2", "database is not"},
      {"redis://h/99999999999", "database '99999999999'"},
      {"redis://h/1?db=2", "both as the path and as ?db="},
      {"redis://h?db=x", "database is not"},
      {"redis://::1:6379", "several ':'"},
      {"redis://[::1", "without ']'"},
      {"redis://[]:1", "not an IPv6 address"},
      {"redis://[h.example]:1", "not an IPv6 address"},
      {"redis://[::1]x", "unexpected text after ']'"},
      {"redis://ho st", "spaces"},
      {"redis://h\x01", "control characters"},
      {"redis://h!x", "not allowed in a host name"},
      {"redis://h#frag", "fragments"},
      {"redis://user@h", "names a user without a password"},
      {"user:pw@redis://h", "must start with"},
      {"redis://user:@h", "without a password"},
      {"redis://:p%zz@h", "password has a malformed percent-escape"},
      {"redis://:p%4@h", "password has a malformed percent-escape"},
      {"redis://u%g1:p@h", "user name has a malformed percent-escape"},
      {"redis://h?ca_file=/ca.pem", "needs the rediss:// scheme"},
      {"redis://h?timeout=5", "unknown parameter 'timeout'"},
      {"rediss://h?ca_file=", "'ca_file' is empty"},
      {"rediss://h?ca_file=/a&ca_file=/b", "twice"},
      {"rediss://h?cert_file=/c.pem", "cert_file and key_file together"},
      {"rediss://h?key_file=/k.pem", "cert_file and key_file together"},
      {"rediss://h?insecure_skip_verify=maybe", "is not true or false"},
      {"rediss://h?server_name=%", "malformed percent-escape"},
      {"unix://", "no socket path"},
      {"unix:///", "no socket path"},
      {"unix://host/path", "takes no host"},
      {"unix:///s%00x", "NUL"},
      {"unix:///s?ca_file=/c", "needs the rediss:// scheme"},
  };
  for (const auto& c : kCases) {
    std::string message = ParseError(c.url);
    EXPECT_NE(message.find(c.expect), std::string::npos)
        << "url: " << c.url << "\nerror: " << message;
    EXPECT_EQ(message.rfind("redis URL ", 0), 0u) << message;
  }
}

TEST(RedisUrl, ErrorsNeverShowThePasswordEvenWhenMalformed) {
  for (std::string_view text :
       {"redis://:hunter2@h:bad", "redis://u:hunter2@", "redis://:hunter2@h/x",
        "redis://u:hunter2%zz@h", "redis://:hunter2@h?x=1", "unix://:hunter2@host/s",
        // Malformed around the user-info: no '@', or no ':' before the password.
        "redis://worker:hunter2", "rediss://worker:hunter2/0", "redis://:hunter2:6379",
        "redis://hunter2@redis:6379", "rediss://hunter2@h/0?ca_file=/c", "hunter2@redis://h",
        "redis:hunter2@h", "redis://worker:hunter2@",
        // A password where the host, the database, a parameter or a value stands.
        "redis://hunter2!x", "redis://h:6379/hunter2", "redis://h?db=hunter2", "redis://h?hunter2",
        "rediss://h?insecure_skip_verify=hunter2", "redis://[hunter2]:1", "unix://hunter2@h/s"}) {
    std::string message = ParseError(text);
    EXPECT_EQ(message.find("hunter2"), std::string::npos) << message;
  }
}

TEST(RedisUrl, SentinelsMasterAndDb) {
  RedisUrl u = Parse("redis+sentinel://:s3cret@s1.queue.svc,10.0.0.8:26380,[::1]/mymaster/2");
  EXPECT_EQ(u.transport, RedisTransport::kTcp);
  EXPECT_TRUE(u.sentinel());
  ASSERT_EQ(u.sentinels.size(), 3u);
  EXPECT_EQ(u.sentinels[0], (RedisHostPort{"s1.queue.svc", 26379}));
  EXPECT_EQ(u.sentinels[1], (RedisHostPort{"10.0.0.8", 26380}));
  EXPECT_EQ(u.sentinels[2], (RedisHostPort{"::1", 26379}));
  EXPECT_EQ(u.master_name, "mymaster");
  EXPECT_EQ(u.db, 2);
  EXPECT_EQ(u.password, "s3cret");
  EXPECT_EQ(u.host, "");
  EXPECT_EQ(u.Address(), "mymaster via sentinel s1.queue.svc:26379,10.0.0.8:26380,[::1]:26379");
  EXPECT_EQ(u.Redacted(),
            "redis+sentinel://:REDACTED@s1.queue.svc:26379,10.0.0.8:26380,[::1]:26379/mymaster/2");
  RedisUrl tls = Parse(
      "rediss+sentinel://s1:26379/queue%20primary?ca_file=/ca.pem&sentinel_user=watch&"
      "sentinel_password=hunter2&db=4");
  EXPECT_EQ(tls.transport, RedisTransport::kTls);
  EXPECT_EQ(tls.master_name, "queue primary");
  EXPECT_EQ(tls.db, 4);
  EXPECT_EQ(tls.tls.ca_file, "/ca.pem");
  EXPECT_EQ(tls.sentinel_user, "watch");
  EXPECT_EQ(tls.sentinel_password, "hunter2");
  EXPECT_EQ(tls.Redacted().find("hunter2"), std::string::npos) << tls.Redacted();
  EXPECT_FALSE(Parse("redis://h").sentinel());
}

TEST(RedisUrl, SentinelMistakesNameTheProblem) {
  const BadCase kCases[] = {
      {"redis+sentinel://s1", "names no primary"},
      {"redis+sentinel://s1/", "names no primary"},
      {"redis+sentinel://s1,/m", "sentinel has no host"},
      {"redis+sentinel://s1:0/m", "sentinel port is not a number"},
      {"redis+sentinel://s1/m/x", "database is not"},
      {"redis+sentinel://s1/m/1?db=1", "both as the path and as ?db="},
      {"redis+sentinel://s1/m?sentinel_user=u", "sentinel_user without a sentinel_password"},
      {"redis://h?sentinel_password=p", "needs a redis+sentinel:// URL"},
      {"redis+sentinel://s1/m?ca_file=/c", "needs the rediss:// scheme"},
      {"sentinel://s1/m", "scheme 'sentinel' is not one of"},
  };
  for (const auto& c : kCases) {
    std::string message = ParseError(c.url);
    EXPECT_NE(message.find(c.expect), std::string::npos)
        << "url: " << c.url << "\nerror: " << message;
    EXPECT_EQ(message.rfind("redis URL ", 0), 0u) << message;
  }
}

}  // namespace
}  // namespace ffpod
