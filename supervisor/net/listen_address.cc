// ParseListenAddress and ConnectionCapForFdLimit (supervisor/net/http_server.h): pure helpers
// of the listener's configuration, apart from its sockets.
#include <algorithm>
#include <optional>
#include <string>
#include <string_view>

#include "parsers/common/text.h"
#include "supervisor/net/http_server.h"

namespace ffpod {

namespace {

std::string ListenError(std::string_view text, std::string_view expected) {
  return "--listen expects " + std::string(expected) + ", got \"" + std::string(text) + "\"";
}

}  // namespace

Result<ListenAddress> ParseListenAddress(std::string_view text) {
  constexpr std::string_view kExpected = "HOST:PORT (e.g. 0.0.0.0:9464 or [::]:9464)";
  size_t colon = text.rfind(':');
  if (text.empty() || colon == std::string_view::npos) return Error{ListenError(text, kExpected)};
  std::string_view host = text.substr(0, colon);
  std::string_view port_text = text.substr(colon + 1);
  std::optional<uint64_t> port =
      port_text.size() <= 5 ? ParseUint64(port_text) : std::optional<uint64_t>();
  if (!port || *port > 65535) {
    return Error{ListenError(text, "HOST:PORT with a port from 0 to 65535")};
  }
  if (host.starts_with('[') || host.ends_with(']')) {
    if (host.size() < 3 || !host.starts_with('[') || !host.ends_with(']')) {
      return Error{ListenError(text, "HOST:PORT with an IPv6 HOST in brackets, e.g. [::1]:9464")};
    }
    host = host.substr(1, host.size() - 2);
  }
  ListenAddress address;
  address.host = host.empty() ? "::" : std::string(host);
  address.port = static_cast<uint16_t>(*port);
  return address;
}

size_t ConnectionCapForFdLimit(size_t wanted, uint64_t fd_soft_limit) {
  constexpr size_t kMinimum = 8;
  uint64_t room = fd_soft_limit > kReservedFds + kMinimum ? fd_soft_limit - kReservedFds : kMinimum;
  return static_cast<size_t>(std::min<uint64_t>(wanted, room));
}

}  // namespace ffpod
