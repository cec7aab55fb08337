// Redis connection URLs (`--redis`, `--report-redis`): what to connect to, how to authenticate,
// which database to select and, for TLS, how to verify the server. Pure; never throws.
// Thread-compatible.
//
// Accepted forms (the scheme is case-insensitive, everything else is case-sensitive):
//
//   redis://[[user]:password@]host[:port][/db][?db=N]            plain TCP
//   rediss://[[user]:password@]host[:port][/db][?db=N&<tls>...]  TCP with TLS
//   unix://[[user]:password@]/path/to/socket[?db=N]              unix domain socket
//   redis+sentinel://[[user]:password@]host[:port][,host[:port]...]/master[/db][?...]
//   rediss+sentinel://...                                          the same over TLS
//
// - Sentinel (docs/queue.md "Sentinel"): the hosts are Sentinels (port default 26379), asked in
//   turn for the address of the primary named `master` (SENTINEL get-master-addr-by-name); the
//   user and password are the primary's. `sentinel_user`/`sentinel_password` in the query
//   authenticate to the Sentinels when they require it. With TLS, the Sentinels and the data
//   nodes are verified by the same TLS parameters.
//
// - host: a name (`redis`, `redis.queue.svc`), an IPv4 address, or an IPv6 address in brackets
//   (`[::1]`). The port defaults to 6379.
// - user and password: percent-decoded (`%40` for `@`, `%3A` for `:` in a user name, `%25` for
//   `%`). The user-info ends at the last `@` of the URL, so a password may hold raw `/`, `?`,
//   `#` and `:` (only the first `:` splits user from password); an `@` after the user-info
//   (in a query value or socket path) must be written `%40`. A password alone (`:secret@`)
//   authenticates as the `default` user (`AUTH secret`); `user:secret@` authenticates as an ACL
//   user (`AUTH user secret`). A user without a password is rejected.
// - db: the database index to SELECT, as the path (`/3`) or as `?db=3` (not both). Default 0.
// - TLS query parameters (rediss:// only):
//     ca_file=PATH               PEM bundle of CAs that may sign the server's certificate
//                                (default: the system's trust store)
//     cert_file=PATH&key_file=PATH  client certificate and key (PEM), for servers that
//                                require client certificates (`tls-auth-clients yes`)
//     server_name=NAME           name to send as SNI and to verify in the certificate
//                                (default: the host)
//     insecure_skip_verify=true  do not verify the server's certificate (testing only)
//   Query values are percent-decoded. Unknown parameters are rejected (a typo never silently
//   disables verification).
// - The unix socket path is percent-decoded, must be absolute and at most 107 bytes.
//
// Error messages never contain the password. Percent-decoding, IPv6 addresses and the host/port
// split are Boost.URL's (parsers/config/url.h).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "parsers/common/result.h"

namespace ffpod {

enum class RedisTransport { kTcp, kTls, kUnix };

// How a rediss:// connection verifies the server and, optionally, presents a client certificate.
struct RedisTlsOptions {
  std::string ca_file;                // empty: the system's default trust store
  std::string cert_file;              // client certificate (PEM); set together with key_file
  std::string key_file;               // client private key (PEM)
  std::string server_name;            // SNI and verified name; empty: the URL's host
  bool insecure_skip_verify = false;  // accept any certificate

  bool operator==(const RedisTlsOptions&) const = default;
};

struct RedisHostPort {
  std::string host;  // name or address, IPv6 without brackets
  int port = 0;

  bool operator==(const RedisHostPort&) const = default;
};

inline constexpr int kSentinelDefaultPort = 26379;

// `host:port`, `[v6]:port`.
std::string RedisHostPortText(const RedisHostPort& hp);

struct RedisUrl {
  RedisTransport transport = RedisTransport::kTcp;
  std::string host;      // kTcp/kTls: name or address, IPv6 without brackets
  int port = 6379;       // kTcp/kTls
  std::string path;      // kUnix: absolute socket path
  std::string user;      // empty: the default user
  std::string password;  // empty: no AUTH
  int db = 0;            // SELECTed after connecting when non-zero
  RedisTlsOptions tls;   // kTls only
  // redis+sentinel:// and rediss+sentinel:// (kTcp or kTls): the Sentinels to ask, in the
  // URL's order, for the primary named `master_name`. host and port are then empty and 0.
  std::vector<RedisHostPort> sentinels;
  std::string master_name;
  std::string sentinel_user;      // empty: the default user
  std::string sentinel_password;  // empty: no AUTH to the Sentinels

  bool operator==(const RedisUrl&) const = default;
  bool sentinel() const { return !sentinels.empty(); }

  // The URL in canonical form with the password replaced by REDACTED, for logs and errors:
  // `rediss://worker:REDACTED@[::1]:6380/2?ca_file=%2Fetc%2Fca.pem`.
  std::string Redacted() const;

  // Where it connects, for messages: `host:port`, `[v6]:port` or the socket path; with
  // Sentinels, `master via sentinel h1:26379,h2:26379`.
  std::string Address() const;
};

inline constexpr int kRedisDefaultPort = 6379;

// Parses one URL. On failure the error names the part that is wrong, e.g.
// "redis URL port '70000' is out of range (1-65535)".
Result<RedisUrl> ParseRedisUrl(std::string_view text);

}  // namespace ffpod
