#include "parsers/config/otel_config.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <variant>

#include "parsers/common/text.h"
#include "parsers/config/url.h"

namespace ffpod {

namespace {

constexpr int64_t kMaxMillis = 24 * 3600 * 1000;
constexpr int64_t kMaxQueue = 1 << 20;

std::string Lower(std::string_view s) { return AsciiLowered(s); }

bool IEquals(std::string_view a, std::string_view b) { return Lower(a) == Lower(b); }

// The OpenTelemetry variables allow blanks and tabs around values (OWS).
std::string_view TrimOws(std::string_view s) { return Trim(s, " \t"); }

// The variable's value, or empty when unset (an empty value counts as unset).
std::string Get(const std::map<std::string, std::string>& env, const std::string& name) {
  auto it = env.find(name);
  return it == env.end() ? std::string() : it->second;
}

// The TRACES_ variable when set, else the generic one. `name` is the suffix after
// "OTEL_EXPORTER_OTLP_". Sets `*which` to the variable that was used.
std::string GetSignal(const std::map<std::string, std::string>& env, const std::string& suffix,
                      std::string* which) {
  std::string specific = "OTEL_EXPORTER_OTLP_TRACES_" + suffix;
  if (std::string v = Get(env, specific); !v.empty()) {
    *which = specific;
    return v;
  }
  *which = "OTEL_EXPORTER_OTLP_" + suffix;
  return Get(env, *which);
}

// A non-negative integer within [min, max]; nullopt otherwise.
std::optional<int64_t> ParseInt(std::string_view text, int64_t min, int64_t max) {
  auto n = ParseInt64(TrimOws(text));
  if (!n || *n < min || *n > max) return std::nullopt;
  return n;
}

// Reads an integer setting; a malformed one keeps `fallback` and adds a warning.
int64_t IntSetting(const std::map<std::string, std::string>& env, const std::string& name,
                   int64_t fallback, int64_t min, int64_t max, std::vector<std::string>& warnings) {
  std::string v = Get(env, name);
  if (v.empty()) return fallback;
  if (auto n = ParseInt(v, min, max)) return *n;
  warnings.push_back(name + "=\"" + v + "\" is not an integer from " + std::to_string(min) +
                     " to " + std::to_string(max) + "; using " + std::to_string(fallback));
  return fallback;
}

// RFC 9110 token characters (header names).
bool IsTchar(char c) {
  if (IsAsciiAlnum(c)) return true;
  return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

bool IsToken(std::string_view s) { return !s.empty() && std::all_of(s.begin(), s.end(), IsTchar); }

// One member of a "k=v,k2=v2" list, with its position (1-based, counting every comma-separated
// piece, empty ones too), so that errors can point at it without quoting it.
struct Member {
  size_t position = 0;
  std::string key;
  std::string value;
};

// How an error names a member: its position, and its key when the key is a plain token (a
// header name or an attribute key). Never the value: a header's value is often a credential, and
// a member without '=' may be one whole.
std::string Where(size_t position, std::string_view key) {
  std::string out = "entry " + std::to_string(position);
  if (IsToken(key)) out += " (\"" + std::string(key) + "\")";
  return out;
}

Result<std::vector<Member>> ParseMembers(std::string_view text, bool decode_keys) {
  std::vector<Member> out;
  size_t pos = 0;
  size_t position = 0;
  while (pos <= text.size()) {
    size_t comma = text.find(',', pos);
    if (comma == std::string_view::npos) comma = text.size();
    std::string_view member = TrimOws(text.substr(pos, comma - pos));
    pos = comma + 1;
    ++position;
    if (member.empty()) continue;
    size_t eq = member.find('=');
    if (eq == std::string_view::npos) {
      return Error{Where(position, {}) + " is not a key=value pair (it has no '=')"};
    }
    std::string_view raw_key = TrimOws(member.substr(0, eq));
    std::string_view raw_value = TrimOws(member.substr(eq + 1));
    if (raw_key.empty()) return Error{Where(position, {}) + " has an empty key"};
    std::optional<std::string> key =
        decode_keys ? PercentDecode(raw_key) : std::optional<std::string>(raw_key);
    if (!key) return Error{Where(position, {}) + " has a malformed percent-encoding in its key"};
    std::optional<std::string> value = PercentDecode(raw_value);
    if (!value) {
      return Error{Where(position, *key) + " has a malformed percent-encoding in its value"};
    }
    out.push_back(Member{position, std::move(*key), std::move(*value)});
  }
  return out;
}

Result<std::vector<std::pair<std::string, std::string>>> ParseHeaders(std::string_view text,
                                                                      const std::string& var) {
  auto members = ParseMembers(text, /*decode_keys=*/false);
  if (!members) return Error{var + ": " + members.error().message};
  std::vector<std::pair<std::string, std::string>> list;
  for (auto& m : *members) {
    if (!IsToken(m.key)) {
      return Error{var + ": " + Where(m.position, {}) +
                   " does not start with a valid HTTP header name"};
    }
    for (char c : m.value) {
      unsigned char u = static_cast<unsigned char>(c);
      if (u == '\r' || u == '\n' || u == 0 || (u < 0x20 && u != '\t') || u == 0x7f) {
        return Error{var + ": the value of " + Where(m.position, m.key) +
                     " contains a control character"};
      }
    }
    list.emplace_back(std::move(m.key), std::move(m.value));
  }
  return list;
}

// Replaces entries of `base` whose name matches one in `overrides` (case-insensitively), then
// appends the rest of `overrides`.
void MergeHeaders(std::vector<std::pair<std::string, std::string>>& base,
                  const std::vector<std::pair<std::string, std::string>>& overrides) {
  for (const auto& kv : overrides) {
    base.erase(std::remove_if(base.begin(), base.end(),
                              [&](const auto& b) { return IEquals(b.first, kv.first); }),
               base.end());
  }
  base.insert(base.end(), overrides.begin(), overrides.end());
}

// What is wrong with the endpoint's host or port, in this parser's words.
std::string_view Describe(const AuthorityError& e) {
  switch (e.problem) {
    case AuthorityProblem::kUnclosedBracket:
      return "has an unterminated IPv6 address";
    case AuthorityProblem::kAfterBracket:
      return "has characters after the IPv6 address";
    case AuthorityProblem::kBareIpv6:
      return "has an IPv6 address without [ ]";
    case AuthorityProblem::kNoHost:
      return "has no host";
    case AuthorityProblem::kBadPort:
      return "has an invalid port";
    case AuthorityProblem::kNotIpv6:
    case AuthorityProblem::kBadHost:
      break;
  }
  return "has an invalid host";
}

}  // namespace

std::string OtlpEndpoint::HostHeader() const {
  std::string out = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  if (port_explicit) out += ":" + std::to_string(port);
  return out;
}

Result<std::vector<std::pair<std::string, std::string>>> ParseKeyValueList(std::string_view text,
                                                                           bool decode_keys) {
  auto members = ParseMembers(text, decode_keys);
  if (!members) return members.error();
  std::vector<std::pair<std::string, std::string>> out;
  for (auto& m : *members) out.emplace_back(std::move(m.key), std::move(m.value));
  return out;
}

Result<OtlpEndpoint> ParseOtlpEndpoint(std::string_view url, std::string_view variable) {
  // The URL itself is never quoted: a malformed one may hold credentials anywhere (a user-info
  // without its '@', a token in the query), and the error goes to the log.
  auto fail = [&](std::string_view why) -> Error {
    return Error{std::string(variable) + " " + std::string(why)};
  };
  OtlpEndpoint ep;
  ep.url = std::string(url);
  size_t scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos) {
    return fail("is not a URL (expected http://host:port/path or https://...)");
  }
  std::string scheme = Lower(url.substr(0, scheme_end));
  if (scheme == "https") {
    ep.tls = true;
  } else if (scheme != "http") {
    return fail(IsSchemeName(scheme) ? "must use http:// or https:// (not " + scheme + "://)"
                                     : std::string("must use http:// or https://"));
  }
  std::string_view rest = url.substr(scheme_end + 3);
  if (size_t hash = rest.find('#'); hash != std::string_view::npos) rest = rest.substr(0, hash);
  size_t auth_end = rest.find_first_of("/?");
  std::string_view authority_text = rest.substr(0, auth_end);
  std::string_view target = auth_end == std::string_view::npos ? "" : rest.substr(auth_end);
  if (authority_text.find('@') != std::string_view::npos) {
    return fail("must not hold credentials (put them in OTEL_EXPORTER_OTLP_HEADERS)");
  }
  // A percent-encoded name is a valid URL host, but neither a Host header nor a TLS name.
  auto parsed = ParseAuthority(authority_text, [](char c) { return c != '%'; });
  if (const auto* error = std::get_if<AuthorityError>(&parsed)) return fail(Describe(*error));
  const Authority& authority = std::get<Authority>(parsed);
  ep.host = authority.host;
  ep.port_explicit = authority.has_port;
  if (ep.port_explicit) {
    auto port = ParseInt(authority.port, 1, 65535);
    if (!port) return fail(Describe({AuthorityProblem::kBadPort, {}}));
    ep.port = static_cast<uint16_t>(*port);
  } else {
    ep.port = ep.tls ? 443 : 80;
  }
  for (char c : target) {
    unsigned char u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u >= 0x7f) return fail("has a space or control character in its path");
  }
  ep.target = target.empty()
                  ? "/"
                  : (target.front() == '?' ? "/" + std::string(target) : std::string(target));
  return ep;
}

