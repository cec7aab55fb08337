// The OpenTelemetry environment variables that configure ffpod's trace export (docs/tracing.md),
// read as the OpenTelemetry specification defines them. Pure: the environment is passed in.
//
// Tracing is on when an endpoint is configured, or when OTEL_TRACES_EXPORTER names `otlp`
// (then the specification's default kOtlpDefaultTracesEndpoint is used). It is off when
// OTEL_SDK_DISABLED is `true` (any case), when OTEL_TRACES_EXPORTER is `none`, or when nothing
// asks for it (so a pod without a Collector sends nothing and counts no drops).
//
// The variables, what each changes and their defaults are in OtelVariables() below (which
// `ffpod run --help`, `ffpod worker --help` and docs/configuration.md show). A TRACES_ variable
// wins over its generic one (OTEL_EXPORTER_OTLP_TRACES_TIMEOUT over OTEL_EXPORTER_OTLP_TIMEOUT);
// OTEL_EXPORTER_OTLP_ENDPOINT gets "v1/traces" appended ("/v1/traces" when it does not end in
// /); an empty value counts as unset.
//
// Errors (one sentence naming the variable) are settings ffpod cannot send with at all: a
// malformed endpoint, an unsupported exporter or protocol, a malformed header list, a client
// key without its certificate. A malformed descriptive or tuning setting (resource attributes,
// batch sizes, timeouts, booleans) falls back to its default with a warning, as the
// specification asks.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "parsers/common/result.h"

namespace ffpod {

// Where spans are POSTed.
struct OtlpEndpoint {
  std::string url;     // the resolved URL, e.g. "https://otlp.example.com/v1/traces"
  bool tls = false;    // https
  std::string host;    // name or address (an IPv6 address without brackets)
  uint16_t port = 0;   // explicit, else 80 / 443
  std::string target;  // path and query, at least "/"
  bool port_explicit = false;

  // The Host header value: host, bracketed when IPv6, with ":port" when it was explicit.
  std::string HostHeader() const;
};

struct OtelConfig {
  bool enabled = false;
  std::string disabled_because;  // why tracing is off, when it is

  OtlpEndpoint endpoint;
  std::vector<std::pair<std::string, std::string>> headers;  // decoded, names as given
  std::chrono::milliseconds request_timeout{10000};          // one HTTP request
  std::string ca_file;                  // PEM bundle to verify the server (else the system's)
  std::string client_certificate_file;  // mTLS
  std::string client_key_file;

  std::string service_name = "ffpod";
  // OTEL_RESOURCE_ATTRIBUTES, decoded, in order (a repeated key keeps its last value).
  std::vector<std::pair<std::string, std::string>> resource_attributes;

  std::chrono::milliseconds schedule_delay{5000};   // OTEL_BSP_SCHEDULE_DELAY
  std::chrono::milliseconds export_timeout{30000};  // OTEL_BSP_EXPORT_TIMEOUT: a batch, retries
  size_t max_queue_size = 2048;                     // OTEL_BSP_MAX_QUEUE_SIZE
  size_t max_export_batch_size = 512;               // OTEL_BSP_MAX_EXPORT_BATCH_SIZE

  // Settings that were ignored or replaced by their default, one sentence each.
  std::vector<std::string> warnings;
};

// Where spans go when OTEL_TRACES_EXPORTER is otlp and no endpoint is set.
inline constexpr std::string_view kOtlpDefaultTracesEndpoint = "http://localhost:4318/v1/traces";

// One variable ParseOtelConfig reads. A name with "[TRACES_]" stands for two variables
// (OTEL_EXPORTER_OTLP_TRACES_X wins over OTEL_EXPORTER_OTLP_X).
struct OtelVariable {
  std::string_view name;
  std::string_view help;  // what it changes
  // Its default, rendered from an OtelConfig's initial values; nullptr when none is shown.
  std::string (*default_text)(const OtelConfig& defaults);
};

// Every variable ParseOtelConfig reads, in the order --help lists them.
std::span<const OtelVariable> OtelVariables();

// Reads OTEL_* from `env`. See the file comment for what is an error.
Result<OtelConfig> ParseOtelConfig(const std::map<std::string, std::string>& env);

// Parses an http:// or https:// URL into an endpoint. The error names `variable`.
Result<OtlpEndpoint> ParseOtlpEndpoint(std::string_view url, std::string_view variable);

// Parses a "k=v,k2=v2" list (W3C Baggage without properties): members trimmed of spaces and
// tabs, empty members skipped, key and value percent-decoded when `decode_keys` /
// always respectively. The error says what is wrong with which member.
Result<std::vector<std::pair<std::string, std::string>>> ParseKeyValueList(std::string_view text,
                                                                           bool decode_keys);

}  // namespace ffpod
