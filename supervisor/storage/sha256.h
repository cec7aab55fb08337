// SHA-256 (OpenSSL's EVP), for the audit trail: of a whole byte string (`ffmpeg -buildconf`'s
// output) or fed piece by piece (an input file read in chunks); and HMAC-SHA256, for request
// signing (parsers/storage/sigv4.h takes both as its Hashes); MD5 for a presigned upload's
// Content-MD5.
//
// Threading: a Sha256 belongs to one thread at a time.
#pragma once

#include <memory>
#include <string>
#include <string_view>

namespace ffpod {

class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;

  void Update(std::string_view bytes);
  // The digest of everything fed so far, as 64 lowercase hex digits. Call once.
  std::string HexDigest();

 private:
  struct Context;
  std::unique_ptr<Context> ctx_;
};

// The sha256 of `bytes`, as 64 lowercase hex digits.
std::string Sha256Hex(std::string_view bytes);

// MD5 of `bytes`: the 16 raw bytes (Content-MD5 is their base64).
std::string Md5(std::string_view bytes);

// HMAC-SHA256 of `data` under `key`: the 32 raw bytes.
std::string HmacSha256(std::string_view key, std::string_view data);

}  // namespace ffpod
