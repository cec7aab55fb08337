// The listener's socket: which addresses --listen means, and binding the first that works.
// The IPv6 wildcard listens dual-stack (IPv4 clients arrive as v4-mapped addresses), and falls
// back to the IPv4 wildcard on a kernel without IPv6.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <functional>
#include <string>
#include <vector>

#include "parsers/common/result.h"
#include "supervisor/net/http_server.h"

namespace ffpod {

// The addresses to try, in order, and when to go on to the next.
struct ListenPlan {
  std::vector<boost::asio::ip::tcp::endpoint> endpoints;
  // true: the next endpoint is tried only when the previous one failed because the kernel has
  // no IPv6 (the wildcard's fallback); false: after any failure (a name's addresses).
  bool next_only_without_ipv6 = false;
};

// A literal address as is; the IPv6 wildcard `::` then 0.0.0.0; a name: what it resolves to
// (passive). On failure: one sentence naming `listen` and the cause.
Result<ListenPlan> PlanListen(const std::string& listen, const ListenAddress& address,
                              boost::asio::io_context& ioc);

// Opens, binds and listens on one endpoint; returns what failed (empty when it listens).
using BindOne = std::function<boost::system::error_code(const boost::asio::ip::tcp::endpoint&)>;

// Binds the plan's endpoints in order with `bind`; returns the index of the one that listens,
// or one sentence naming `listen` and the last failure.
Result<size_t> BindFirst(const std::string& listen, const ListenPlan& plan, const BindOne& bind);

// The real BindOne for `acceptor`: IPV6_V6ONLY off for IPv6 endpoints, SO_REUSEADDR on.
BindOne BindAcceptor(boost::asio::ip::tcp::acceptor& acceptor);

// True when `ec` says the kernel cannot do IPv6 (no address family, no such address).
bool MeansNoIpv6(const boost::system::error_code& ec);

}  // namespace ffpod
