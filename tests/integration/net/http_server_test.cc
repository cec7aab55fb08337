// The HTTP listener against real sockets: routes and status codes, the metrics body checked by
// the real `promtool check metrics`, bind failures, and clients that misbehave while a normal
// request must still be served quickly.
#include "supervisor/net/http_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "supervisor/telemetry/ffpod_metrics.h"
#include "tests/harness/harness.h"

namespace ffpod {
namespace {

using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

// A plain TCP client on 127.0.0.1 that sends exactly the bytes it is given.
class RawConnection {
 public:
  explicit RawConnection(int port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(static_cast<uint16_t>(port));
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  }
  ~RawConnection() {
    if (fd_ >= 0) ::close(fd_);
  }
  RawConnection(const RawConnection&) = delete;
  RawConnection& operator=(const RawConnection&) = delete;

  bool connected() const { return connected_; }

  bool Send(std::string_view bytes) {
    while (!bytes.empty()) {
      ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
      if (n <= 0) return false;
      bytes.remove_prefix(static_cast<size_t>(n));
    }
    return true;
  }

  // Reads whatever arrives within `timeout`; stops early at end of stream (sets closed()).
  // Stops as soon as `until` returns true for the bytes read so far.
  std::string Read(milliseconds timeout, const std::function<bool(const std::string&)>& until) {
    auto deadline = Clock::now() + timeout;
    while (!closed_ && !until(buffer_)) {
      auto left = std::chrono::duration_cast<milliseconds>(deadline - Clock::now()).count();
      if (left <= 0) break;
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(left)) <= 0) break;
      char chunk[16384];
      ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
      if (n <= 0) {
        closed_ = true;
        break;
      }
      buffer_.append(chunk, static_cast<size_t>(n));
    }
    return buffer_;
  }

  // True when the peer closes the connection within `timeout` (data before the close is kept).
  bool WaitClosed(milliseconds timeout) {
    Read(timeout, [](const std::string&) { return false; });
    return closed_;
  }

  bool closed() const { return closed_; }
  std::string& buffer() { return buffer_; }

 private:
  int fd_ = -1;
  bool connected_ = false;
  bool closed_ = false;
  std::string buffer_;
};

struct Reply {
  int status = 0;
  std::map<std::string, std::string> headers;  // names in lower case
  std::string body;
  std::string Header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? "" : it->second;
  }
};

// Parses one response at the front of `*data` (removing it). `head`: no body is expected.
std::optional<Reply> TakeResponse(std::string* data, bool head = false) {
  size_t end = data->find("\r\n\r\n");
  if (end == std::string::npos) return std::nullopt;
  Reply r;
  std::string head_text = data->substr(0, end);
  size_t line_end = head_text.find("\r\n");
  std::string status_line = head_text.substr(0, line_end);
  if (status_line.size() < 12 || !status_line.starts_with("HTTP/1.")) return std::nullopt;
  r.status = std::stoi(status_line.substr(9, 3));
  size_t pos = line_end == std::string::npos ? head_text.size() : line_end + 2;
  while (pos < head_text.size()) {
    size_t next = head_text.find("\r\n", pos);
    if (next == std::string::npos) next = head_text.size();
    std::string line = head_text.substr(pos, next - pos);
    size_t colon = line.find(':');
    std::string name = line.substr(0, colon);
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    size_t value_start = line.find_first_not_of(' ', colon + 1);
    r.headers[name] = value_start == std::string::npos ? "" : line.substr(value_start);
    pos = next + 2;
  }
  size_t length =
      head ? 0 : std::stoul(r.Header("content-length").empty() ? "0" : r.Header("content-length"));
  if (data->size() < end + 4 + length) return std::nullopt;
  r.body = data->substr(end + 4, length);
  data->erase(0, end + 4 + length);
  return r;
}

bool HasWholeResponse(const std::string& data, bool head = false) {
  std::string copy = data;
  return TakeResponse(&copy, head).has_value();
}

