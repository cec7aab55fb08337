// A local OTLP/HTTP receiver for tests: records every request and answers with a policy
// (status, Retry-After, hang, close), over plain TCP or TLS. Test-only code.
#pragma once

#include <sys/socket.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "tests/harness/harness.h"

namespace ffpod::testing {

namespace otlp_receiver_detail {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;
}  // namespace otlp_receiver_detail
using namespace otlp_receiver_detail;

// --- a local OTLP/HTTP receiver ----------------------------------------------------------

struct ReceivedRequest {
  std::string method;
  std::string target;
  std::map<std::string, std::string> headers;  // lowercase names
  std::string body;
  int connection = 0;  // which TCP connection carried it (1, 2, ...)
  Clock::time_point at;
};

struct Reply {
  int status = 200;
  std::string body = "{}";
  std::vector<std::pair<std::string, std::string>> headers;
  bool hang = false;   // never answer (until the receiver stops)
  bool close = false;  // answer with `Connection: close` and close
  bool drop = false;   // close after answering although the answer kept the connection alive
};

inline Reply Answer(int status, std::string body = "{}") {
  Reply r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

inline Reply Hang() {
  Reply r;
  r.hang = true;
  return r;
}

// Records every request and answers with `policy(request, index)`; index counts from 0.
// Serves each connection on its own thread with Beast's synchronous API; TLS when given a
// certificate (and demands a client certificate when given a client CA).
class Receiver {
 public:
  using Policy = std::function<Reply(const ReceivedRequest&, size_t)>;

  explicit Receiver(Policy policy = {}, std::string cert = "", std::string key = "",
                    std::string client_ca = "")
      : policy_(std::move(policy)), acceptor_(io_) {
    tcp::endpoint ep(asio::ip::make_address("127.0.0.1"), 0);
    acceptor_.open(ep.protocol());
    acceptor_.set_option(tcp::acceptor::reuse_address(true));
    acceptor_.bind(ep);
    acceptor_.listen();
    port_ = acceptor_.local_endpoint().port();
    if (!cert.empty()) {
      tls_ = std::make_unique<asio::ssl::context>(asio::ssl::context::tls_server);
      tls_->use_certificate_chain_file(cert);
      tls_->use_private_key_file(key, asio::ssl::context::pem);
      if (!client_ca.empty()) {
        tls_->load_verify_file(client_ca);
        tls_->set_verify_mode(asio::ssl::verify_peer | asio::ssl::verify_fail_if_no_peer_cert);
      }
    }
    accept_thread_ = std::thread([this] { AcceptLoop(); });
  }

  ~Receiver() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stopping_ = true;
      for (int fd : open_fds_) ::shutdown(fd, SHUT_RDWR);
    }
    cv_.notify_all();
    // Wake the blocked accept().
    boost::system::error_code ec;
    tcp::socket poke(io_);
    poke.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port_), ec);
    accept_thread_.join();
    for (auto& t : connection_threads_) t.join();
  }

  int port() const { return port_; }
  std::string url(const std::string& path = "/v1/traces") const {
    return std::string(tls_ ? "https" : "http") + "://127.0.0.1:" + std::to_string(port_) + path;
  }

  std::vector<ReceivedRequest> requests() const {
    std::lock_guard<std::mutex> lock(mu_);
    return requests_;
  }
  size_t count() const {
    std::lock_guard<std::mutex> lock(mu_);
    return requests_.size();
  }
  int connections() const {
    std::lock_guard<std::mutex> lock(mu_);
    return connections_;
  }
  bool WaitForRequests(size_t n, milliseconds timeout) const {
    return WaitFor([&] { return count() >= n; }, timeout);
  }

 private:
  void AcceptLoop() {
    for (;;) {
      tcp::socket socket(io_);
      boost::system::error_code ec;
      acceptor_.accept(socket, ec);
      std::lock_guard<std::mutex> lock(mu_);
      if (stopping_) return;
      if (ec) continue;
      int id = ++connections_;
      open_fds_.insert(socket.native_handle());
      connection_threads_.emplace_back(
          [this, id, s = std::move(socket)]() mutable { Serve(std::move(s), id); });
    }
  }

  template <typename Stream>
  void Exchange(Stream& stream, int id) {
    beast::flat_buffer buffer;
    for (;;) {
      http::request<http::string_body> req;
      boost::system::error_code ec;
      http::read(stream, buffer, req, ec);
      if (ec) return;
      ReceivedRequest r;
      r.method = std::string(req.method_string());
      r.target = std::string(req.target());
      for (const auto& f : req) {
        std::string name(f.name_string());
        for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        r.headers[name] = std::string(f.value());
      }
      r.body = req.body();
      r.connection = id;
      r.at = Clock::now();
      size_t index;
      {
        std::lock_guard<std::mutex> lock(mu_);
        index = requests_.size();
        requests_.push_back(r);
      }
      Reply reply = policy_ ? policy_(r, index) : Reply{};
      if (reply.hang) {
        std::unique_lock<std::mutex> lock(mu_);
        cv_.wait(lock, [&] { return stopping_; });
        return;
      }
      http::response<http::string_body> res{static_cast<http::status>(reply.status), 11};
      res.set(http::field::content_type, "application/json");
      for (const auto& [k, v] : reply.headers) res.set(k, v);
      res.body() = reply.body;
      res.keep_alive(!reply.close && req.keep_alive());
      res.prepare_payload();
      http::write(stream, res, ec);
      if (ec || reply.close || reply.drop || !req.keep_alive()) return;
    }
  }

  void Serve(tcp::socket socket, int id) {
    int fd = socket.native_handle();
    if (tls_) {
      asio::ssl::stream<tcp::socket&> stream(socket, *tls_);
      boost::system::error_code ec;
      stream.handshake(asio::ssl::stream_base::server, ec);
      if (!ec) Exchange(stream, id);
    } else {
      Exchange(socket, id);
    }
    std::lock_guard<std::mutex> lock(mu_);
    open_fds_.erase(fd);
  }

  Policy policy_;
  asio::io_context io_;
  tcp::acceptor acceptor_;
  std::unique_ptr<asio::ssl::context> tls_;
  int port_ = 0;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  int connections_ = 0;
  std::set<int> open_fds_;
  std::vector<ReceivedRequest> requests_;
  std::thread accept_thread_;
  std::vector<std::thread> connection_threads_;
};

}  // namespace ffpod::testing
