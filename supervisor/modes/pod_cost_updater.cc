#include "supervisor/modes/pod_cost_updater.h"

#include <algorithm>
#include <atomic>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <fstream>
#include <random>
#include <sstream>
#include <thread>

#include "parsers/policy/pod_cost.h"
#include "supervisor/net/tls_client.h"

namespace ffpod {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

namespace {

constexpr auto kUseAwaitable = asio::as_tuple(asio::use_awaitable);

Result<std::shared_ptr<asio::ssl::context>> MakeTlsContext(const PodCostUpdaterOptions& o) {
  TlsClientFiles files;
  files.ca_file = o.ca_file;
  files.ca_label = "Kubernetes API CA file";
  files.prefix = "Kubernetes API TLS";
  return MakeClientTlsContext(files);
}

// The token file's content without surrounding whitespace, or an error sentence.
std::string ReadToken(const std::string& path, std::string* error) {
  std::ifstream in(path);
  if (!in) {
    *error = "cannot read the service account token " + path +
             " (is automountServiceAccountToken false?)";
    return {};
  }
  std::stringstream buf;
  buf << in.rdbuf();
  std::string token = buf.str();
  auto space = [](char c) { return c == ' ' || c == '\n' || c == '\r' || c == '\t'; };
  while (!token.empty() && space(token.back())) token.pop_back();
  size_t first = 0;
  while (first < token.size() && space(token[first])) ++first;
  token.erase(0, first);
  if (token.empty()) *error = "the service account token " + path + " is empty";
  return token;
}

}  // namespace

class PodCostUpdater::State : public std::enable_shared_from_this<State> {
 public:
  explicit State(PodCostUpdaterOptions o) : options(std::move(o)) {
    boost::system::error_code not_ip;
    asio::ip::make_address(options.host, not_ip);
    host_is_address = !not_ip;
    host_header = options.host.find(':') != std::string::npos
                      ? "[" + options.host + "]:" + std::to_string(options.port)
                      : options.host + ":" + std::to_string(options.port);
    path = PodApiPath(options.ns, options.pod);
  }

  asio::awaitable<void> Run();
  // One PATCH; an empty string when the API server accepted it, else why not.
  asio::awaitable<std::string> PatchOnce(int64_t cost);
  void Log(Severity level, std::string_view msg, const boost::json::object& fields) const {
    if (options.logger) options.logger->Log(level, msg, fields);
  }