// One request on a fresh connection; nullopt when no whole response came within `timeout`.
std::optional<Reply> Request(int port, const std::string& method, const std::string& target,
                             milliseconds timeout = milliseconds(5000)) {
  RawConnection c(port);
  if (!c.connected()) return std::nullopt;
  c.Send(method + " " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
  bool head = method == "HEAD";
  c.Read(timeout, [&](const std::string& d) { return HasWholeResponse(d, head); });
  return TakeResponse(&c.buffer(), head);
}

// Runs the real promtool on `body`; returns its exit status and combined output.
testing::CommandResult Promtool(const std::string& body) {
  ffpod::testing::TempDir dir;
  std::string file = dir / "metrics.txt";
  ffpod::testing::WriteFile(file, body);
  return ffpod::testing::RunCommand(
      {"/bin/sh", "-c",
       "command -v promtool >/dev/null || exit 99; promtool check metrics < " + file});
}

extern "C" char** environ;

// A child process running in the background (the real Prometheus server), its output in a
// file; terminated and reaped on destruction.
class BackgroundProcess {
 public:
  BackgroundProcess(const std::vector<std::string>& argv, const std::string& log_path) {
    std::vector<char*> args;
    for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_adddup2(&fa, 1, 2);
    if (posix_spawnp(&pid_, args[0], &fa, nullptr, args.data(), environ) != 0) pid_ = -1;
    posix_spawn_file_actions_destroy(&fa);
  }
  ~BackgroundProcess() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGTERM);
    for (int i = 0; i < 100; ++i) {
      if (::waitpid(pid_, nullptr, WNOHANG) == pid_) return;
      std::this_thread::sleep_for(milliseconds(50));
    }
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
  BackgroundProcess(const BackgroundProcess&) = delete;
  BackgroundProcess& operator=(const BackgroundProcess&) = delete;
  bool started() const { return pid_ > 0; }

 private:
  pid_t pid_ = -1;
};

// Every family of docs/metrics.md with series: two slots, all results and levels.
void Populate(FfpodMetrics* m, bool with_bitrate) {
  m->SetBuildInfo("5.1.6-0+deb12u1");
  m->SetJobsInFlight(2);
  m->SetReady(true);
  for (const char* reason : {"ok", "input_missing", "network", "stalled", "preempted"}) {
    m->RecordJobFinished(std::string(reason) == "ok" ? "succeeded" : "failed", reason, 42.5);
  }
  m->RecordJobFinished("retrying", "gpu_busy", 3);
  for (int slot : {0, 1}) {
    SlotProgress p{.ratio = 0.25 * (slot + 1),
                   .eta_seconds = 90,
                   .speed_ratio = 1.75,
                   .fps = 59.94,
                   .out_time_seconds = 12.5,
                   .frames = 750 + slot,
                   .total_size_bytes = 1 << 20,
                   .dropped_frames = 1,
                   .duplicated_frames = 2};
    if (with_bitrate) p.bitrate_bytes_per_second = 312500;
    m->SetSlotProgress(slot, "job-" + std::to_string(slot), p);
  }
  for (const char* level : {"error", "warning", "info", "unknown"}) m->CountStderrLine(level, 3);
  m->CountProgressParseErrors(1);
  m->CountStall();
  m->SetEncoderUsable("libx264", true);
  m->SetEncoderUsable("h264_nvenc", false);
  m->SetQueuePending("ffpod", 12, 3.5);
  m->SetRedisUp(true);
  m->CountRedisError(1);
  m->CountOtlpSpansDropped(4);
}

class HttpServerTest : public ::testing::Test {
 protected:
  // Starts a server on 127.0.0.1:0 serving `metrics_` and the flags below.
  std::unique_ptr<HttpServer> StartServer(HttpServerOptions options = {}) {
    if (options.listen == HttpServerOptions{}.listen) options.listen = "127.0.0.1:0";
    HttpProviders providers{
        .metrics = [this] { return metrics_.Render(); },
        .healthy = [this] { return healthy_.load(); },
        .readiness =
            [this] {
              return ready_.load()
                         ? Readiness{true, R"({"ready":true,"failing":[]})"}
                         : Readiness{false, R"({"ready":false,"failing":["redis","draining"]})"};
            },
        .status = [] { return std::string(R"({"mode":"worker","state":"idle","jobs":[]})"); },
    };
    auto server = std::make_unique<HttpServer>(std::move(options), std::move(providers));
    Result<int> port = server->Start();
    EXPECT_TRUE(port.ok()) << (port.ok() ? "" : port.error().message);
    if (port.ok()) {
      EXPECT_GT(*port, 0);
      EXPECT_EQ(server->port(), *port);
      EXPECT_EQ(server->address(), "127.0.0.1:" + std::to_string(*port));
    }
    return server;
  }

  FfpodMetrics metrics_;
  std::atomic<bool> healthy_{true};
  std::atomic<bool> ready_{false};
};

