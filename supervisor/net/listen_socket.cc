#include "supervisor/net/listen_socket.h"

#include <boost/asio/ip/v6_only.hpp>
#include <cerrno>

namespace ffpod {

namespace net = boost::asio;
using tcp = net::ip::tcp;

Result<ListenPlan> PlanListen(const std::string& listen, const ListenAddress& address,
                              net::io_context& ioc) {
  ListenPlan plan;
  boost::system::error_code ec;
  net::ip::address literal = net::ip::make_address(address.host, ec);
  if (!ec) {
    plan.endpoints.emplace_back(literal, address.port);
    if (literal.is_v6() && literal.is_unspecified()) {
      plan.endpoints.emplace_back(net::ip::address_v4::any(), address.port);
      plan.next_only_without_ipv6 = true;
    }
    return plan;
  }
  tcp::resolver resolver(ioc);
  auto results = resolver.resolve(address.host, std::to_string(address.port),
                                  tcp::resolver::passive | tcp::resolver::numeric_service, ec);
  if (ec) {
    return Error{"cannot listen on " + listen + ": cannot resolve \"" + address.host +
                 "\": " + ec.message()};
  }
  for (const auto& entry : results) plan.endpoints.push_back(entry.endpoint());
  if (plan.endpoints.empty()) {
    return Error{"cannot listen on " + listen + ": \"" + address.host + "\" has no address"};
  }
  return plan;
}

Result<size_t> BindFirst(const std::string& listen, const ListenPlan& plan, const BindOne& bind) {
  boost::system::error_code last;
  for (size_t i = 0; i < plan.endpoints.size(); ++i) {
    if (i > 0 && plan.next_only_without_ipv6 && !MeansNoIpv6(last)) break;
    last = bind(plan.endpoints[i]);
    if (!last) return i;
  }
  return Error{"cannot listen on " + listen + ": " + last.message()};
}

BindOne BindAcceptor(tcp::acceptor& acceptor) {
  return [&acceptor](const tcp::endpoint& endpoint) {
    boost::system::error_code e;
    if (acceptor.is_open()) acceptor.close(e);
    e.clear();
    acceptor.open(endpoint.protocol(), e);
    if (!e) acceptor.set_option(net::socket_base::reuse_address(true), e);
    // Linux's default (net.ipv6.bindv6only=0) is dual-stack already; a host that changed it
    // must not make `[::]` IPv6-only.
    if (!e && endpoint.protocol() == tcp::v6()) acceptor.set_option(net::ip::v6_only(false), e);
    if (!e) acceptor.bind(endpoint, e);
    if (!e) acceptor.listen(net::socket_base::max_listen_connections, e);
    return e;
  };
}

bool MeansNoIpv6(const boost::system::error_code& ec) {
  if (ec.category() != boost::system::system_category()) return false;
  int v = ec.value();
  return v == EAFNOSUPPORT || v == EPROTONOSUPPORT || v == EADDRNOTAVAIL || v == EPFNOSUPPORT;
}

}  // namespace ffpod
