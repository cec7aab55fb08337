// The sender's connection to its server (supervisor/net/https_sender.h describes the rules:
// kept alive or one per request, TLS, name lookups on a helper thread, one deadline for every
// step of an attempt). Used by HttpsSender only.
//
// Threading: the sender's thread (its io_context's) only.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "parsers/common/result.h"
#include "supervisor/net/https_sender.h"

namespace ffpod {

class HttpsConnection {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;

  // `io_owner` owns `io`: a name lookup's helper thread holds it until it has posted its answer.
  HttpsConnection(boost::asio::io_context& io, const HttpsSenderOptions& options,
                  std::weak_ptr<void> io_owner);
  ~HttpsConnection();
  HttpsConnection(const HttpsConnection&) = delete;
  HttpsConnection& operator=(const HttpsConnection&) = delete;

  // One attempt: the server's answer (any status), or one phrase saying which step failed and
  // why ("connecting to host:4318: Connection refused"). Opens a connection when none is open;
  // closes it after the answer without keep_alive, when the server asked to, and after an error.
  boost::asio::awaitable<Result<HttpAnswer>> Send(const HttpsRequest& request, TimePoint deadline);

  void Close();

 private:
  struct Stream;
  struct Exchanged;

  template <typename S>
  boost::asio::awaitable<Exchanged> Exchange(S& stream, boost::beast::flat_buffer& buffer,
                                             const HttpsRequest& request, TimePoint deadline);
  boost::asio::awaitable<Status> Connect(TimePoint deadline);
  boost::asio::awaitable<Status> Resolve(TimePoint deadline);

  boost::asio::io_context& io_;
  const HttpsSenderOptions& options_;
  std::weak_ptr<void> io_owner_;
  std::unique_ptr<Stream> stream_;  // the open connection, if any
  std::vector<boost::asio::ip::tcp::endpoint> endpoints_;
};

}  // namespace ffpod
