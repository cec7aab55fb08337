#include "supervisor/modes/pod_cost_updater.h"

#include <atomic>
#include <fstream>
#include <sstream>

#include "parsers/common/text.h"
#include "parsers/policy/pod_cost.h"
#include "supervisor/net/https_sender.h"

namespace ffpod {

using std::chrono::milliseconds;

namespace {

constexpr uint64_t kMaxResponseBytes = 64 * 1024;

// The token file's content without surrounding whitespace, or why there is none.
Result<std::string> ReadToken(const std::string& path) {
  std::ifstream in(path);
  if (!in) {
    return Error{"cannot read the service account token " + path +
                 " (is automountServiceAccountToken false?)"};
  }
  std::stringstream buf;
  buf << in.rdbuf();
  std::string token(Trim(buf.str(), " \n\r\t"));
  if (token.empty()) return Error{"the service account token " + path + " is empty"};
  return token;
}

// "host:port", the address bracketed when it is IPv6.
std::string HostHeader(const PodCostUpdaterOptions& o) {
  return o.host.find(':') != std::string::npos ? "[" + o.host + "]:" + std::to_string(o.port)
                                               : o.host + ":" + std::to_string(o.port);
}

// A connection per request to the API server, verified against the service account's CA.
HttpsSenderOptions SenderOptions(const PodCostUpdaterOptions& o) {
  HttpsSenderOptions s;
  s.host = o.host;
  s.port = static_cast<uint16_t>(o.port);
  s.tls = true;
  s.tls_files.ca_file = o.ca_file;
  s.tls_files.ca_label = "Kubernetes API CA file";
  s.tls_files.prefix = "Kubernetes API TLS";
  s.host_header = HostHeader(o);
  s.keep_alive = false;
  s.request_timeout = o.request_timeout;
  s.max_response_bytes = kMaxResponseBytes;
  s.backoff = {o.initial_backoff, o.max_backoff, BackoffJitter::kUpToAQuarterMore};
  s.lookup_error = "looking up " + o.host;
  s.send_error = "sending the patch to " + s.host_header;
  s.read_error = "reading the answer from " + s.host_header;
  return s;
}

// Why the API server did not take the patch, saying what to fix for 401, 403 and 404.
std::string Refusal(const HttpAnswer& answer, const std::string& pod) {
  switch (answer.status) {
    case 401:
      return "the Kubernetes API rejected the service account token (401 Unauthorized)";
    case 403:
      return "the service account may not patch pod " + pod +
             " (403 Forbidden): grant it patch on pods (the chart's podDeletionCost.enabled does)";
    case 404:
      return "pod " + pod +
             " does not exist (404 Not Found): POD_NAME and POD_NAMESPACE "
             "must name this pod";
    default:
      return "the Kubernetes API answered " + std::to_string(answer.status) + " " + answer.reason +
             ": " + BodySnippet(answer.body);
  }
}

}  // namespace

// What to PATCH and when: the latest wanted value, while it differs from the applied one.
class PodCostUpdater::State : public HttpsSender::Delegate {
 public:
  explicit State(PodCostUpdaterOptions o)
      : options(std::move(o)),
        path(PodApiPath(options.ns, options.pod)),
        pod(options.ns + "/" + options.pod) {}

  // HttpsSender::Delegate, on the sender's thread.
  HttpsSender::Next NextMessage() override;
  Verdict Judge(const Result<HttpAnswer>& attempt) override;
  void OnRetry(const std::string& error, milliseconds wait) override;
  void OnStopped(const Status& status) override;

  const PodCostUpdaterOptions options;
  const std::string path;
  const std::string pod;  // namespace/name
  std::atomic<int64_t> wanted{-1};
  std::atomic<bool> stopping{false};
  std::atomic<int64_t> applied{-1};
  std::atomic<uint64_t> requests{0};
  std::atomic<uint64_t> failures{0};

