// Where the S3 uploader's keys come from (docs/storage.md): the AWS_* keys as they are, or web
// identity (IRSA-style pods): the projected service-account token traded with STS
// AssumeRoleWithWebIdentity for temporary keys, traded again 5 minutes before they expire
// (parsers/storage/web_identity.h). The token file is read at every trade, so a rotated token
// is used. A trade that fails while the keys in hand are still valid keeps them and is tried
// again at the next request; once they have expired, Current fails with STS's error.
//
// Threading: Current may be called from any thread (a mutex; a trade blocks the caller for up
// to 10 s: the uploader's own thread, never the worker's loop).
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>

#include "parsers/storage/s3_settings.h"
#include "parsers/storage/web_identity.h"
#include "supervisor/net/tls_client.h"
#include "supervisor/storage/s3_uploader.h"

namespace ffpod {

// The source `settings` describe. Auth::kNone gives one whose Current fails, naming the
// variables to set (a presigned put_url needs no keys, so this is not an error before use).
std::shared_ptr<CredentialSource> MakeCredentialSource(const S3Settings& settings,
                                                       TlsClientFiles tls = {});

class WebIdentityCredentials : public CredentialSource {
 public:
  using Now = std::function<std::chrono::system_clock::time_point()>;
  WebIdentityCredentials(S3Settings settings, TlsClientFiles tls,
                         Now now = std::chrono::system_clock::now);
  Result<sigv4::Credentials> Current() override;
  // How many trades with STS were made (for tests and the log).
  int trades() const;

 private:
  Result<TemporaryCredentials> Trade();

  const S3Settings settings_;
  const TlsClientFiles tls_;
  const Now now_;
  mutable std::mutex mu_;
  std::optional<TemporaryCredentials> held_;
  std::chrono::system_clock::time_point refresh_at_;
  int trades_ = 0;
};

}  // namespace ffpod
