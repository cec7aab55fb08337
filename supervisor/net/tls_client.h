// What ffpod's outgoing connections share (Redis over rediss://, the OTLP exporter over
// https://, the Kubernetes API for the pod-deletion-cost): the TLS client context (TLS 1.2 or
// newer, the server verified against a CA bundle, the system's by default, an optional client
// certificate; built per connection attempt, so that renewed certificate files are picked up on
// reconnect), the server identity to check, and the sentences their errors are reported in.
//
// Threading: plain functions; a context belongs to one connection.
#pragma once

#include <openssl/ssl.h>

#include <boost/asio/ssl/context.hpp>
#include <memory>
#include <string>
#include <string_view>

#include "parsers/common/result.h"

namespace ffpod {

struct TlsClientFiles {
  std::string ca_file;    // PEM bundle to verify the server; empty: the system's
  std::string cert_file;  // client certificate chain (PEM), with key_file; empty: none
  std::string key_file;
  bool verify = true;  // false: accept any server certificate (tests only)
  // How error sentences name each file and the system store, e.g. "TLS ca_file" or
  // "OTLP CA certificate file", and "TLS" or "OTLP TLS".
  std::string ca_label = "CA file";
  std::string cert_label = "certificate file";
  std::string key_label = "key file";
  std::string prefix = "TLS";
};

// The context, or one sentence naming the file that failed.
Result<std::shared_ptr<boost::asio::ssl::context>> MakeClientTlsContext(
    const TlsClientFiles& files);

// Before the handshake: SNI for a host name (never for an address) and, with `verify`, the
// name or address the server's certificate must match.
void SetServerIdentity(SSL* ssl, const std::string& host, bool verify = true);

// Why a client handshake failed: the certificate check's verdict when that is what failed,
// else `error`.
std::string HandshakeFailure(SSL* ssl, const std::string& error);

// One sentence for a network error of an outgoing connection: "timed out" for a deadline,
// "connection closed by the server" for EOF (also a TLS stream cut short), else the OS or
// library message (without Boost's " [system:111 at ...]" tail).
std::string DescribeNetError(const boost::system::error_code& ec);

// The start of an HTTP response body on one line (valid UTF-8, at most `max_chars` bytes), for
// error sentences.
std::string BodySnippet(std::string_view body, size_t max_chars = 200);

}  // namespace ffpod