TEST_F(HttpServerTest, MetricsBodyPassesPromtool) {
  Populate(&metrics_, /*with_bitrate=*/false);
  auto server = StartServer();
  std::optional<Reply> r = Request(server->port(), "GET", "/metrics");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->Header("content-type"), "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_EQ(r->body, metrics_.Render());
  EXPECT_NE(r->body.find("ffpod_progress_ratio{slot=\"1\"} 0.5\n"), std::string::npos);

  testing::CommandResult check = Promtool(r->body);
  ASSERT_NE(check.status, 99) << "promtool is not installed (Debian package prometheus)";
  EXPECT_EQ(check.status, 0) << check.out << check.err;
  EXPECT_EQ(check.out, "");
  EXPECT_EQ(check.err, "");
}

// The bitrate gauge is in bytes, Prometheus' base unit: promtool's lint has nothing to say about
// any family, the bitrate included (it flagged the former name in bits).
TEST_F(HttpServerTest, TheBitrateGaugePassesPromtoolsLint) {
  Populate(&metrics_, /*with_bitrate=*/true);
  auto server = StartServer();
  std::optional<Reply> r = Request(server->port(), "GET", "/metrics");
  ASSERT_TRUE(r);
  ASSERT_NE(r->body.find("ffpod_output_bitrate_bytes_per_second{slot=\"0\"} 312500\n"),
            std::string::npos);
  testing::CommandResult check = Promtool(r->body);
  ASSERT_NE(check.status, 99) << "promtool is not installed (Debian package prometheus)";
  EXPECT_EQ(check.status, 0) << check.out << check.err;  // 3: lint problems, 1: parse errors
  EXPECT_EQ(check.out + check.err, "");
}

// The real Prometheus server scrapes the listener and stores what it served.
TEST_F(HttpServerTest, RealPrometheusScrapesTheListener) {
  Populate(&metrics_, /*with_bitrate=*/true);
  auto server = StartServer();
  ffpod::testing::TempDir dir;
  int prometheus_port = ffpod::testing::FreePort();
  ffpod::testing::WriteFile(dir / "prometheus.yml",
                            "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n"
                            "scrape_configs:\n  - job_name: ffpod\n    static_configs:\n"
                            "      - targets: ['" +
                                server->address() + "']\n");
  BackgroundProcess prometheus(
      {"prometheus", "--config.file=" + (dir / "prometheus.yml"),
       "--storage.tsdb.path=" + (dir / "data"),
       "--web.listen-address=127.0.0.1:" + std::to_string(prometheus_port)},
      dir / "prometheus.log");
  ASSERT_TRUE(prometheus.started()) << "prometheus is not installed (Debian package prometheus)";

  // Query until the first scrape has landed (startup plus one interval: a few seconds).
  auto query = [&](const std::string& promql) {
    std::optional<Reply> r = Request(prometheus_port, "GET", "/api/v1/query?query=" + promql);
    return r && r->status == 200 ? r->body : std::string();
  };
  std::string frames;
  auto deadline = Clock::now() + std::chrono::seconds(30);
  while (Clock::now() < deadline) {
    frames = query("ffpod_frames_total");
    if (frames.find("\"1501\"") != std::string::npos) break;
    std::this_thread::sleep_for(milliseconds(200));
  }
  ASSERT_NE(frames.find("\"1501\""), std::string::npos)
      << frames << "\n"
      << ffpod::testing::ReadFile(dir / "prometheus.log");
  std::string up = query("up");
  EXPECT_NE(up.find("\"job\":\"ffpod\""), std::string::npos) << up;
  EXPECT_NE(up.find(",\"1\"]"), std::string::npos) << up;
  std::string ratio = query("ffpod_progress_ratio%7Bslot%3D%221%22%7D");
  EXPECT_NE(ratio.find(",\"0.5\"]"), std::string::npos) << ratio;
  std::string buckets =
      query("ffpod_job_duration_seconds_bucket%7Bresult%3D%22failed%22%2Cle%3D%2260%22%7D");
  EXPECT_NE(buckets.find(",\"4\"]"), std::string::npos) << buckets;
  std::string build = query("ffpod_build_info");
  EXPECT_NE(build.find("\"ffmpeg_version\":\"5.1.6-0+deb12u1\""), std::string::npos) << build;
}

