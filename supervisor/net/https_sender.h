// A background HTTP(S) sender: one thread with its own io_context, sending one request at a time
// to one server, each attempt within a deadline, failed attempts retried with exponential backoff
// (parsers/policy/backoff.h). The OTLP trace exporter (supervisor/telemetry/otlp_exporter.h,
// docs/tracing.md) and the pod-deletion-cost updater (supervisor/modes/pod_cost_updater.h,
// docs/kubernetes.md) send through it; what to send, and what an answer means, is theirs: the
// sender asks its Delegate.
//
// The loop. Whenever it is idle the sender asks the delegate for the next message (Next). A
// message is sent attempt after attempt until the delegate judges an answer delivered or final
// (Judge), its attempts are used up, or no time is left before its deadline or Shutdown's. Each
// attempt builds its request anew (Message::build), so that a retry carries the newest data or a
// rotated token, or finds that nothing needs sending any more. Between attempts the sender waits
// the backoff, or what the delegate asks for (a server's Retry-After); a wait that would end at
// or after the deadline is not waited for. The backoff grows with consecutive failed attempts and
// restarts when a message is delivered or given up.
//
// The connection. Plain TCP or TLS (TLS 1.2 or newer, the server's certificate verified against
// a CA file or the system's, its name or address checked, SNI for names, an optional client
// certificate: supervisor/net/tls_client.h; the context is built for each connection, so renewed
// files are picked up). Either one kept-alive HTTP/1.1 connection, reopened when the server
// closed it (a kept-alive connection found closed before any answer is tried once more on a fresh
// one, which is not a new attempt), or one connection per request, sent with `Connection: close`.
// An attempt must complete within `request_timeout`: the name lookup, connecting, the handshake,
// writing and reading together. Names are looked up on a detached helper thread, because
// getaddrinfo cannot be cancelled: a hanging DNS lookup delays nothing beyond the deadline.
//
// Threading: Wake and Shutdown may be called from any thread; Shutdown by the owner, once (the
// destructor calls it when the owner did not). The delegate is called on the sender's thread
// only, never after Shutdown returned, except when Shutdown had to leave the thread behind.
#pragma once

#include <boost/beast/http/verb.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "parsers/common/result.h"
#include "parsers/policy/backoff.h"
#include "supervisor/net/tls_client.h"

namespace ffpod {

struct HttpsSenderOptions {
  std::string host;  // a name or an address (IPv6 without brackets)
  uint16_t port = 0;
  bool tls = false;
  TlsClientFiles tls_files;  // with tls: the CA, the client certificate, and their error names
  std::string host_header;   // the Host header ("host:port"); error sentences name it too
  bool keep_alive = true;    // false: a connection (and a name lookup) for each request
  std::chrono::milliseconds request_timeout{10000};  // one attempt, all its steps
  uint64_t max_response_bytes = 1 << 20;             // a longer answer is a failed attempt
  BackoffPolicy backoff;
  // How the error sentences of the name lookup, writing and reading begin; empty: "resolving
  // <host>", "sending to <host_header>" and "reading the answer of <host_header>". Connecting and
  // the handshake are always "connecting to <host_header>" and "TLS handshake with <host_header>".
  std::string lookup_error;
  std::string send_error;
  std::string read_error;
};

// One attempt's request. The sender sets Host first, then `headers` in order (each replacing
// one of the same name), then `Connection: close` without keep_alive; and Content-Length.
struct HttpsRequest {
  boost::beast::http::verb method = boost::beast::http::verb::post;
  std::string target;  // path and query
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
};

// An answer, whatever its status.
struct HttpAnswer {
  int status = 0;
  std::string reason;  // the status line's reason phrase
  std::string body;
  std::optional<std::string> retry_after;  // the Retry-After header, when the server sent one
  std::optional<std::string> etag;         // the ETag header (an S3 part's), when sent
};

// What the delegate makes of one attempt.
struct Verdict {
  enum class Kind { kDelivered, kRetry, kFinal };
  Kind kind = Kind::kFinal;
  std::string error;  // kRetry and kFinal: why the attempt failed, a phrase for the log
  // kRetry: wait this long instead of the backoff (the backoff grows either way).
  std::optional<std::chrono::milliseconds> wait;

