#include "parsers/config/otel_config.h"

#include <gtest/gtest.h>

#include <map>
#include <string>

namespace ffpod {
namespace {

using Env = std::map<std::string, std::string>;
using Pairs = std::vector<std::pair<std::string, std::string>>;

OtelConfig Parse(const Env& env) {
  auto c = ParseOtelConfig(env);
  EXPECT_TRUE(c.ok()) << (c.ok() ? "" : c.error().message);
  return c.ok() ? *c : OtelConfig{};
}

std::string ErrorOf(const Env& env) {
  auto c = ParseOtelConfig(env);
  EXPECT_FALSE(c.ok());
  return c.ok() ? "" : c.error().message;
}

TEST(OtelConfig, OffUnlessAsked) {
  OtelConfig c = Parse({});
  EXPECT_FALSE(c.enabled);
  EXPECT_NE(c.disabled_because.find("no OTLP endpoint"), std::string::npos);
  // Unrelated variables do not turn it on.
  c = Parse({{"OTEL_SERVICE_NAME", "x"}, {"OTEL_EXPORTER_OTLP_HEADERS", "a=b"}});
  EXPECT_FALSE(c.enabled);
}

TEST(OtelConfig, GenericEndpointGetsTheSignalPath) {
  OtelConfig c = Parse({{"OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4318"}});
  ASSERT_TRUE(c.enabled);
  EXPECT_EQ(c.endpoint.url, "http://collector:4318/v1/traces");
  EXPECT_FALSE(c.endpoint.tls);
  EXPECT_EQ(c.endpoint.host, "collector");
  EXPECT_EQ(c.endpoint.port, 4318);
  EXPECT_EQ(c.endpoint.target, "/v1/traces");
  EXPECT_EQ(c.endpoint.HostHeader(), "collector:4318");

  c = Parse({{"OTEL_EXPORTER_OTLP_ENDPOINT", "https://api.honeycomb.io/"}});
  EXPECT_EQ(c.endpoint.url, "https://api.honeycomb.io/v1/traces");
  EXPECT_TRUE(c.endpoint.tls);
  EXPECT_EQ(c.endpoint.port, 443);
  EXPECT_EQ(c.endpoint.HostHeader(), "api.honeycomb.io");

  c = Parse({{"OTEL_EXPORTER_OTLP_ENDPOINT", "http://gw.example.com/otlp"}});
  EXPECT_EQ(c.endpoint.target, "/otlp/v1/traces");
  EXPECT_EQ(c.endpoint.port, 80);
}

TEST(OtelConfig, SignalEndpointIsUsedAsIs) {
  OtelConfig c = Parse({{"OTEL_EXPORTER_OTLP_ENDPOINT", "http://ignored:4318"},
                        {"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "http://tempo:4318"}});
  EXPECT_EQ(c.endpoint.url, "http://tempo:4318");
  EXPECT_EQ(c.endpoint.target, "/");
  c = Parse({{"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "https://[2001:db8::1]:4318/custom?x=1#f"}});
  EXPECT_EQ(c.endpoint.host, "2001:db8::1");
  EXPECT_EQ(c.endpoint.port, 4318);
  EXPECT_EQ(c.endpoint.target, "/custom?x=1");
  EXPECT_EQ(c.endpoint.HostHeader(), "[2001:db8::1]:4318");
  c = Parse({{"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "HTTP://h?q"}});
  EXPECT_EQ(c.endpoint.target, "/?q");
}

TEST(OtelConfig, ExporterOtlpUsesTheDefaultEndpoint) {
  OtelConfig c = Parse({{"OTEL_TRACES_EXPORTER", "otlp"}});
  ASSERT_TRUE(c.enabled);
  EXPECT_EQ(c.endpoint.url, "http://localhost:4318/v1/traces");
  EXPECT_EQ(c.endpoint.host, "localhost");
}

TEST(OtelConfig, DisabledStates) {
  Env env = {{"OTEL_EXPORTER_OTLP_ENDPOINT", "http://c:4318"}};
  for (const char* v : {"true", "TRUE", " True "}) {
    env["OTEL_SDK_DISABLED"] = v;
    OtelConfig c = Parse(env);
    EXPECT_FALSE(c.enabled) << v;
    EXPECT_EQ(c.disabled_because, "OTEL_SDK_DISABLED is true");
  }
  env["OTEL_SDK_DISABLED"] = "false";
  EXPECT_TRUE(Parse(env).enabled);
  env["OTEL_SDK_DISABLED"] = "yes";  // not a true value: a warning, still enabled
  OtelConfig c = Parse(env);
  EXPECT_TRUE(c.enabled);
  ASSERT_EQ(c.warnings.size(), 1u);
  EXPECT_NE(c.warnings[0].find("OTEL_SDK_DISABLED"), std::string::npos);
  env["OTEL_SDK_DISABLED"] = "";
  env["OTEL_TRACES_EXPORTER"] = "none";
  c = Parse(env);
  EXPECT_FALSE(c.enabled);
  EXPECT_EQ(c.disabled_because, "OTEL_TRACES_EXPORTER is none");
  // Disabled settings are not examined further: a malformed endpoint is no error then.
  EXPECT_FALSE(
      Parse({{"OTEL_TRACES_EXPORTER", "none"}, {"OTEL_EXPORTER_OTLP_ENDPOINT", "not a url"}})
          .enabled);
}

TEST(OtelConfig, ExporterList) {
  Env env = {{"OTEL_EXPORTER_OTLP_ENDPOINT", "http://c:4318"}};
  env["OTEL_TRACES_EXPORTER"] = "otlp, console";
  OtelConfig c = Parse(env);
  EXPECT_TRUE(c.enabled);
  ASSERT_EQ(c.warnings.size(), 1u);
  EXPECT_NE(c.warnings[0].find("console"), std::string::npos);
  env["OTEL_TRACES_EXPORTER"] = "zipkin";
  EXPECT_EQ(
      ErrorOf(env),
      "OTEL_TRACES_EXPORTER=\"zipkin\" names no exporter ffpod has (it exports otlp, or none)");
  env["OTEL_TRACES_EXPORTER"] = "none,otlp";  // otlp asked for explicitly wins
  EXPECT_TRUE(Parse(env).enabled);
}

TEST(OtelConfig, BadEndpoints) {
  auto err = [](const std::string& url) {
    return ErrorOf({{"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", url}});
  };
  EXPECT_EQ(err("collector:4318"),
            "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT is not a URL (expected "
            "http://host:port/path or https://...)");
  EXPECT_EQ(err("grpc://c:4317"),
            "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT must use http:// or https:// (not grpc://)");
  EXPECT_NE(err("http://user:pw@c:4318").find("must not hold credentials"), std::string::npos);
  EXPECT_NE(err("http://c:0").find("invalid port"), std::string::npos);
  EXPECT_NE(err("http://c:65536").find("invalid port"), std::string::npos);
  EXPECT_NE(err("http://c:x").find("invalid port"), std::string::npos);
  EXPECT_NE(err("http://:4318").find("has no host"), std::string::npos);
  EXPECT_NE(err("http://[::1/x").find("unterminated"), std::string::npos);
  EXPECT_NE(err("http://::1:4318").find("without [ ]"), std::string::npos);
  EXPECT_NE(err("http://c/a b").find("space"), std::string::npos);
  // The generic variable is named in its own errors.
  EXPECT_EQ(ErrorOf({{"OTEL_EXPORTER_OTLP_ENDPOINT", "ftp://c"}}),
            "OTEL_EXPORTER_OTLP_ENDPOINT must use http:// or https:// (not ftp://)");
}

TEST(OtelConfig, EndpointErrorsNameTheVariableButNeverQuoteCredentials) {
  for (const char* var : {"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_ENDPOINT"}) {
    for (std::string url : {"http://user:hunter2@c:4318", "https://user:hunter2@c:x/v1",
                            "http://user:hunter2",  // '@' and host forgotten: the port is it
                            "user:hunter2@c:4318", "hunter2@grpc://c", "grpc://user:hunter2@c:4317",
                            "http://c:4318/v1?token=hunter2 x", "http://[::1/x?sig=hunter2"}) {
      std::string message = ErrorOf({{var, url}});
      EXPECT_NE(message, "") << url;
      EXPECT_EQ(message.rfind(var, 0), 0u) << message;
      EXPECT_EQ(message.find("hunter2"), std::string::npos) << message;
    }
  }
}

TEST(OtelConfig, HeadersPercentDecodedAndMerged) {
  OtelConfig c =
      Parse({{"OTEL_EXPORTER_OTLP_ENDPOINT", "https://api.honeycomb.io"},
             {"OTEL_EXPORTER_OTLP_HEADERS",
              " x-honeycomb-team = abc%3D%3D , Authorization=Basic%20dTpw ,,x-scope-orgid=t1"},
             {"OTEL_EXPORTER_OTLP_TRACES_HEADERS", "authorization=Bearer%20tok,x-extra=%2C"}});
  EXPECT_EQ(c.headers, (Pairs{{"x-honeycomb-team", "abc=="},
                              {"x-scope-orgid", "t1"},
                              {"authorization", "Bearer tok"},
                              {"x-extra", ","}}));
}

TEST(OtelConfig, HeaderErrors) {
  Env env = {{"OTEL_EXPORTER_OTLP_ENDPOINT", "http://c:4318"}};
  env["OTEL_EXPORTER_OTLP_HEADERS"] = "novalue";
  EXPECT_EQ(ErrorOf(env),
            "OTEL_EXPORTER_OTLP_HEADERS: entry 1 is not a key=value pair (it has no '=')");
  env["OTEL_EXPORTER_OTLP_HEADERS"] = "=v";
  EXPECT_EQ(ErrorOf(env), "OTEL_EXPORTER_OTLP_HEADERS: entry 1 has an empty key");
  env["OTEL_EXPORTER_OTLP_HEADERS"] = "k=v,,a=%zz";
  EXPECT_EQ(ErrorOf(env),
            "OTEL_EXPORTER_OTLP_HEADERS: entry 3 (\"a\") has a malformed percent-encoding in its "
            "value");
  env["OTEL_EXPORTER_OTLP_HEADERS"] = "a=%4";
  EXPECT_NE(ErrorOf(env).find("malformed percent-encoding"), std::string::npos);
  env["OTEL_EXPORTER_OTLP_HEADERS"] = "a=x%0d%0aInjected: 1";
  EXPECT_EQ(ErrorOf(env),
            "OTEL_EXPORTER_OTLP_HEADERS: the value of entry 1 (\"a\") contains a control "
            "character");
  env["OTEL_EXPORTER_OTLP_HEADERS"] = "bad name=x";
  EXPECT_EQ(ErrorOf(env),
            "OTEL_EXPORTER_OTLP_HEADERS: entry 1 does not start with a valid HTTP header name");
  env.erase("OTEL_EXPORTER_OTLP_HEADERS");
  env["OTEL_EXPORTER_OTLP_TRACES_HEADERS"] = "x";
  EXPECT_NE(ErrorOf(env).find("OTEL_EXPORTER_OTLP_TRACES_HEADERS"), std::string::npos);
  // Framing headers are ffpod's: ignored with a warning.
  env["OTEL_EXPORTER_OTLP_TRACES_HEADERS"] = "Content-Type=text/plain,k=v";
  OtelConfig c = Parse(env);
  EXPECT_EQ(c.headers, (Pairs{{"k", "v"}}));
  ASSERT_EQ(c.warnings.size(), 1u);
  EXPECT_NE(c.warnings[0].find("Content-Type"), std::string::npos);
}

TEST(OtelConfig, HeaderErrorsNameTheEntryButNeverQuoteItsValue) {
  for (const char* var : {"OTEL_EXPORTER_OTLP_HEADERS", "OTEL_EXPORTER_OTLP_TRACES_HEADERS"}) {
    for (std::string headers :
         {"Authorization: Bearer hunter2", "x-team=ok,Authorization Bearer hunter2",
          "Authorization: Bearer=hunter2", "authorization=Bearer%2hunter2",
          "authorization=Bearer hunter2%0d%0ax: 1", "api-key=hunter2%", "=hunter2"}) {
      Env env = {{"OTEL_EXPORTER_OTLP_ENDPOINT", "http://c:4318"}, {var, headers}};
      std::string message = ErrorOf(env);
      EXPECT_EQ(message.rfind(std::string(var) + ": ", 0), 0u) << message;
      EXPECT_NE(message.find("entry "), std::string::npos) << message;
      EXPECT_EQ(message.find("hunter2"), std::string::npos) << message;
    }
  }
}

TEST(OtelConfig, ProtocolAndCompression) {
  Env env = {{"OTEL_EXPORTER_OTLP_ENDPOINT", "http://c:4318"}};
  env["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/json";
  EXPECT_TRUE(Parse(env).warnings.empty());
  env["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf";
  EXPECT_EQ(Parse(env).warnings.size(), 1u);
  env["OTEL_EXPORTER_OTLP_PROTOCOL"] = "grpc";
  EXPECT_EQ(ErrorOf(env),
            "OTEL_EXPORTER_OTLP_PROTOCOL=\"grpc\" is not supported (ffpod sends http/json)");
  // The TRACES_ variant wins over the generic one.
  env["OTEL_EXPORTER_OTLP_TRACES_PROTOCOL"] = "http/json";
  EXPECT_TRUE(Parse(env).enabled);
  env["OTEL_EXPORTER_OTLP_TRACES_PROTOCOL"] = "grpc";
  EXPECT_EQ(ErrorOf(env),
            "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL=\"grpc\" is not supported (ffpod sends http/json)");
  env.erase("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL");
  env.erase("OTEL_EXPORTER_OTLP_PROTOCOL");
  env["OTEL_EXPORTER_OTLP_COMPRESSION"] = "gzip";
  OtelConfig c = Parse(env);
  ASSERT_EQ(c.warnings.size(), 1u);
  EXPECT_NE(c.warnings[0].find("uncompressed"), std::string::npos);
}

TEST(OtelConfig, TimeoutsAndBatchSettings) {
  Env env = {{"OTEL_EXPORTER_OTLP_ENDPOINT", "http://c:4318"}};
  OtelConfig c = Parse(env);
  EXPECT_EQ(c.request_timeout.count(), 10000);
  EXPECT_EQ(c.schedule_delay.count(), 5000);
  EXPECT_EQ(c.export_timeout.count(), 30000);
  EXPECT_EQ(c.max_queue_size, 2048u);
  EXPECT_EQ(c.max_export_batch_size, 512u);

  env["OTEL_EXPORTER_OTLP_TIMEOUT"] = "2500";
  env["OTEL_EXPORTER_OTLP_TRACES_TIMEOUT"] = "1500";
  env["OTEL_BSP_SCHEDULE_DELAY"] = "200";
  env["OTEL_BSP_EXPORT_TIMEOUT"] = "4000";
  env["OTEL_BSP_MAX_QUEUE_SIZE"] = "100";
  env["OTEL_BSP_MAX_EXPORT_BATCH_SIZE"] = "10";
  c = Parse(env);
  EXPECT_EQ(c.request_timeout.count(), 1500);
  EXPECT_EQ(c.schedule_delay.count(), 200);
  EXPECT_EQ(c.export_timeout.count(), 4000);
  EXPECT_EQ(c.max_queue_size, 100u);
  EXPECT_EQ(c.max_export_batch_size, 10u);
  EXPECT_TRUE(c.warnings.empty());

  // Malformed tuning falls back to the default, with a warning each.
  env["OTEL_EXPORTER_OTLP_TRACES_TIMEOUT"] = "soon";
  env["OTEL_BSP_MAX_QUEUE_SIZE"] = "-1";
  env["OTEL_BSP_SCHEDULE_DELAY"] = "1.5";
  c = Parse(env);
  EXPECT_EQ(c.request_timeout.count(), 10000);
  EXPECT_EQ(c.max_queue_size, 2048u);
  EXPECT_EQ(c.schedule_delay.count(), 5000);
  EXPECT_EQ(c.warnings.size(), 3u);
  EXPECT_EQ(c.warnings[1],
            "OTEL_BSP_SCHEDULE_DELAY=\"1.5\" is not an integer from 0 to 86400000; using 5000");

  // A batch larger than the queue is cut to the queue size.
  env = {{"OTEL_EXPORTER_OTLP_ENDPOINT", "http://c:4318"},
         {"OTEL_BSP_MAX_QUEUE_SIZE", "8"},
         {"OTEL_BSP_MAX_EXPORT_BATCH_SIZE", "64"}};
  c = Parse(env);
  EXPECT_EQ(c.max_export_batch_size, 8u);
  EXPECT_EQ(c.warnings.size(), 1u);
}

TEST(OtelConfig, ResourceAttributesAndServiceName) {
  Env env = {{"OTEL_EXPORTER_OTLP_ENDPOINT", "http://c:4318"}};
  EXPECT_EQ(Parse(env).service_name, "ffpod");
  env["OTEL_RESOURCE_ATTRIBUTES"] =
      "service.name=transcoder, deployment.environment=prod%20eu ,team=media%2Cvideo,"
      "k8s.cluster.name=c1,team=media";
  OtelConfig c = Parse(env);
  EXPECT_EQ(c.service_name, "transcoder");
  EXPECT_EQ(c.resource_attributes, (Pairs{{"service.name", "transcoder"},
                                          {"deployment.environment", "prod eu"},
                                          {"team", "media"},
                                          {"k8s.cluster.name", "c1"}}));
  env["OTEL_SERVICE_NAME"] = "encoder";
  EXPECT_EQ(Parse(env).service_name, "encoder");
  // A malformed list is discarded whole, with a warning; export still works.
  env["OTEL_RESOURCE_ATTRIBUTES"] = "a=1,b";
  c = Parse(env);
  EXPECT_TRUE(c.enabled);
  EXPECT_TRUE(c.resource_attributes.empty());
  ASSERT_EQ(c.warnings.size(), 1u);
  EXPECT_EQ(c.warnings[0],
            "OTEL_RESOURCE_ATTRIBUTES is ignored: entry 2 is not a key=value pair (it has no '=')");
}

TEST(OtelConfig, Certificates) {
  Env env = {{"OTEL_EXPORTER_OTLP_ENDPOINT", "https://c:4318"},
             {"OTEL_EXPORTER_OTLP_CERTIFICATE", "/etc/ca.pem"},
             {"OTEL_EXPORTER_OTLP_TRACES_CLIENT_CERTIFICATE", "/etc/tls.crt"},
             {"OTEL_EXPORTER_OTLP_CLIENT_KEY", "/etc/tls.key"}};
  OtelConfig c = Parse(env);
  EXPECT_EQ(c.ca_file, "/etc/ca.pem");
  EXPECT_EQ(c.client_certificate_file, "/etc/tls.crt");
  EXPECT_EQ(c.client_key_file, "/etc/tls.key");
  env.erase("OTEL_EXPORTER_OTLP_CLIENT_KEY");
  EXPECT_EQ(ErrorOf(env),
            "OTEL_EXPORTER_OTLP_TRACES_CLIENT_CERTIFICATE is set without "
            "OTEL_EXPORTER_OTLP_CLIENT_KEY");
}

TEST(KeyValueList, KeysDecodedOnlyWhenAsked) {
  auto a = ParseKeyValueList("a%2Eb=c%2Ed", true);
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(*a, (Pairs{{"a.b", "c.d"}}));
  auto b = ParseKeyValueList("a%2Eb=c%2Ed", false);
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(*b, (Pairs{{"a%2Eb", "c.d"}}));
  auto c = ParseKeyValueList("k=v=w", false);  // the first '=' splits
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(*c, (Pairs{{"k", "v=w"}}));
}

}  // namespace
}  // namespace ffpod