TEST_F(HttpServerTest, RoutesAndStatusCodes) {
  auto server = StartServer();
  int port = server->port();

  std::optional<Reply> r = Request(port, "GET", "/healthz");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "ok\n");
  healthy_ = false;
  r = Request(port, "GET", "/healthz");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 503);
  EXPECT_EQ(r->body, "unhealthy\n");

  r = Request(port, "GET", "/readyz");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 503);
  EXPECT_EQ(r->Header("content-type"), "application/json");
  EXPECT_EQ(r->body, R"({"ready":false,"failing":["redis","draining"]})");
  ready_ = true;
  r = Request(port, "GET", "/readyz");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, R"({"ready":true,"failing":[]})");

  r = Request(port, "GET", "/status");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->Header("content-type"), "application/json");
  EXPECT_EQ(r->body, R"({"mode":"worker","state":"idle","jobs":[]})");

  r = Request(port, "GET", "/metrics?x=1&y");  // query ignored
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, metrics_.Render());

  for (const char* path : {"/", "/metric", "/metrics/", "/healthz/x", "/favicon.ico"}) {
    r = Request(port, "GET", path);
    ASSERT_TRUE(r) << path;
    EXPECT_EQ(r->status, 404) << path;
  }
  for (const char* method : {"POST", "PUT", "DELETE", "OPTIONS", "PATCH"}) {
    r = Request(port, method, "/metrics");
    ASSERT_TRUE(r) << method;
    EXPECT_EQ(r->status, 405) << method;
    EXPECT_EQ(r->Header("allow"), "GET, HEAD") << method;
  }
  r = Request(port, "POST", "/nowhere");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 404);

  // HEAD: the GET headers, no body.
  RawConnection c(port);
  c.Send("HEAD /metrics HTTP/1.1\r\nHost: x\r\n\r\nGET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
  c.Read(milliseconds(5000),
         [](const std::string& d) { return d.find("unhealthy\n") != std::string::npos; });
  std::optional<Reply> head = TakeResponse(&c.buffer(), /*head=*/true);
  ASSERT_TRUE(head);
  EXPECT_EQ(head->status, 200);
  EXPECT_EQ(head->Header("content-length"), std::to_string(metrics_.Render().size()));
  EXPECT_EQ(head->body, "");
  std::optional<Reply> after = TakeResponse(&c.buffer());  // next response starts right after
  ASSERT_TRUE(after);
  EXPECT_EQ(after->status, 503);
}

TEST_F(HttpServerTest, EmptyProviderIsNotServed) {
  HttpServer server(HttpServerOptions{.listen = "127.0.0.1:0"},
                    HttpProviders{.metrics = [] { return std::string("x_total 1\n"); }});
  ASSERT_TRUE(server.Start().ok());
  std::optional<Reply> r = Request(server.port(), "GET", "/status");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 404);
  r = Request(server.port(), "GET", "/metrics");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->body, "x_total 1\n");
}

TEST_F(HttpServerTest, KeepAliveUpToTheLimit) {
  auto server = StartServer(HttpServerOptions{.max_requests_per_connection = 3});
  RawConnection c(server->port());
  const std::string req = "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n";
  for (int i = 1; i <= 3; ++i) {
    c.Send(req);
    c.Read(milliseconds(5000), [](const std::string& d) { return HasWholeResponse(d); });
    std::optional<Reply> r = TakeResponse(&c.buffer());
    ASSERT_TRUE(r) << i;
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(r->Header("connection"), i < 3 ? "" : "close") << i;
  }
  EXPECT_TRUE(c.WaitClosed(milliseconds(2000)));
}

TEST_F(HttpServerTest, DisabledWhenListenIsEmpty) {
  HttpServer server(HttpServerOptions{.listen = ""}, HttpProviders{});
  Result<int> port = server.Start();
  ASSERT_TRUE(port.ok());
  EXPECT_EQ(*port, 0);
  EXPECT_FALSE(server.running());
  EXPECT_EQ(server.address(), "");
}

TEST_F(HttpServerTest, BindFailuresAreOneSentence) {
  auto first = StartServer();
  std::string taken = "127.0.0.1:" + std::to_string(first->port());
  HttpServer second(HttpServerOptions{.listen = taken}, HttpProviders{});
  Result<int> r = second.Start();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message, "cannot listen on " + taken + ": Address already in use");
  EXPECT_FALSE(second.running());

  HttpServer foreign(HttpServerOptions{.listen = "192.0.2.1:0"}, HttpProviders{});  // TEST-NET
  r = foreign.Start();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message, "cannot listen on 192.0.2.1:0: Cannot assign requested address");

  HttpServer bad(HttpServerOptions{.listen = "127.0.0.1:70000"}, HttpProviders{});
  r = bad.Start();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message,
            "--listen expects HOST:PORT with a port from 0 to 65535, got \"127.0.0.1:70000\"");
}