  static Verdict Delivered() { return {Kind::kDelivered, {}, std::nullopt}; }
  static Verdict Retry(std::string error,
                       std::optional<std::chrono::milliseconds> wait = std::nullopt) {
    return {Kind::kRetry, std::move(error), wait};
  }
  static Verdict Final(std::string error) { return {Kind::kFinal, std::move(error), std::nullopt}; }
};

class HttpsSender {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;

  struct Message {
    // The request of one attempt, called again before every retry. An error counts as a failed
    // attempt: it goes to Judge like a network error. Nothing ends the message unsent, because
    // nothing needs sending any more; the backoff is left as it is.
    std::function<Result<std::optional<HttpsRequest>>()> build;
    TimePoint deadline = TimePoint::max();  // no attempt starts, and no wait ends, after it
    int max_attempts = std::numeric_limits<int>::max();
  };

  // What the delegate has to send now.
  struct Next {
    std::optional<Message> message;
    // Without a message: when to ask again (Wake and Shutdown ask earlier).
    TimePoint ask_again = TimePoint::max();
  };

  // The sender's user. Every call comes from the sender's thread.
  class Delegate {
   public:
    virtual ~Delegate() = default;
    // The next message, or nothing for now. After Shutdown, nothing ends the sender's loop.
    virtual Next NextMessage() = 0;
    // The outcome of an attempt: an answer with any status, or why there was none (a network
    // error, a timeout, a failed build). Decides what happens to the message.
    virtual Verdict Judge(const Result<HttpAnswer>& attempt) = 0;
    // A failed attempt will be retried after `wait`; `error` is its Verdict's.
    virtual void OnRetry(const std::string& error, std::chrono::milliseconds wait) {
      (void)error;
      (void)wait;
    }
    // The message is given up: judged final, its attempts used up, or no time left. `why` is
    // the last error and what ended it, e.g. "...; gave up after 5 attempts", or "no time left
    // to send" when no attempt could start.
    virtual void OnGiveUp(const std::string& why) { (void)why; }
    // The loop has ended: after Shutdown once the delegate had nothing left to send, or early on
    // an unexpected error (an allocation failure), which `status` carries. Not called when
    // Shutdown's deadline stopped the thread first.
    virtual void OnStopped(const Status& status) { (void)status; }
  };

  // Starts the thread, which asks `delegate` for a message at once. Fails (one sentence naming
  // the file) when the TLS files cannot be loaded.
  static Result<std::unique_ptr<HttpsSender>> Start(HttpsSenderOptions options,
                                                    std::shared_ptr<Delegate> delegate);

  ~HttpsSender();
  HttpsSender(const HttpsSender&) = delete;
  HttpsSender& operator=(const HttpsSender&) = delete;

  // Something may be ready to send: an idle sender asks its delegate again. Never blocks.
  void Wake();

  // Lets the sender finish what its delegate still has, starting no attempt and waiting out no
  // backoff past `deadline`; at the deadline whatever is in flight is abandoned and the thread is
  // stopped. A deadline of now stops at once. Blocks until the loop has ended or the deadline
  // (plus at most 200 ms for the thread to stop; a thread that does not is left behind, holding
  // what it uses). Returns whether the loop ended by the deadline. Later calls return false.
  bool Shutdown(TimePoint deadline);

  class State;  // shared with the sender's thread and its name lookups

 private:
  explicit HttpsSender(std::shared_ptr<State> state);

  std::shared_ptr<State> state_;
  std::thread thread_;
  bool shut_down_ = false;
};

}  // namespace ffpod
