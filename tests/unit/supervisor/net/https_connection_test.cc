// The sender's connection against real local servers (tests/harness/otlp_receiver.h, plain and
// TLS): the request on the wire, one kept-alive connection or one per request, reconnecting
// after the server closed, the request timeout, TLS with a CA file and a client certificate, name
// lookups, and the error sentences of each step.
#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <thread>

#include "supervisor/net/https_sender.h"
#include "tests/harness/harness.h"
#include "tests/harness/otlp_receiver.h"
#include "tests/harness/redis_server.h"
#include "tests/unit/supervisor/net/recording_delegate.h"

namespace ffpod {
namespace {

using namespace std::chrono_literals;
using testing::ReceivedRequest;
using testing::Receiver;
using testing::RecordingDelegate;
using testing::Reply;
using testing::TempDir;
using testing::TestMessage;
using testing::WaitFor;
using Clock = std::chrono::steady_clock;

HttpsSenderOptions To(const std::string& host, int port) {
  HttpsSenderOptions o;
  o.host = host;
  o.port = static_cast<uint16_t>(port);
  o.host_header = host + ":" + std::to_string(port);
  o.request_timeout = 2s;
  o.backoff = {20ms, 50ms, BackoffJitter::kEqual};
  return o;
}

// Starts a sender, sends `bodies` (one message each, at most `attempts` attempts), and shuts it
// down once every message was delivered or given up.
std::shared_ptr<RecordingDelegate> SendAll(const HttpsSenderOptions& o,
                                           const std::vector<std::string>& bodies,
                                           int attempts = 1) {
  auto d = std::make_shared<RecordingDelegate>();
  auto sender = HttpsSender::Start(o, d);
  EXPECT_TRUE(sender.ok()) << sender.error().message;
  if (!sender.ok()) return d;
  for (const auto& b : bodies) {
    d->Add(TestMessage(b, Clock::time_point::max(), attempts));
    (*sender)->Wake();
    EXPECT_TRUE(WaitFor([&] { return d->delivered() + d->give_ups().size() >= 1; }, 10s));
    std::this_thread::sleep_for(50ms);  // a server that closes has closed by now
  }
  EXPECT_TRUE((*sender)->Shutdown(Clock::now() + 5s));
  return d;
}

TEST(HttpsConnection, OneKeptAliveConnectionCarriesEveryRequestAsBuilt) {
  Receiver receiver;
  HttpsSenderOptions o = To("127.0.0.1", receiver.port());
  auto d = SendAll(o, {"a", "b", "c"});
  auto requests = receiver.requests();
  ASSERT_EQ(requests.size(), 3u);
  EXPECT_EQ(receiver.connections(), 1);
  for (const auto& r : requests) {
    EXPECT_EQ(r.method, "POST");
    EXPECT_EQ(r.target, "/v1/test");
    EXPECT_EQ(r.headers.at("host"), "127.0.0.1:" + std::to_string(receiver.port()));
    EXPECT_EQ(r.headers.at("user-agent"), "ffpod-test");
    EXPECT_EQ(r.headers.at("x-test"), "1");
    EXPECT_EQ(r.headers.count("connection"), 0u);
    EXPECT_EQ(r.headers.at("content-length"), "1");
  }
  EXPECT_EQ(requests[2].body, "c");
  EXPECT_EQ(d->delivered(), 3u);
}

TEST(HttpsConnection, WithoutKeepAliveEachRequestHasItsOwnConnection) {
  Receiver receiver;
  HttpsSenderOptions o = To("127.0.0.1", receiver.port());
  o.keep_alive = false;
  auto d = SendAll(o, {"a", "b"});
  ASSERT_EQ(receiver.count(), 2u);
  EXPECT_EQ(receiver.connections(), 2);
  EXPECT_EQ(receiver.requests()[0].headers.at("connection"), "close");
  EXPECT_EQ(d->delivered(), 2u);
}

TEST(HttpsConnection, AConnectionTheServerClosedIsReopenedWithoutAFailedAttempt) {
  for (bool announced : {true, false}) {
    Receiver receiver([&](const ReceivedRequest&, size_t) {
      Reply r;
      r.close = announced;  // `Connection: close`
      r.drop = !announced;  // closed while idle although kept alive
      return r;
    });
    auto d = SendAll(To("127.0.0.1", receiver.port()), {"a", "b", "c"});
    EXPECT_EQ(receiver.connections(), 3) << announced;
    EXPECT_EQ(d->attempts().size(), 3u) << announced;  // every attempt judged once, delivered
    EXPECT_EQ(d->delivered(), 3u) << announced;
  }
}

TEST(HttpsConnection, AnAttemptThatTimesOutClosesItsConnection) {
  Receiver receiver([](const ReceivedRequest&, size_t i) {
    Reply r;
    r.hang = i == 0;
    return r;
  });
  HttpsSenderOptions o = To("127.0.0.1", receiver.port());
  o.request_timeout = 300ms;
  o.read_error = "reading what the test server said";
  auto d = SendAll(o, {"a"}, 2);
  auto requests = receiver.requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_GE(requests[1].at - requests[0].at, 300ms);
  EXPECT_NE(requests[0].connection, requests[1].connection);
  auto attempts = d->attempts();
  ASSERT_EQ(attempts.size(), 2u);
  EXPECT_EQ(attempts[0].error, "reading what the test server said: timed out");
  EXPECT_EQ(attempts[1].status, 200);
}

TEST(HttpsConnection, AnswersLongerThanTheLimitAreFailedAttempts) {
  Receiver receiver([](const ReceivedRequest&, size_t) {
    Reply r;
    r.body = std::string(2000, 'x');
    return r;
  });
  HttpsSenderOptions o = To("127.0.0.1", receiver.port());
  o.max_response_bytes = 1000;
  auto d = SendAll(o, {"a"});
  ASSERT_EQ(d->attempts().size(), 1u);
  EXPECT_EQ(d->attempts()[0].error.rfind("reading the answer of 127.0.0.1:", 0), 0u)
      << d->attempts()[0].error;
  EXPECT_EQ(d->give_ups().size(), 1u);
}

TEST(HttpsConnection, NamesAreLookedUpAndFailuresSaySoInOneSentence) {
  Receiver receiver;
  auto named = SendAll(To("localhost", receiver.port()), {"a"});
  EXPECT_EQ(named->delivered(), 1u);
  EXPECT_EQ(receiver.requests()[0].headers.at("host"),
            "localhost:" + std::to_string(receiver.port()));

  const int port = testing::FreePort();  // nothing listens there
  auto refused = SendAll(To("127.0.0.1", port), {"a"});
  ASSERT_EQ(refused->attempts().size(), 1u);
  EXPECT_EQ(refused->attempts()[0].error,
            "connecting to 127.0.0.1:" + std::to_string(port) + ": Connection refused");

  HttpsSenderOptions unknown = To("no-such-host.invalid", port);
  unknown.lookup_error = "looking up the test server";
  auto lost = SendAll(unknown, {"a"});
  ASSERT_EQ(lost->attempts().size(), 1u);
  EXPECT_EQ(lost->attempts()[0].error.rfind("looking up the test server: ", 0), 0u)
      << lost->attempts()[0].error;
}

TEST(HttpsConnection, TlsWithTheCaAndAClientCertificateByAddressAndByName) {
  TempDir dir;
  auto certs = testing::MakeTestCertificates(dir / "certs");
  Receiver receiver({}, certs.server_cert, certs.server_key, certs.ca_cert);
  for (const std::string host : {"127.0.0.1", "localhost"}) {
    HttpsSenderOptions o = To(host, receiver.port());
    o.tls = true;
    o.tls_files.ca_file = certs.ca_cert;
    o.tls_files.cert_file = certs.client_cert;
    o.tls_files.key_file = certs.client_key;
    auto d = SendAll(o, {"secret"});
    EXPECT_EQ(d->delivered(), 1u) << host;
  }
  EXPECT_EQ(receiver.count(), 2u);

  // The receiver demands a client certificate its CA signed: each request arrived over a
  // handshake verified both ways.
  for (const auto& r : receiver.requests()) EXPECT_EQ(r.body, "secret");
}

TEST(HttpsConnection, AServerAnotherCaSignedIsRefusedAndUnreadableFilesFailTheStart) {
  TempDir dir;
  auto certs = testing::MakeTestCertificates(dir / "certs");
  auto other = testing::MakeTestCertificates(dir / "other");
  Receiver receiver({}, other.server_cert, other.server_key);
  HttpsSenderOptions o = To("127.0.0.1", receiver.port());
  o.tls = true;
  o.tls_files.ca_file = certs.ca_cert;
  auto d = SendAll(o, {"secret"});
  ASSERT_EQ(d->attempts().size(), 1u);
  EXPECT_NE(d->attempts()[0].error.find("certificate verify failed"), std::string::npos)
      << d->attempts()[0].error;
  EXPECT_EQ(receiver.count(), 0u);

  o.tls_files.ca_file = dir / "missing.pem";
  o.tls_files.ca_label = "test CA file";
  auto refused = HttpsSender::Start(o, std::make_shared<RecordingDelegate>());
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().message.rfind("test CA file " + dir / "missing.pem", 0), 0u)
      << refused.error().message;
}

}  // namespace
}  // namespace ffpod
