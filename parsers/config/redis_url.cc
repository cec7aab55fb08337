#include "parsers/config/redis_url.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <optional>
#include <variant>

#include "parsers/common/text.h"
#include "parsers/config/url.h"
#include "parsers/telemetry/redact.h"

namespace ffpod {
namespace {

constexpr std::string_view kPrefix = "redis URL ";
constexpr size_t kMaxUnixPath = 107;  // sizeof(sockaddr_un::sun_path) - 1 on Linux

Error Fail(std::string message) { return Error{std::string(kPrefix) + std::move(message)}; }

// A non-negative decimal number in [min, max]; nullopt otherwise (no sign, no spaces).
std::optional<int> ParseNumber(std::string_view s, int min, int max) {
  if (s.empty() || s.size() > 10) return std::nullopt;
  long long v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + (c - '0');
  }
  if (v < min || v > max) return std::nullopt;
  return static_cast<int>(v);
}

bool IsHostNameChar(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_';
}

std::string Lower(std::string_view s) { return AsciiLowered(s); }

std::optional<bool> ParseBool(std::string_view s) {
  std::string v = Lower(s);
  if (v == "true" || v == "1" || v == "yes") return true;
  if (v == "false" || v == "0" || v == "no") return false;
  return std::nullopt;
}

// user:password from the user-info part of the authority (already split off the '@').
Result<bool> ParseUserInfo(std::string_view info, RedisUrl& url) {
  size_t colon = info.find(':');
  std::string_view raw_user = info.substr(0, colon);
  auto user = PercentDecode(raw_user);
  if (!user) return Fail("user name has a malformed percent-escape");
  url.user = *user;
  if (colon != std::string_view::npos) {
    auto password = PercentDecode(info.substr(colon + 1));
    if (!password) return Fail("password has a malformed percent-escape");
    url.password = *password;
  }
  if (!url.user.empty() && url.password.empty()) {
    // The name is not quoted: `redis://PASSWORD@host` (a password without its ':') lands here.
    return Fail(
        "names a user without a password (write user:PASSWORD@, or :PASSWORD@ for a password "
        "alone)");
  }
  return true;
}

// Pieces of a malformed URL are quoted only when they cannot be a misplaced password: a
// number ("database '-1' ...") or a parameter-like name ("unknown parameter 'timeout' ...").
std::string QuotedIfNumber(std::string_view text) {
  std::string_view digits = text.starts_with('-') ? text.substr(1) : text;
  bool number =
      !digits.empty() && digits.size() <= 20 && std::all_of(digits.begin(), digits.end(), IsDigit);
  return number ? "'" + std::string(text) + "' " : "";
}

std::string QuotedIfName(std::string_view text) {
  bool name =
      !text.empty() && text.size() <= 32 &&
      std::all_of(text.begin(), text.end(), [](char c) { return IsAsciiLower(c) || c == '_'; });
  return name ? "'" + std::string(text) + "' " : "";
}

// What is wrong with an authority, in this parser's words.
std::string Describe(const AuthorityError& e) {
  switch (e.problem) {
    case AuthorityProblem::kUnclosedBracket:
      return "has '[' without ']' around an IPv6 address";
    case AuthorityProblem::kNotIpv6:
      return "host in brackets is not an IPv6 address";
    case AuthorityProblem::kAfterBracket:
      return "has unexpected text after ']'";
    case AuthorityProblem::kBareIpv6:
      return "host has several ':' (write IPv6 addresses in brackets: [::1]:6379)";
    case AuthorityProblem::kNoHost:
      return "has no host";
    case AuthorityProblem::kBadPort:
      // Not quoted: in `redis://user:PASSWORD` (the '@' and host forgotten) the password is
      // what stands where the port would be.
      return "port is not a number in 1-65535";
    case AuthorityProblem::kBadHost:
      break;
  }
  // Not quoted: `redis://PASS!WORD` (a password without its '@') lands here.
  return "host has characters not allowed in a host name";
}

// host[:port] or [v6][:port].
Result<bool> ParseHostPort(std::string_view hp, RedisUrl& url) {
  auto parsed = ParseAuthority(hp, IsHostNameChar);
  if (const auto* error = std::get_if<AuthorityError>(&parsed)) return Fail(Describe(*error));
  const Authority& authority = std::get<Authority>(parsed);
  url.host = authority.host;
  if (authority.has_port) {
    auto port = ParseNumber(authority.port, 1, 65535);
    if (!port) return Fail(Describe({AuthorityProblem::kBadPort, {}}));
    url.port = *port;
  }
  return true;
}

// The query string: db and the TLS parameters. Each may appear once. Split here rather than by
// Boost.URL's parse_query, which refuses the whole query for one bad escape: the error names
// the parameter.
Result<bool> ParseQuery(std::string_view query, bool db_in_path, RedisUrl& url) {
  static constexpr std::array<std::string_view, 8> kKnown = {"db",
                                                             "ca_file",
                                                             "cert_file",
                                                             "key_file",
                                                             "server_name",
                                                             "insecure_skip_verify",
                                                             "sentinel_user",
                                                             "sentinel_password"};
  std::array<bool, kKnown.size()> seen{};
  while (!query.empty()) {
    size_t amp = query.find('&');
    std::string_view param = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    if (param.empty()) continue;
    size_t eq = param.find('=');
    std::string_view key = param.substr(0, eq);
    auto value_opt = PercentDecode(eq == std::string_view::npos ? "" : param.substr(eq + 1));
    if (!value_opt) {
      return Fail("parameter '" + std::string(key) + "' has a malformed percent-escape");
    }
    const std::string& value = *value_opt;
    auto it = std::find(kKnown.begin(), kKnown.end(), key);
    if (it == kKnown.end()) {
      return Fail("has unknown parameter " + QuotedIfName(key) +
                  "(known: db, ca_file, cert_file, key_file, server_name, "
                  "insecure_skip_verify, sentinel_user, sentinel_password)");
    }
    size_t index = static_cast<size_t>(it - kKnown.begin());
    if (seen[index]) return Fail("gives parameter '" + std::string(key) + "' twice");
    seen[index] = true;
    if (key == "db") {
      if (db_in_path) return Fail("gives the database both as the path and as ?db=");
      auto db = ParseNumber(value, 0, 2147483647);
      if (!db) return Fail("database " + QuotedIfNumber(value) + "is not a non-negative number");
      url.db = *db;
      continue;
    }
    if (key == "sentinel_user" || key == "sentinel_password") {
      if (!url.sentinel()) {
        return Fail("parameter '" + std::string(key) + "' needs a redis+sentinel:// URL");
      }
      (key == "sentinel_user" ? url.sentinel_user : url.sentinel_password) = value;
      continue;
    }
    if (url.transport != RedisTransport::kTls) {
      return Fail("parameter '" + std::string(key) + "' needs the rediss:// scheme (TLS)");
    }
    if (key != "insecure_skip_verify" && value.empty()) {
      return Fail("parameter '" + std::string(key) + "' is empty");
    }
    if (key == "ca_file") {
      url.tls.ca_file = value;
    } else if (key == "cert_file") {
      url.tls.cert_file = value;
    } else if (key == "key_file") {
      url.tls.key_file = value;
    } else if (key == "server_name") {
      url.tls.server_name = value;
    } else {
      auto flag = ParseBool(value);
      if (!flag) {
        return Fail("parameter 'insecure_skip_verify' is not true or false");
      }
      url.tls.insecure_skip_verify = *flag;
    }
  }
  if (url.tls.cert_file.empty() != url.tls.key_file.empty()) {
    return Fail("needs cert_file and key_file together");
  }
  if (!url.sentinel_user.empty() && url.sentinel_password.empty()) {
    return Fail("names a sentinel_user without a sentinel_password");
  }
  return true;
}

// unix://: no host, an absolute socket path that fits in sockaddr_un.
Result<bool> ParseSocketPath(std::string_view authority, std::string_view path, RedisUrl& url) {
  if (!authority.empty()) {
    return Fail("unix:// takes no host: write unix:///path/to/socket");
  }
  auto decoded = PercentDecode(path);
  if (!decoded) return Fail("socket path has a malformed percent-escape");
  if (decoded->size() < 2) return Fail("has no socket path (write unix:///path/to/socket)");
  if (decoded->size() > kMaxUnixPath) {
    return Fail("socket path is longer than " + std::to_string(kMaxUnixPath) + " bytes");
  }
  if (decoded->find('\0') != std::string::npos) return Fail("socket path contains a NUL byte");
  url.path = *decoded;
  return true;
}

// redis://, rediss://: host[:port], and the database as the path (`/3`) when there is one.
Result<bool> ParseServer(std::string_view authority, std::string_view path, RedisUrl& url,
                         bool& db_in_path) {
  auto hp = ParseHostPort(authority, url);
  if (!hp) return hp.error();
  if (path.size() > 1) {
    auto db = ParseNumber(path.substr(1), 0, 2147483647);
    if (!db) {
      return Fail("database " + QuotedIfNumber(path.substr(1)) + "is not a non-negative number");
    }
    url.db = *db;
    db_in_path = true;
  }
  return true;
}

// redis+sentinel://: Sentinels `host[:port],host[:port]...` (port default 26379), the primary's
// name as the path's first segment, and the database as its second (`/mymaster/3`).
Result<bool> ParseSentinels(std::string_view authority, std::string_view path, RedisUrl& url,
                            bool& db_in_path) {
  while (true) {
    size_t comma = authority.find(',');
    RedisUrl one;
    one.port = kSentinelDefaultPort;
    auto hp = ParseHostPort(authority.substr(0, comma), one);
    if (!hp) return Error{"redis URL sentinel " + hp.error().message.substr(kPrefix.size())};
    url.sentinels.push_back({one.host, one.port});
    if (comma == std::string_view::npos) break;
    authority.remove_prefix(comma + 1);
  }
  std::string_view segments = path.empty() ? path : path.substr(1);
  size_t slash = segments.find('/');
  std::string_view name = segments.substr(0, slash);
  if (name.empty()) {
    return Fail("names no primary: write redis+sentinel://host:26379/MASTER-NAME");
  }
  auto decoded = PercentDecode(name);
  if (!decoded || decoded->empty()) return Fail("primary name has a malformed percent-escape");
  url.master_name = *decoded;
  url.host.clear();
  url.port = 0;
  if (slash == std::string_view::npos || slash + 1 == segments.size()) return true;
  auto db = ParseNumber(segments.substr(slash + 1), 0, 2147483647);
  if (!db) {
    return Fail("database " + QuotedIfNumber(segments.substr(slash + 1)) +
                "is not a non-negative number");
  }
  url.db = *db;
  db_in_path = true;
  return true;
}

}  // namespace

