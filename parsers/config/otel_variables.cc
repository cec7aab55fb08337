// The OTEL_* variables ParseOtelConfig reads (otel_config.cc), with what each changes and its
// default, for --help and docs/configuration.md (checked by config_docs_test.cc). docs/tracing.md
// explains them at length.
#include <string>

#include "parsers/config/otel_config.h"

namespace ffpod {

namespace {

std::string Millis(std::chrono::milliseconds ms) { return std::to_string(ms.count()); }

constexpr OtelVariable kOtelVariables[] = {
    {"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
     "where spans are sent (http:// or https://): a full URL, used as is",
     [](const OtelConfig&) {
       return std::string(kOtlpDefaultTracesEndpoint) +
              " when OTEL_TRACES_EXPORTER is otlp, else no export";
     }},
    {"OTEL_EXPORTER_OTLP_ENDPOINT",
     "an OTLP/HTTP receiver's base URL; ffpod appends /v1/traces to it", nullptr},
    {"OTEL_TRACES_EXPORTER", "otlp, or none for no export (ffpod has no other exporter)", nullptr},
    {"OTEL_SDK_DISABLED", "true: no export (span ids are still made for logs and results)",
     nullptr},
    {"OTEL_SERVICE_NAME",
     "service.name of ffpod's spans; wins over service.name in OTEL_RESOURCE_ATTRIBUTES",
     [](const OtelConfig& c) { return c.service_name; }},
    {"OTEL_RESOURCE_ATTRIBUTES",
     "k=v,k2=v2, percent-decoded: added to (and replacing) ffpod's own resource attributes",
     nullptr},
    {"OTEL_EXPORTER_OTLP_[TRACES_]HEADERS",
     "request headers, k=v,k2=v2 with values percent-decoded; the TRACES_ entries replace "
     "generic ones of the same name",
     nullptr},
    {"OTEL_EXPORTER_OTLP_[TRACES_]TIMEOUT",
     "time limit of one HTTP request (connect, TLS, send, answer), ms",
     [](const OtelConfig& c) { return Millis(c.request_timeout); }},
    {"OTEL_EXPORTER_OTLP_[TRACES_]CERTIFICATE",
     "PEM bundle of the CAs that verify an https endpoint (unset: the system's)", nullptr},
    {"OTEL_EXPORTER_OTLP_[TRACES_]CLIENT_CERTIFICATE",
     "client certificate (PEM) for mutual TLS, set together with the client key", nullptr},
    {"OTEL_EXPORTER_OTLP_[TRACES_]CLIENT_KEY", "the client certificate's private key (PEM)",
     nullptr},
    {"OTEL_EXPORTER_OTLP_[TRACES_]PROTOCOL",
     "http/json; http/protobuf is accepted with a warning (receivers take JSON on the same "
     "path); grpc turns export off with a warning",
     nullptr},
    {"OTEL_EXPORTER_OTLP_[TRACES_]COMPRESSION",
     "none; anything else is ignored with a warning (spans are sent uncompressed)", nullptr},
    {"OTEL_TRACES_SAMPLER",
     "parentbased_always_on; anything else is ignored with a warning (a job is traced when its "
     "parent is sampled)",
     nullptr},
    {"OTEL_BSP_SCHEDULE_DELAY", "ms before a partial batch is sent",
     [](const OtelConfig& c) { return Millis(c.schedule_delay); }},
    {"OTEL_BSP_EXPORT_TIMEOUT", "ms for one batch, retries included",
     [](const OtelConfig& c) { return Millis(c.export_timeout); }},
    {"OTEL_BSP_MAX_QUEUE_SIZE", "spans waiting to be sent; beyond it spans are dropped and counted",
     [](const OtelConfig& c) { return std::to_string(c.max_queue_size); }},
    {"OTEL_BSP_MAX_EXPORT_BATCH_SIZE", "spans per request (at most OTEL_BSP_MAX_QUEUE_SIZE)",
     [](const OtelConfig& c) { return std::to_string(c.max_export_batch_size); }},
};

}  // namespace

std::span<const OtelVariable> OtelVariables() { return kOtelVariables; }

}  // namespace ffpod