TEST(ListenAddressTest, Parses) {
  struct Case {
    const char* text;
    const char* host;
    int port;
  };
  for (const Case& c :
       {Case{"0.0.0.0:9464", "0.0.0.0", 9464}, Case{":9464", "::", 9464}, Case{"[::]:0", "::", 0},
        Case{"[::1]:65535", "::1", 65535}, Case{"localhost:80", "localhost", 80}}) {
    Result<ListenAddress> a = ParseListenAddress(c.text);
    ASSERT_TRUE(a.ok()) << c.text;
    EXPECT_EQ(a->host, c.host);
    EXPECT_EQ(a->port, c.port);
  }
  for (const char* text :
       {"", "9464", "host:", "host:x1", "host:-1", "host:123456", "[::1:80", "::1]:80", "[]:80"}) {
    Result<ListenAddress> a = ParseListenAddress(text);
    ASSERT_FALSE(a.ok()) << text;
    EXPECT_TRUE(a.error().message.starts_with("--listen expects HOST:PORT")) << a.error().message;
  }
}

// A normal request is answered quickly while other clients connect and say nothing, trickle a
// request byte by byte, send garbage, or send 64 KiB of headers.
TEST_F(HttpServerTest, MisbehavingClientsDoNotStallOthers) {
  Populate(&metrics_, false);
  auto server = StartServer(HttpServerOptions{.read_timeout = milliseconds(1500)});
  int port = server->port();

  std::vector<std::unique_ptr<RawConnection>> idle;
  for (int i = 0; i < 8; ++i) {  // more idle connections than serving threads
    idle.push_back(std::make_unique<RawConnection>(port));
    ASSERT_TRUE(idle.back()->connected());
  }
  RawConnection slow(port);
  slow.Send("GET /metr");
  RawConnection garbage(port);
  const char kTlsHello[] = "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03 not http\r\n\r\n";
  garbage.Send(std::string(kTlsHello, sizeof kTlsHello - 1));
  RawConnection huge(port);
  std::string headers = "GET /metrics HTTP/1.1\r\nHost: x\r\n";
  while (headers.size() < 64 * 1024) headers += "X-Filler: " + std::string(100, 'a') + "\r\n";
  huge.Send(headers + "\r\n");

  for (int i = 0; i < 5; ++i) {
    auto start = Clock::now();
    std::optional<Reply> r = Request(port, "GET", "/metrics", milliseconds(1000));
    auto took = std::chrono::duration_cast<milliseconds>(Clock::now() - start);
    ASSERT_TRUE(r) << "request " << i << " not served within 1 s";
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(r->body, metrics_.Render());
    EXPECT_LT(took.count(), 500) << "request " << i;
    slow.Send("i");  // keeps trickling
  }

  // The malformed ones were answered and closed; the silent ones close at the read timeout.
  ASSERT_TRUE(garbage.WaitClosed(milliseconds(1000)));
  EXPECT_TRUE(garbage.buffer().starts_with("HTTP/1.1 400 Bad Request\r\n")) << garbage.buffer();
  ASSERT_TRUE(huge.WaitClosed(milliseconds(1000)));
  EXPECT_TRUE(huge.buffer().starts_with("HTTP/1.1 431 Request Header Fields Too Large\r\n"))
      << huge.buffer().substr(0, 200);
  auto start = Clock::now();
  EXPECT_TRUE(idle[0]->WaitClosed(milliseconds(4000)));
  EXPECT_TRUE(slow.WaitClosed(milliseconds(4000)));  // a request must arrive whole in time
  EXPECT_EQ(slow.buffer(), "");
  EXPECT_LT(Clock::now() - start, milliseconds(2500));
}

