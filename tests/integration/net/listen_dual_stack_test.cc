// The listener on IPv6 and IPv4: the default `[::]` answers clients of both families on
// loopback (::1 and 127.0.0.1), a literal address only its own family, and the fallback to
// 0.0.0.0 happens only when the kernel has no IPv6, never when the port is taken.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <string>
#include <vector>

#include "supervisor/net/http_server.h"
#include "supervisor/net/listen_socket.h"

namespace ffpod {
namespace {

namespace net = boost::asio;
using tcp = net::ip::tcp;

// GET /healthz from `ip` (an IPv4 or IPv6 literal); the status line, or "" when the connection
// was refused or nothing came back within two seconds.
std::string Healthz(const std::string& ip, int port) {
  sockaddr_storage storage{};
  socklen_t len = 0;
  int family = ip.find(':') != std::string::npos ? AF_INET6 : AF_INET;
  if (family == AF_INET6) {
    auto* a = reinterpret_cast<sockaddr_in6*>(&storage);
    a->sin6_family = AF_INET6;
    a->sin6_port = htons(static_cast<uint16_t>(port));
    if (::inet_pton(AF_INET6, ip.c_str(), &a->sin6_addr) != 1) return "";
    len = sizeof *a;
  } else {
    auto* a = reinterpret_cast<sockaddr_in*>(&storage);
    a->sin_family = AF_INET;
    a->sin_port = htons(static_cast<uint16_t>(port));
    if (::inet_pton(AF_INET, ip.c_str(), &a->sin_addr) != 1) return "";
    len = sizeof *a;
  }
  int fd = ::socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return "";
  std::string got;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&storage), len) == 0) {
    constexpr std::string_view kRequest =
        "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    if (::send(fd, kRequest.data(), kRequest.size(), MSG_NOSIGNAL) ==
        static_cast<ssize_t>(kRequest.size())) {
      pollfd p{fd, POLLIN, 0};
      char buffer[512];
      while (got.find("\r\n") == std::string::npos && ::poll(&p, 1, 2000) > 0) {
        ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
        if (n <= 0) break;
        got.append(buffer, static_cast<size_t>(n));
      }
    }
  }
  ::close(fd);
  return got.substr(0, got.find("\r\n"));
}

HttpProviders Healthy() {
  return HttpProviders{.healthy = [] { return true; }};
}

TEST(DualStackListener, TheDefaultAnswersIpv6AndIpv4Clients) {
  EXPECT_EQ(HttpServerOptions{}.listen, "[::]:9464");
  for (const char* listen : {"[::]:0", ":0"}) {
    HttpServer server(HttpServerOptions{.listen = listen}, Healthy());
    Result<int> port = server.Start();
    ASSERT_TRUE(port.ok()) << port.error().message;
    EXPECT_EQ(server.address(), "[::]:" + std::to_string(*port)) << listen;
    EXPECT_EQ(Healthz("::1", *port), "HTTP/1.1 200 OK") << listen;
    EXPECT_EQ(Healthz("127.0.0.1", *port), "HTTP/1.1 200 OK") << listen;
  }
}

TEST(DualStackListener, ALiteralAddressAnswersOnlyItsOwnFamily) {
  HttpServer v4(HttpServerOptions{.listen = "127.0.0.1:0"}, Healthy());
  Result<int> p4 = v4.Start();
  ASSERT_TRUE(p4.ok()) << p4.error().message;
  EXPECT_EQ(Healthz("127.0.0.1", *p4), "HTTP/1.1 200 OK");
  EXPECT_EQ(Healthz("::1", *p4), "");

  HttpServer v6(HttpServerOptions{.listen = "[::1]:0"}, Healthy());
  Result<int> p6 = v6.Start();
  ASSERT_TRUE(p6.ok()) << p6.error().message;
  EXPECT_EQ(v6.address(), "[::1]:" + std::to_string(*p6));
  EXPECT_EQ(Healthz("::1", *p6), "HTTP/1.1 200 OK");
  EXPECT_EQ(Healthz("127.0.0.1", *p6), "");
}