  PodCostUpdaterOptions options;
  bool host_is_address = false;
  std::string host_header;
  std::string path;
  asio::io_context io;
  asio::steady_timer wake{io};           // waits for Set; cancelled by Set and Shutdown
  asio::steady_timer retry{io};          // backoff; cancelled by Shutdown only
  beast::tcp_stream* current = nullptr;  // the request in flight (io thread only)
  std::atomic<int64_t> wanted{-1};
  std::atomic<bool> stopping{false};
  std::atomic<int64_t> applied{-1};
  std::atomic<uint64_t> requests{0};
  std::atomic<uint64_t> failures{0};
  bool failing = false;  // io thread only
  std::string last_error;
  std::mt19937_64 rng{std::random_device{}()};
  std::thread thread;
};

asio::awaitable<void> PodCostUpdater::State::Run() {
  milliseconds backoff = options.initial_backoff;
  while (!stopping) {
    int64_t want = wanted.load();
    if (want < 0 || want == applied.load()) {
      wake.expires_at(Clock::time_point::max());
      co_await wake.async_wait(kUseAwaitable);
      continue;
    }
    std::string error = co_await PatchOnce(want);
    if (stopping) break;
    ++requests;
    if (error.empty()) {
      applied = want;
      if (failing) {
        Log(Severity::kInfo, "pod-deletion-cost updates work again", {{"cost", want}});
      }
      failing = false;
      last_error.clear();
      backoff = options.initial_backoff;
      continue;
    }
    ++failures;
    milliseconds wait =
        backoff + milliseconds(std::uniform_int_distribution<int64_t>(0, backoff.count() / 4)(rng));
    if (!failing || error != last_error) {
      Log(Severity::kWarning, "cannot update this pod's pod-deletion-cost; retrying",
          {{"error", error},
           {"pod", options.ns + "/" + options.pod},
           {"retry_in_s", static_cast<double>(wait.count()) / 1000.0}});
    }
    failing = true;
    last_error = error;
    retry.expires_after(wait);
    co_await retry.async_wait(kUseAwaitable);
    backoff = std::min(backoff * 2, options.max_backoff);
  }
}

asio::awaitable<std::string> PodCostUpdater::State::PatchOnce(int64_t cost) {
  std::string error;
  std::string token = ReadToken(options.token_file, &error);
  if (!error.empty()) co_return error;
  auto tls_context = MakeTlsContext(options);
  if (!tls_context) co_return tls_context.error().message;

  const auto deadline = Clock::now() + options.request_timeout;
  beast::ssl_stream<beast::tcp_stream> stream(io, **tls_context);
  beast::tcp_stream& socket = beast::get_lowest_layer(stream);
  current = &socket;
  struct Forget {
    State* s;
    ~Forget() { s->current = nullptr; }
  } forget{this};
  socket.expires_at(deadline);
  boost::system::error_code connect_error;
  if (host_is_address) {
    tcp::endpoint endpoint(asio::ip::make_address(options.host),
                           static_cast<unsigned short>(options.port));
    auto [ec] = co_await socket.async_connect(endpoint, kUseAwaitable);
    connect_error = stopping ? asio::error::operation_aborted : ec;
  } else {
    // KUBERNETES_SERVICE_HOST is an address; a name (a proxy, tests) is looked up here.
    tcp::resolver resolver(io);
    auto [rec, found] =
        co_await resolver.async_resolve(options.host, std::to_string(options.port), kUseAwaitable);
    if (rec) co_return "looking up " + options.host + ": " + DescribeNetError(rec);
    if (stopping) co_return "stopping";
    auto [ec, ep] = co_await socket.async_connect(found, kUseAwaitable);
    (void)ep;
    connect_error = stopping ? asio::error::operation_aborted : ec;
  }
  if (connect_error)
    co_return "connecting to " + host_header + ": " + DescribeNetError(connect_error);
  // Each step below checks `stopping`: Shutdown's cancel only reaches the operation pending
  // when it runs, not the next one.
  SetServerIdentity(stream.native_handle(), options.host);
  if (auto [ec] = co_await stream.async_handshake(asio::ssl::stream_base::client, kUseAwaitable);
      ec) {
    co_return "TLS handshake with " + host_header + ": " +
        HandshakeFailure(stream.native_handle(), DescribeNetError(ec));
  }
  if (stopping) co_return "stopping";

  http::request<http::string_body> req{http::verb::patch, path, 11};
  req.set(http::field::host, host_header);
  req.set(http::field::authorization, "Bearer " + token);
  req.set(http::field::content_type, "application/merge-patch+json");
  req.set(http::field::accept, "application/json");
  req.set(http::field::user_agent, "ffpod");
  req.set(http::field::connection, "close");
  req.body() = PodDeletionCostPatch(cost);
  req.prepare_payload();
  if (auto [ec, n] = co_await http::async_write(stream, req, kUseAwaitable); ec) {
    (void)n;
    co_return "sending the patch to " + host_header + ": " + DescribeNetError(ec);
  }
  if (stopping) co_return "stopping";
  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(64 * 1024);
  if (auto [ec, n] = co_await http::async_read(stream, buffer, parser, kUseAwaitable); ec) {
    (void)n;
    co_return "reading the answer from " + host_header + ": " + DescribeNetError(ec);
  }
  const auto& res = parser.get();
  const unsigned status = res.result_int();
  if (status >= 200 && status < 300) co_return std::string();
  const std::string pod = options.ns + "/" + options.pod;
  switch (status) {
    case 401:
      co_return "the Kubernetes API rejected the service account token (401 Unauthorized)";
    case 403:
      co_return "the service account may not patch pod " + pod +
          " (403 Forbidden): grant it patch on pods (the chart's podDeletionCost.enabled does)";
    case 404:
      co_return "pod " + pod +
          " does not exist (404 Not Found): POD_NAME and POD_NAMESPACE "
          "must name this pod";
    default:
      co_return "the Kubernetes API answered " + std::to_string(status) + " " +
          std::string(res.reason()) + ": " + BodySnippet(res.body());
  }
}

Result<std::unique_ptr<PodCostUpdater>> PodCostUpdater::Create(PodCostUpdaterOptions options) {
  if (auto tls_context = MakeTlsContext(options); !tls_context) return tls_context.error();
  auto state = std::make_shared<State>(std::move(options));
  asio::co_spawn(state->io, state->Run(), [s = state.get()](const std::exception_ptr& e) {
    if (!e) return;
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& x) {
      s->Log(Severity::kError, "pod-deletion-cost updates stopped", {{"error", x.what()}});
    }
  });
  state->thread = std::thread([s = state.get()] { s->io.run(); });
  return std::unique_ptr<PodCostUpdater>(new PodCostUpdater(std::move(state)));
}

PodCostUpdater::PodCostUpdater(std::shared_ptr<State> state) : state_(std::move(state)) {}

PodCostUpdater::~PodCostUpdater() { Shutdown(); }

void PodCostUpdater::Set(int64_t cost) {
  if (cost < 0 || state_->wanted.exchange(cost) == cost) return;
  asio::post(state_->io, [s = state_.get()] { s->wake.cancel(); });
}

void PodCostUpdater::Shutdown() {
  State& s = *state_;
  if (s.stopping.exchange(true)) return;
  asio::post(s.io, [&s] {
    s.wake.cancel();
    s.retry.cancel();
    if (s.current != nullptr) s.current->cancel();
  });
  if (s.thread.joinable()) s.thread.join();
}

PodCostUpdater::Stats PodCostUpdater::stats() const {
  return {state_->applied.load(), state_->requests.load(), state_->failures.load()};
}

}  // namespace ffpod
