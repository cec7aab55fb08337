#include "supervisor/net/tls_client.h"

#include <openssl/x509v3.h>

#include <boost/asio/error.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/beast/core/error.hpp>

#include "parsers/telemetry/log_format.h"

namespace ffpod {

namespace ssl = boost::asio::ssl;

Result<std::shared_ptr<ssl::context>> MakeClientTlsContext(const TlsClientFiles& f) {
  auto ctx = std::make_shared<ssl::context>(ssl::context::tls_client);
  boost::system::error_code ec;
  ctx->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                       ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1,
                   ec);
  if (!f.verify) {
    ctx->set_verify_mode(ssl::verify_none, ec);
  } else {
    ctx->set_verify_mode(ssl::verify_peer, ec);
    if (!f.ca_file.empty()) {
      if (ctx->load_verify_file(f.ca_file, ec); ec) {
        return Error{f.ca_label + " " + f.ca_file + ": " + ec.message()};
      }
    } else if (ctx->set_default_verify_paths(ec); ec) {
      return Error{f.prefix + ": cannot load the system's CA certificates: " + ec.message()};
    }
  }
  if (!f.cert_file.empty()) {
    if (ctx->use_certificate_chain_file(f.cert_file, ec); ec) {
      return Error{f.cert_label + " " + f.cert_file + ": " + ec.message()};
    }
    if (ctx->use_private_key_file(f.key_file, ssl::context::pem, ec); ec) {
      return Error{f.key_label + " " + f.key_file + ": " + ec.message()};
    }
  }
  return ctx;
}

void SetServerIdentity(SSL* ssl, const std::string& host, bool verify) {
  boost::system::error_code not_ip;
  boost::asio::ip::make_address(host, not_ip);
  if (not_ip) SSL_set_tlsext_host_name(ssl, host.c_str());
  if (!verify) return;
  X509_VERIFY_PARAM* param = SSL_get0_param(ssl);
  if (!not_ip) {
    X509_VERIFY_PARAM_set1_ip_asc(param, host.c_str());
  } else {
    X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
    X509_VERIFY_PARAM_set1_host(param, host.c_str(), host.size());
  }
}

std::string HandshakeFailure(SSL* ssl, const std::string& error) {
  long verify = SSL_get_verify_result(ssl);
  if (verify == X509_V_OK) return error;
  return std::string("certificate verify failed: ") + X509_verify_cert_error_string(verify);
}

std::string DescribeNetError(const boost::system::error_code& ec) {
  if (ec == boost::beast::error::timeout) return "timed out";
  if (ec == boost::asio::error::eof || ec == boost::asio::ssl::error::stream_truncated) {
    return "connection closed by the server";
  }
  return ec.message();
}

std::string BodySnippet(std::string_view body, size_t max_chars) {
  std::string s = SanitizeUtf8(body.substr(0, max_chars));
  for (char& c : s) {
    if (c == '\n' || c == '\r' || c == '\t') c = ' ';
  }
  return s;
}

}  // namespace ffpod