 private:
  // Something to send: a value is wanted and the API server does not have it yet.
  bool Pending() const {
    const int64_t want = wanted.load();
    return !stopping && want >= 0 && want != applied.load();
  }
  // The request of one attempt: the latest value, with the token as the file has it now.
  Result<std::optional<HttpsRequest>> Build();
  void Log(Severity level, std::string_view msg, const boost::json::object& fields) const {
    if (options.logger) options.logger->Log(level, msg, fields);
  }

  // The sender's thread only.
  int64_t sending_ = -1;  // the value of the attempt in flight
  bool failing_ = false;
  std::string last_error_;
};

HttpsSender::Next PodCostUpdater::State::NextMessage() {
  if (!Pending()) return {};
  HttpsSender::Message message;
  message.build = [this] { return Build(); };
  return {std::move(message)};
}

Result<std::optional<HttpsRequest>> PodCostUpdater::State::Build() {
  if (!Pending()) return std::optional<HttpsRequest>();  // back to what the pod has, or stopping
  sending_ = wanted.load();
  auto token = ReadToken(options.token_file);
  if (!token) return token.error();
  HttpsRequest r;
  r.method = boost::beast::http::verb::patch;
  r.target = path;
  r.headers = {{"Authorization", "Bearer " + *token},
               {"Content-Type", "application/merge-patch+json"},
               {"Accept", "application/json"},
               {"User-Agent", "ffpod"}};
  r.body = PodDeletionCostPatch(sending_);
  return std::optional<HttpsRequest>(std::move(r));
}

Verdict PodCostUpdater::State::Judge(const Result<HttpAnswer>& attempt) {
  if (stopping) return Verdict::Final("stopping");  // Shutdown: nothing more is counted
  ++requests;
  if (attempt.ok() && attempt->status >= 200 && attempt->status < 300) {
    applied = sending_;
    if (failing_) {
      Log(Severity::kInfo, "pod-deletion-cost updates work again", {{"cost", sending_}});
    }
    failing_ = false;
    last_error_.clear();
    return Verdict::Delivered();
  }
  ++failures;
  return Verdict::Retry(attempt.ok() ? Refusal(*attempt, pod) : attempt.error().message);
}

void PodCostUpdater::State::OnRetry(const std::string& error, milliseconds wait) {
  if (stopping) return;
  if (!failing_ || error != last_error_) {
    Log(Severity::kWarning, "cannot update this pod's pod-deletion-cost; retrying",
        {{"error", error},
         {"pod", pod},
         {"retry_in_s", static_cast<double>(wait.count()) / 1000.0}});
  }
  failing_ = true;
  last_error_ = error;
}

void PodCostUpdater::State::OnStopped(const Status& status) {
  if (!status.ok()) {
    Log(Severity::kError, "pod-deletion-cost updates stopped", {{"error", status.error().message}});
  }
}

Result<std::unique_ptr<PodCostUpdater>> PodCostUpdater::Create(PodCostUpdaterOptions options) {
  auto state = std::make_shared<State>(std::move(options));
  auto sender = HttpsSender::Start(SenderOptions(state->options), state);
  if (!sender) return sender.error();
  std::unique_ptr<PodCostUpdater> updater(new PodCostUpdater(std::move(state)));
  updater->sender_ = std::move(*sender);
  return updater;
}

PodCostUpdater::PodCostUpdater(std::shared_ptr<State> state) : state_(std::move(state)) {}

PodCostUpdater::~PodCostUpdater() { Shutdown(); }

void PodCostUpdater::Set(int64_t cost) {
  if (cost < 0 || state_->wanted.exchange(cost) == cost) return;
  sender_->Wake();
}

void PodCostUpdater::Shutdown() {
  if (state_->stopping.exchange(true)) return;
  sender_->Shutdown(std::chrono::steady_clock::now());
}

PodCostUpdater::Stats PodCostUpdater::stats() const {
  return {state_->applied.load(), state_->requests.load(), state_->failures.load()};
}

}  // namespace ffpod
