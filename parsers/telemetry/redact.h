// Redaction of secrets before anything reaches logs, results, status, spans or metrics
// (docs/logs.md): URL user-info (`rtmp://user:pass@host`) and signed query parameters
// (X-Amz-Signature, X-Amz-Credential, X-Amz-Security-Token, X-Goog-Signature, X-Goog-Credential,
// sig, signature, token, access_token, key, password, ...) become `REDACTED`.
// Pure; never throws; unknown input passes through unchanged.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace ffpod {

inline constexpr std::string_view kRedacted = "REDACTED";

// Redacts one URL: user-info and the values of secret query parameters.
std::string RedactUrl(std::string_view url);

// Redacts every URL found inside free text (an ffmpeg stderr line, an error message).
std::string RedactText(std::string_view text);

// Redacts an ffmpeg argument vector: each URL, and the whole value of options that carry
// secrets themselves (-headers, -cookies, -passphrase, -decryption_key, -encryption_key, ...).
std::vector<std::string> RedactArgs(const std::vector<std::string>& args);

}  // namespace ffpod
