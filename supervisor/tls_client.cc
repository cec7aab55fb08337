#include "supervisor/tls_client.h"

namespace ffpod {

namespace ssl = boost::asio::ssl;

std::shared_ptr<ssl::context> MakeClientTlsContext(const TlsClientFiles& f, std::string* error) {
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
        *error = f.ca_label + " " + f.ca_file + ": " + ec.message();
        return nullptr;
      }
    } else if (ctx->set_default_verify_paths(ec); ec) {
      *error = f.prefix + ": cannot load the system's CA certificates: " + ec.message();
      return nullptr;
    }
  }
  if (!f.cert_file.empty()) {
    if (ctx->use_certificate_chain_file(f.cert_file, ec); ec) {
      *error = f.cert_label + " " + f.cert_file + ": " + ec.message();
      return nullptr;
    }
    if (ctx->use_private_key_file(f.key_file, ssl::context::pem, ec); ec) {
      *error = f.key_label + " " + f.key_file + ": " + ec.message();
      return nullptr;
    }
  }
  return ctx;
}

}  // namespace ffpod
