// Sentinel discovery for RedisClient (supervisor/queue/redis_client.h, docs/queue.md
// "Sentinel"): each connection attempt asks the Sentinels in turn, starting with the last one
// that answered, for the primary's address (SENTINEL get-master-addr-by-name), then connects to
// that address and checks with ROLE that it is a primary. A Sentinel that cannot be reached, or
// does not know the primary, is skipped for the next at once; only when every one failed does
// the attempt fail (and is retried after the backoff, like any other). Since every reconnection
// asks again, a failover is followed as soon as the old primary's connection ends or its
// replies say it is no longer a primary (READONLY after Sentinel demoted it).
#include <boost/asio/post.hpp>

#include "supervisor/queue/redis_client_impl.h"

namespace ffpod {

namespace asio = boost::asio;

void RedisClient::Impl::ChooseTarget() {
  if (!url_.sentinel()) {
    target_ = {url_.host, url_.port};
    return;
  }
  if (primary_named_) return;  // connecting to the primary a Sentinel just named
  if (!asking_sentinel_) {
    asking_sentinel_ = true;
    sentinels_asked_ = 0;
    sentinel_errors_.clear();
  }
  target_ = url_.sentinels[sentinel_index_ % url_.sentinels.size()];
}

std::vector<std::vector<std::string>> RedisClient::Impl::SentinelSteps() const {
  std::vector<std::vector<std::string>> steps;
  if (!url_.sentinel_password.empty()) {
    steps.push_back(redis_internal::AuthCommand(url_.sentinel_user, url_.sentinel_password));
  }
  steps.push_back({"SENTINEL", "get-master-addr-by-name", url_.master_name});
  return steps;
}

void RedisClient::Impl::OnSentinelAnswer(const ConnPtr& conn, const RedisReply& reply) {
  if (reply.IsError()) {
    SentinelFailed(conn, reply.str);
    return;
  }
  if (reply.type != RedisReply::Type::kArray || reply.elements.size() != 2 ||
      reply.elements[0].type != RedisReply::Type::kString ||
      reply.elements[1].type != RedisReply::Type::kString) {
    SentinelFailed(conn, "knows no primary named " + url_.master_name);
    return;
  }
  int port = 0;
  for (char c : reply.elements[1].str) {
    if (c < '0' || c > '9' || port > 65535) {
      port = 0;
      break;
    }
    port = port * 10 + (c - '0');
  }
  if (port < 1 || port > 65535) {
    SentinelFailed(conn, "named the port '" + reply.elements[1].str + "'");
    return;
  }
  Discard(conn);
  asking_sentinel_ = false;
  primary_named_ = true;
  target_ = {reply.elements[0].str, port};
  Connect();
}

void RedisClient::Impl::SentinelFailed(const ConnPtr& conn, const std::string& why) {
  std::string sentinel = RedisHostPortText(target_);
  sentinel_errors_ += (sentinel_errors_.empty() ? "" : "; ") + sentinel + ": " + why;
  ++sentinels_asked_;
  ++sentinel_index_;
  if (sentinels_asked_ < url_.sentinels.size()) {
    Discard(conn);
    Connect();
    return;
  }
  asking_sentinel_ = false;
  Drop(conn, "no Sentinel named the primary " + url_.master_name + " (" + sentinel_errors_ + ")");
}

void RedisClient::Impl::Discard(const ConnPtr& conn) {
  conn->Close();
  conn_.reset();
  connect_timer_.cancel();
  std::deque<Pending> handshake = std::move(pending_);
  pending_.clear();
  unsent_ = 0;
  out_queue_.clear();
  for (Pending& p : handshake) p.callback(RedisErrc::kConnectionLost, {});
}

std::string RedisClient::Impl::TargetAddress() const {
  if (url_.transport == RedisTransport::kUnix) return url_.path;
  std::string address = RedisHostPortText(target_);
  if (!url_.sentinel()) return address;
  if (asking_sentinel_) return "sentinel " + address;
  return "primary " + url_.master_name + " at " + address;
}

}  // namespace ffpod