namespace {

// One pass over the environment. Each step reads its variables into `c` and returns true to go
// on, false when tracing is off (`c.disabled_because` says why), or the error.
struct Reading {
  const std::map<std::string, std::string>& env;
  OtelConfig& c;
  bool otlp_requested = false;  // OTEL_TRACES_EXPORTER names otlp

  std::string Get(const std::string& name) const { return ffpod::Get(env, name); }
};

Result<bool> ReadSdkDisabled(Reading& r) {
  std::string disabled = r.Get("OTEL_SDK_DISABLED");
  if (IEquals(TrimOws(disabled), "true")) {
    r.c.disabled_because = "OTEL_SDK_DISABLED is true";
    return false;
  }
  if (!disabled.empty() && !IEquals(TrimOws(disabled), "false")) {
    r.c.warnings.push_back("OTEL_SDK_DISABLED=\"" + disabled +
                           "\" is neither true nor false; treated as false");
  }
  return true;
}

// OTEL_TRACES_EXPORTER: a comma-separated list; ffpod sends otlp and nothing else.
Result<bool> ReadExporters(Reading& r) {
  std::string exporters = r.Get("OTEL_TRACES_EXPORTER");
  if (exporters.empty()) return true;
  bool none = false;
  std::vector<std::string> unsupported;
  size_t pos = 0;
  while (pos <= exporters.size()) {
    size_t comma = exporters.find(',', pos);
    if (comma == std::string::npos) comma = exporters.size();
    std::string name = Lower(TrimOws(std::string_view(exporters).substr(pos, comma - pos)));
    pos = comma + 1;
    if (name.empty()) continue;
    if (name == "otlp") {
      r.otlp_requested = true;
    } else if (name == "none") {
      none = true;
    } else {
      unsupported.push_back(name);
    }
  }
  if (none && !r.otlp_requested) {
    r.c.disabled_because = "OTEL_TRACES_EXPORTER is none";
    return false;
  }
  if (!r.otlp_requested) {
    return Error{"OTEL_TRACES_EXPORTER=\"" + exporters +
                 "\" names no exporter ffpod has (it exports otlp, or none)"};
  }
  for (const auto& name : unsupported) {
    r.c.warnings.push_back("OTEL_TRACES_EXPORTER: exporter \"" + name +
                           "\" is not available in ffpod; only otlp is used");
  }
  return true;
}

Result<bool> ReadEndpoint(Reading& r) {
  std::string url;
  std::string url_var;
  if (std::string v = r.Get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"); !v.empty()) {
    url = std::string(TrimOws(v));
    url_var = "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT";
  } else if (std::string g = r.Get("OTEL_EXPORTER_OTLP_ENDPOINT"); !g.empty()) {
    url = std::string(TrimOws(g));
    url += url.empty() || url.back() != '/' ? "/v1/traces" : "v1/traces";
    url_var = "OTEL_EXPORTER_OTLP_ENDPOINT";
  } else if (r.otlp_requested) {
    url = std::string(kOtlpDefaultTracesEndpoint);
    url_var = "the default endpoint";
  } else {
    r.c.disabled_because =
        "no OTLP endpoint is configured (OTEL_EXPORTER_OTLP_TRACES_ENDPOINT or "
        "OTEL_EXPORTER_OTLP_ENDPOINT)";
    return false;
  }
  auto endpoint = ParseOtlpEndpoint(url, url_var);
  if (!endpoint) return endpoint.error();
  r.c.endpoint = std::move(*endpoint);
  return true;
}

Result<bool> ReadProtocol(Reading& r) {
  std::string var;
  std::string protocol = GetSignal(r.env, "PROTOCOL", &var);
  if (protocol.empty()) return true;
  std::string p = Lower(TrimOws(protocol));
  if (p == "http/protobuf") {
    r.c.warnings.push_back(var +
                           " is http/protobuf; ffpod sends http/json, which OTLP/HTTP receivers "
                           "accept on the same endpoint");
  } else if (p != "http/json") {
    return Error{var + "=\"" + protocol + "\" is not supported (ffpod sends http/json)"};
  }
  return true;
}

// Headers: generic, then the TRACES_ ones replace those of the same name.
Result<bool> ReadHeaders(Reading& r) {
  std::vector<std::pair<std::string, std::string>> headers;
  for (const char* var : {"OTEL_EXPORTER_OTLP_HEADERS", "OTEL_EXPORTER_OTLP_TRACES_HEADERS"}) {
    if (std::string h = r.Get(var); !h.empty()) {
      auto parsed = ParseHeaders(h, var);
      if (!parsed) return parsed.error();
      MergeHeaders(headers, *parsed);
    }
  }
  for (const auto& [name, value] : headers) {
    if (IEquals(name, "content-type") || IEquals(name, "content-length") ||
        IEquals(name, "transfer-encoding")) {
      r.c.warnings.push_back("header \"" + name + "\" from OTEL_EXPORTER_OTLP_HEADERS is ignored");
    } else {
      r.c.headers.emplace_back(name, value);
    }
  }
  return true;
}

// The request timeout, compression and TLS files.
Result<bool> ReadTransport(Reading& r) {
  OtelConfig& c = r.c;
  std::string var;
  if (std::string t = GetSignal(r.env, "TIMEOUT", &var); !t.empty()) {
    if (auto ms = ParseInt(t, 1, kMaxMillis)) {
      c.request_timeout = std::chrono::milliseconds(*ms);
    } else {
      c.warnings.push_back(var + "=\"" + t + "\" is not a positive number of milliseconds; using " +
                           std::to_string(c.request_timeout.count()));
    }
  }
  if (std::string z = GetSignal(r.env, "COMPRESSION", &var); !z.empty()) {
    if (Lower(TrimOws(z)) != "none") {
      c.warnings.push_back(var + "=\"" + z + "\" is not supported; spans are sent uncompressed");
    }
  }
  c.ca_file = GetSignal(r.env, "CERTIFICATE", &var);
  if (!c.ca_file.empty() && !c.endpoint.tls) {
    c.warnings.push_back(var + " is set but the endpoint is not https; it is not used");
  }
  std::string cert_var, key_var;
  c.client_certificate_file = GetSignal(r.env, "CLIENT_CERTIFICATE", &cert_var);
  c.client_key_file = GetSignal(r.env, "CLIENT_KEY", &key_var);
  if (c.client_certificate_file.empty() != c.client_key_file.empty()) {
    return Error{c.client_key_file.empty()
                     ? cert_var + " is set without " + "OTEL_EXPORTER_OTLP_CLIENT_KEY"
                     : key_var + " is set without " + "OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE"};
  }
  return true;
}

// The resource attributes and the service name; the sampler, which ffpod does not choose.
Result<bool> ReadResource(Reading& r) {
  OtelConfig& c = r.c;
  if (std::string attrs = r.Get("OTEL_RESOURCE_ATTRIBUTES"); !attrs.empty()) {
    auto parsed = ParseKeyValueList(attrs, /*decode_keys=*/true);
    if (!parsed) {
      c.warnings.push_back("OTEL_RESOURCE_ATTRIBUTES is ignored: " + parsed.error().message);
    } else {
      for (auto& [k, v] : *parsed) {
        auto it = std::find_if(c.resource_attributes.begin(), c.resource_attributes.end(),
                               [&key = k](const auto& e) { return e.first == key; });
        if (it != c.resource_attributes.end()) {
          it->second = std::move(v);
        } else {
          c.resource_attributes.emplace_back(std::move(k), std::move(v));
        }
      }
    }
  }
  for (const auto& [k, v] : c.resource_attributes) {
    if (k == "service.name" && !v.empty()) c.service_name = v;
  }
  if (std::string name = std::string(TrimOws(r.Get("OTEL_SERVICE_NAME"))); !name.empty()) {
    c.service_name = name;
  }
  if (std::string s = r.Get("OTEL_TRACES_SAMPLER"); !s.empty()) {
    if (Lower(TrimOws(s)) != "parentbased_always_on") {
      c.warnings.push_back("OTEL_TRACES_SAMPLER=\"" + s +
                           "\" is not supported; every job whose parent is sampled is traced");
    }
  }
  return true;
}

Result<bool> ReadBatchProcessor(Reading& r) {
  OtelConfig& c = r.c;
  c.schedule_delay = std::chrono::milliseconds(IntSetting(
      r.env, "OTEL_BSP_SCHEDULE_DELAY", c.schedule_delay.count(), 0, kMaxMillis, c.warnings));
  c.export_timeout = std::chrono::milliseconds(IntSetting(
      r.env, "OTEL_BSP_EXPORT_TIMEOUT", c.export_timeout.count(), 1, kMaxMillis, c.warnings));
  c.max_queue_size = static_cast<size_t>(IntSetting(r.env, "OTEL_BSP_MAX_QUEUE_SIZE",
                                                    static_cast<int64_t>(c.max_queue_size), 1,
                                                    kMaxQueue, c.warnings));
  c.max_export_batch_size = static_cast<size_t>(
      IntSetting(r.env, "OTEL_BSP_MAX_EXPORT_BATCH_SIZE",
                 static_cast<int64_t>(c.max_export_batch_size), 1, kMaxQueue, c.warnings));
  if (c.max_export_batch_size > c.max_queue_size) {
    c.warnings.push_back(
        "OTEL_BSP_MAX_EXPORT_BATCH_SIZE is larger than OTEL_BSP_MAX_QUEUE_SIZE; "
        "using " +
        std::to_string(c.max_queue_size));
    c.max_export_batch_size = c.max_queue_size;
  }
  return true;
}

}  // namespace

Result<OtelConfig> ParseOtelConfig(const std::map<std::string, std::string>& env) {
  OtelConfig c;
  Reading reading{env, c};
  for (auto* step : {ReadSdkDisabled, ReadExporters, ReadEndpoint, ReadProtocol, ReadHeaders,
                     ReadTransport, ReadResource, ReadBatchProcessor}) {
    auto go_on = step(reading);
    if (!go_on) return go_on.error();
    if (!*go_on) return c;
  }
  c.enabled = true;
  return c;
}

}  // namespace ffpod
