// Redaction of secrets before anything reaches logs, results, status, spans or metrics
// (docs/logs.md): URL user-info (`rtmp://user:pass@host`), signed query parameters
// (X-Amz-Signature, X-Amz-Credential, X-Amz-Security-Token, X-Goog-Signature, X-Goog-Credential,
// sig, signature, token, access_token, key, password, ...), credential headers, and the values
// of secret options (-passphrase, -headers, -key, ...) where ffmpeg echoes them, become
// `REDACTED`. SecretValues goes further for one job: the values of its secret options wherever
// they reappear. Pure; never throws; unknown input passes through unchanged. Thread-compatible.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace ffpod {

inline constexpr std::string_view kRedacted = "REDACTED";

// Redacts one URL: user-info and the values of secret query parameters.
std::string RedactUrl(std::string_view url);

// Redacts every URL found inside free text (an ffmpeg stderr line, an error message), and the
// value of a secret option in ffmpeg's echo of it ("Reading option '-passphrase' ... with
// argument 'V'.", "Applying option ...", "Error setting option key to value V.", ...).
std::string RedactText(std::string_view text);

// Whether `arg` is an ffmpeg option whose value is a secret: `-passphrase`, `-password`,
// `-headers`, `-cookies`, `-key`, `-decryption_key`, `-hls_enc_key`, `-srtp_in_params`, ...
// (docs/logs.md has the list), also with a stream specifier (`-key:v`) or ffmpeg 7's `-/key`.
bool IsSecretOption(std::string_view arg);

// Redacts an ffmpeg argument vector: each URL, and the whole value of options that carry
// secrets themselves (-headers, -cookies, -passphrase, -decryption_key, -encryption_key, ...).
std::vector<std::string> RedactArgs(const std::vector<std::string>& args);

// The secrets of one ffmpeg command line, to be redacted wherever ffmpeg prints them again: the
// value of each secret option (IsSecretOption) and, line by line (a -headers list is printed
// one header a line, in the debug echo and in the request it sends), each header's value, each
// cookie's value or the line itself, and the password of each URL's user-info. Pieces shorter than
// kMinSecretBytes are left to RedactText (they would match ordinary text).
class SecretValues {
 public:
  static constexpr size_t kMinSecretBytes = 4;

  SecretValues() = default;
  // From the user's arguments (without the program).
  explicit SecretValues(const std::vector<std::string>& args);

  // RedactText(text), after every occurrence of a secret has become REDACTED.
  std::string Redact(std::string_view text) const;
  bool empty() const { return values_.empty(); }

 private:
  void Add(std::string_view value);

  std::vector<std::string> values_;  // longest first
};

}  // namespace ffpod