Result<RedisUrl> ParseRedisUrl(std::string_view text) {
  RedisUrl url;
  size_t sep = text.find("://");
  constexpr std::string_view kSchemes =
      "redis://, rediss://, unix://, redis+sentinel:// or rediss+sentinel://";
  if (sep == std::string_view::npos) return Fail("must start with " + std::string(kSchemes));
  std::string scheme = Lower(text.substr(0, sep));
  bool sentinel = false;
  if (scheme == "redis" || scheme == "redis+sentinel") {
    url.transport = RedisTransport::kTcp;
    sentinel = scheme == "redis+sentinel";
  } else if (scheme == "rediss" || scheme == "rediss+sentinel") {
    url.transport = RedisTransport::kTls;
    sentinel = scheme == "rediss+sentinel";
  } else if (scheme == "unix") {
    url.transport = RedisTransport::kUnix;
  } else {
    // Quoted only when it is a scheme: what precedes "://" may be anything (a pasted password).
    return Fail(IsSchemeName(scheme)
                    ? "scheme '" + scheme + "' is not one of " + std::string(kSchemes)
                    : "must start with " + std::string(kSchemes));
  }
  std::string_view rest = text.substr(sep + 3);
  // The user-info ends at the last '@', so a password may hold raw '/', '?', ':' or '#'. That is
  // not RFC 3986 (so not Boost.URL's parse_uri), but what Redis users write; the rest is.
  size_t at = rest.rfind('@');
  if (at != std::string_view::npos) {
    std::string_view info = rest.substr(0, at);
    if (std::any_of(info.begin(), info.end(),
                    [](char c) { return static_cast<unsigned char>(c) < ' ' || c == 0x7f; })) {
      return Fail("user-info has control characters (percent-encode them)");
    }
    auto parsed = ParseUserInfo(info, url);
    if (!parsed) return parsed.error();
    rest = rest.substr(at + 1);
  }
  if (rest.find('#') != std::string_view::npos) {
    return Fail("has a '#' (fragments are not supported)");
  }
  if (std::any_of(rest.begin(), rest.end(),
                  [](char c) { return static_cast<unsigned char>(c) <= ' ' || c == 0x7f; })) {
    return Fail("has spaces or control characters (percent-encode them)");
  }
  size_t qmark = rest.find('?');
  std::string_view query = qmark == std::string_view::npos ? "" : rest.substr(qmark + 1);
  rest = rest.substr(0, qmark);

  size_t slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  std::string_view path = slash == std::string_view::npos ? "" : rest.substr(slash);

  bool db_in_path = false;
  auto where = url.transport == RedisTransport::kUnix ? ParseSocketPath(authority, path, url)
               : sentinel ? ParseSentinels(authority, path, url, db_in_path)
                          : ParseServer(authority, path, url, db_in_path);
  if (!where) return where.error();
  auto q = ParseQuery(query, db_in_path, url);
  if (!q) return q.error();
  return url;
}