// At the cap, a new connection is served and the oldest one still waiting for its request is
// closed to make room (tests/integration/net/http_starvation_test.cc has the hostile cases).
TEST_F(HttpServerTest, ConnectionLimitClosesTheOldestWaitingConnection) {
  auto server = StartServer(HttpServerOptions{.max_connections = 4});
  int port = server->port();
  std::vector<std::unique_ptr<RawConnection>> held;
  for (int i = 0; i < 4; ++i) {
    held.push_back(std::make_unique<RawConnection>(port));
    ASSERT_TRUE(held.back()->connected());
    // Each accepted before the next (the order of the table is the order of accepts).
    held.back()->Send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
    held.back()->Read(milliseconds(5000), [](const std::string& d) { return HasWholeResponse(d); });
    ASSERT_TRUE(TakeResponse(&held.back()->buffer())) << i;
  }
  held[1]->Send("GET /heal");  // the others idle, kept alive; this one is reading
  std::optional<Reply> r = Request(port, "GET", "/healthz", milliseconds(2000));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_TRUE(held[0]->WaitClosed(milliseconds(2000)));  // the oldest idle one
  EXPECT_EQ(server->counters().evicted, 1u);
  RawConnection extra(port);  // full again: the next idle one makes room, not the reading one
  r = Request(port, "GET", "/healthz", milliseconds(2000));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_TRUE(held[2]->WaitClosed(milliseconds(2000)));
  // (held[3] too, when the first request's connection was not yet gone when `extra` came)
  EXPECT_GE(server->counters().evicted, 2u);
  held[1]->Send("thz HTTP/1.1\r\nHost: x\r\n\r\n");  // still open: it finishes its request
  held[1]->Read(milliseconds(5000), [](const std::string& d) { return HasWholeResponse(d); });
  r = TakeResponse(&held[1]->buffer());
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(server->counters().refused, 0u);
}

// A kept-alive connection may wait `idle_timeout` for its next request, longer than the read
// timeout; that request's own deadline starts at its first byte.
TEST_F(HttpServerTest, KeptAliveConnectionWaitsTheIdleTimeout) {
  auto server = StartServer(
      HttpServerOptions{.read_timeout = milliseconds(300), .idle_timeout = milliseconds(5000)});
  RawConnection c(server->port());
  for (int i = 0; i < 2; ++i) {
    if (i == 1) std::this_thread::sleep_for(milliseconds(600));  // idle past the read timeout
    c.Send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
    c.Read(milliseconds(5000), [](const std::string& d) { return HasWholeResponse(d); });
    std::optional<Reply> r = TakeResponse(&c.buffer());
    ASSERT_TRUE(r) << i;
    EXPECT_EQ(r->status, 200);
  }
  c.Send("GET /hea");  // then trickles: closed at that request's read deadline, unanswered
  EXPECT_TRUE(c.WaitClosed(milliseconds(3000)));
  EXPECT_EQ(c.buffer(), "");
}

TEST_F(HttpServerTest, ConcurrentScrapesDuringUpdates) {
  auto server = StartServer();
  int port = server->port();
  std::atomic<bool> stop{false};
  std::thread writer([&] {
    for (int i = 0; !stop.load(); ++i) {
      metrics_.SetSlotProgress(i % 3, "j", {.ratio = (i % 100) / 100.0, .frames = i});
      if (i % 7 == 0) metrics_.ClearSlot(i % 3);
      metrics_.CountStderrLine("info");
    }
  });
  std::atomic<int> ok{0};
  std::vector<std::thread> scrapers;
  for (int t = 0; t < 4; ++t) {
    scrapers.emplace_back([&] {
      for (int i = 0; i < 50; ++i) {
        std::optional<Reply> r = Request(port, "GET", "/metrics");
        if (r && r->status == 200 && r->body.ends_with("\n") &&
            r->body.find("# TYPE ffpod_otlp_spans_dropped_total counter\n") != std::string::npos) {
          ok.fetch_add(1);
        }
      }
    });
  }
  for (std::thread& s : scrapers) s.join();
  stop = true;
  writer.join();
  EXPECT_EQ(ok.load(), 200);
}

TEST_F(HttpServerTest, StopClosesConnectionsAndReturns) {
  auto server = StartServer();
  RawConnection c(server->port());
  c.Send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
  c.Read(milliseconds(5000), [](const std::string& d) { return HasWholeResponse(d); });
  ASSERT_TRUE(TakeResponse(&c.buffer()));
  auto start = Clock::now();
  server->Stop();
  EXPECT_LT(Clock::now() - start, milliseconds(1000));
  EXPECT_FALSE(server->running());
  EXPECT_TRUE(c.WaitClosed(milliseconds(1000)));
  RawConnection after(server->port());
  EXPECT_FALSE(after.connected());
  server->Stop();  // idempotent
}

}  // namespace
}  // namespace ffpod
