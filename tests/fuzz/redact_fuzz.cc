// Fuzz target for redaction: RedactText is idempotent and leaves text without URL or header
// punctuation alone; a token taken from the input never survives as user-info, as a signed
// parameter, as the value of a secret option or in ffmpeg's echo of one, nor anywhere through
// the SecretValues of arguments that hold it; RedactArgs keeps the argument count.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "parsers/telemetry/redact.h"

namespace {

void Check(bool ok) {
  if (!ok) std::abort();
}

bool Contains(std::string_view haystack, std::string_view needle) {
  return haystack.find(needle) != std::string_view::npos;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view bytes(reinterpret_cast<const char*>(data), size);

  std::string once = ffpod::RedactText(bytes);
  Check(ffpod::RedactText(once) == once);
  if (bytes.find_first_of("@?&;#:") == std::string_view::npos &&
      bytes.find("option") == std::string_view::npos) {
    Check(once == bytes);
  }

  // A secret built from the input's letters and digits, planted where secrets go.
  std::string token;
  for (char c : bytes) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) {
      token.push_back(c);
    }
  }
  if (token.size() >= 8 && !Contains(std::string(ffpod::kRedacted), token)) {
    const std::string planted[] = {
        "rtmp://user:" + token + "@ingest/live",
        "[in#0 @ 0x1] 'https://h/x.m3u8?X-Amz-Signature=" + token + "&a=1': Server returned 403",
        "https://h/v.mp4?sig=" + token + "#access_token=" + token,
        "Authorization: Bearer " + token,
        "Reading option '-passphrase' ... matched as AVOption 'passphrase' with argument '" +
            token + "'.",
        "Applying option key:v (a key) with argument " + token + ".",
        "Failed to set value '" + token + "' for option 'headers': Invalid argument",
        "[mov @ 0x1] Error setting option decryption_key to value " + token + ".",
    };
    for (const std::string& p : planted) Check(!Contains(ffpod::RedactText(p), token));
    std::vector<std::string> args = {"-headers", token, "-i", planted[0], "-passphrase", token};
    for (const std::string& a : ffpod::RedactArgs(args)) Check(!Contains(a, token));
    ffpod::SecretValues secrets(args);
    for (std::string_view line : {std::string_view(token), bytes}) {
      Check(!Contains(secrets.Redact(line), token));
    }
  }

  // Arguments separated by NUL bytes.
  std::vector<std::string> args;
  size_t start = 0;
  for (size_t i = 0; i <= bytes.size(); ++i) {
    if (i == bytes.size() || bytes[i] == '\0') {
      args.emplace_back(bytes.substr(start, i - start));
      start = i + 1;
    }
  }
  std::vector<std::string> redacted = ffpod::RedactArgs(args);
  Check(redacted.size() == args.size());
  Check(ffpod::RedactArgs(redacted) == redacted);
  return 0;
}