std::string RedisHostPortText(const RedisHostPort& hp) {
  std::string h = hp.host.find(':') != std::string::npos ? "[" + hp.host + "]" : hp.host;
  return h + ":" + std::to_string(hp.port);
}

std::string RedisUrl::Address() const {
  if (transport == RedisTransport::kUnix) return path;
  if (!sentinel()) return RedisHostPortText({host, port});
  std::string out = master_name + " via sentinel ";
  for (size_t i = 0; i < sentinels.size(); ++i) {
    out += (i ? "," : "") + RedisHostPortText(sentinels[i]);
  }
  return out;
}

std::string RedisUrl::Redacted() const {
  std::string out;
  switch (transport) {
    case RedisTransport::kTcp:
      out = sentinel() ? "redis+sentinel://" : "redis://";
      break;
    case RedisTransport::kTls:
      out = sentinel() ? "rediss+sentinel://" : "rediss://";
      break;
    case RedisTransport::kUnix:
      out = "unix://";
      break;
  }
  if (!password.empty()) {
    out += PercentEncode(user) + ":" + std::string(kRedacted) + "@";
  }
  std::string query;
  auto add = [&query](std::string_view key, std::string_view value) {
    query += query.empty() ? "?" : "&";
    query += std::string(key) + "=" + PercentEncode(value);
  };
  if (transport == RedisTransport::kUnix) {
    for (char c : path) {
      // Keep '/' readable; encode what would change the URL's meaning.
      out += c == '/' ? std::string("/") : PercentEncode(std::string_view(&c, 1));
    }
    if (db != 0) add("db", std::to_string(db));
  } else if (sentinel()) {
    for (size_t i = 0; i < sentinels.size(); ++i) {
      out += (i ? "," : "") + RedisHostPortText(sentinels[i]);
    }
    out += "/" + PercentEncode(master_name);
    if (db != 0) out += "/" + std::to_string(db);
  } else {
    out += Address();
    if (db != 0) out += "/" + std::to_string(db);
  }
  if (!tls.ca_file.empty()) add("ca_file", tls.ca_file);
  if (!tls.cert_file.empty()) add("cert_file", tls.cert_file);
  if (!tls.key_file.empty()) add("key_file", tls.key_file);
  if (!tls.server_name.empty()) add("server_name", tls.server_name);
  if (tls.insecure_skip_verify) add("insecure_skip_verify", "true");
  if (!sentinel_user.empty()) add("sentinel_user", sentinel_user);
  if (!sentinel_password.empty()) add("sentinel_password", kRedacted);
  return out + query;
}

}  // namespace ffpod
