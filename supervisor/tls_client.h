// The TLS client context every outgoing connection of ffpod uses (Redis over rediss://, the
// OTLP exporter over https://): TLS 1.2 or newer, the server verified against a CA bundle (the
// system's by default), an optional client certificate. Built per connection attempt, so that
// renewed certificate files are picked up on reconnect.
//
// Threading: a plain function; the context it returns belongs to one connection.
#pragma once

#include <boost/asio/ssl/context.hpp>
#include <memory>
#include <string>

namespace ffpod {

struct TlsClientFiles {
  std::string ca_file;    // PEM bundle to verify the server; empty: the system's
  std::string cert_file;  // client certificate chain (PEM), with key_file; empty: none
  std::string key_file;
  bool verify = true;     // false: accept any server certificate (tests only)
  // How error sentences name each file and the system store, e.g. "TLS ca_file" or
  // "OTLP CA certificate file", and "TLS" or "OTLP TLS".
  std::string ca_label = "CA file";
  std::string cert_label = "certificate file";
  std::string key_label = "key file";
  std::string prefix = "TLS";
};

// The context, or nullptr with `*error` set to one sentence naming the file that failed.
std::shared_ptr<boost::asio::ssl::context> MakeClientTlsContext(const TlsClientFiles& files,
                                                                std::string* error);

}  // namespace ffpod