// Another program holds [::]:PORT for IPv6 alone: the IPv4 half is free, but ffpod must not
// quietly listen on IPv4 only; it says the port is taken.
TEST(DualStackListener, APortTakenOnIpv6IsAnErrorNotAQuietIpv4Listener) {
  int holder = ::socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(holder, 0);
  int one = 1;
  ASSERT_EQ(::setsockopt(holder, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one), 0);
  sockaddr_in6 any{};
  any.sin6_family = AF_INET6;
  any.sin6_addr = in6addr_any;
  ASSERT_EQ(::bind(holder, reinterpret_cast<sockaddr*>(&any), sizeof any), 0);
  ASSERT_EQ(::listen(holder, 4), 0);
  socklen_t len = sizeof any;
  ASSERT_EQ(::getsockname(holder, reinterpret_cast<sockaddr*>(&any), &len), 0);
  int port = ntohs(any.sin6_port);

  std::string listen = "[::]:" + std::to_string(port);
  HttpServer server(HttpServerOptions{.listen = listen}, Healthy());
  Result<int> r = server.Start();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message, "cannot listen on " + listen + ": Address already in use");
  EXPECT_EQ(Healthz("127.0.0.1", port), "");
  ::close(holder);
}

TEST(ListenPlan, TheIpv6WildcardFallsBackToIpv4OnlyWithoutIpv6) {
  net::io_context ioc;
  Result<ListenPlan> wildcard = PlanListen("[::]:9464", {.host = "::", .port = 9464}, ioc);
  ASSERT_TRUE(wildcard.ok());
  ASSERT_EQ(wildcard->endpoints.size(), 2u);
  EXPECT_EQ(wildcard->endpoints[0], tcp::endpoint(net::ip::address_v6::any(), 9464));
  EXPECT_EQ(wildcard->endpoints[1], tcp::endpoint(net::ip::address_v4::any(), 9464));
  EXPECT_TRUE(wildcard->next_only_without_ipv6);

  for (const char* host : {"::1", "0.0.0.0", "127.0.0.1"}) {
    Result<ListenPlan> literal = PlanListen("x", {.host = host, .port = 1}, ioc);
    ASSERT_TRUE(literal.ok()) << host;
    EXPECT_EQ(literal->endpoints.size(), 1u) << host;
  }

  // A kernel without IPv6 (booted with ipv6.disable=1) refuses the family or the address.
  for (int no_ipv6 : {EAFNOSUPPORT, EADDRNOTAVAIL}) {
    std::vector<tcp::endpoint> tried;
    Result<size_t> bound = BindFirst("[::]:9464", *wildcard, [&](const tcp::endpoint& endpoint) {
      tried.push_back(endpoint);
      return endpoint.address().is_v6()
                 ? boost::system::error_code(no_ipv6, boost::system::system_category())
                 : boost::system::error_code();
    });
    ASSERT_TRUE(bound.ok()) << no_ipv6;
    EXPECT_EQ(*bound, 1u);
    EXPECT_EQ(tried, wildcard->endpoints);
  }

  // Any other failure is reported as it is, without trying IPv4.
  std::vector<tcp::endpoint> tried;
  Result<size_t> denied = BindFirst("[::]:80", *wildcard, [&](const tcp::endpoint& endpoint) {
    tried.push_back(endpoint);
    return boost::system::error_code(EACCES, boost::system::system_category());
  });
  ASSERT_FALSE(denied.ok());
  EXPECT_EQ(denied.error().message, "cannot listen on [::]:80: Permission denied");
  EXPECT_EQ(tried.size(), 1u);
}

TEST(ListenPlan, EveryAddressOfANameIsTriedAfterAnyFailure) {
  net::io_context ioc;
  Result<ListenPlan> named = PlanListen("localhost:0", {.host = "localhost", .port = 0}, ioc);
  ASSERT_TRUE(named.ok()) << named.error().message;
  ASSERT_FALSE(named->endpoints.empty());
  EXPECT_FALSE(named->next_only_without_ipv6);
  size_t calls = 0;
  Result<size_t> r = BindFirst("localhost:0", *named, [&](const tcp::endpoint&) {
    ++calls;
    return boost::system::error_code(EADDRINUSE, boost::system::system_category());
  });
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(calls, named->endpoints.size());
  EXPECT_EQ(r.error().message, "cannot listen on localhost:0: Address already in use");
}

}  // namespace
}  // namespace ffpod
