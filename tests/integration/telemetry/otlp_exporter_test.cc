// OTLP/HTTP export against real sockets and the official OpenTelemetry JS implementation:
//  - ffpod's JSON for a set of spans equals what @opentelemetry/sdk-trace-base +
//    @opentelemetry/otlp-transformer produce for the same spans (tests/otlp/reference.js), and
//    every body ffpod sends decodes through the OTLP protobuf schema (tests/otlp/verify.js);
//  - a local receiver (Boost.Beast, plain and TLS) sees a job's trace with its parent/child
//    links, ids, times, attributes, events and status;
//  - retries (429/502/503/504, Retry-After), dropped batches, partial success, a full queue, an
//    endpoint that is down or hangs: Export never blocks, Shutdown meets its deadline, and every
//    lost span is counted.
#include "supervisor/telemetry/otlp_exporter.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/json.hpp>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "parsers/common/json_text.h"
#include "supervisor/telemetry/ffpod_metrics.h"
#include "supervisor/telemetry/tracer.h"
#include "tests/harness/harness.h"
#include "tests/harness/otlp_receiver.h"
#include "tests/harness/redis_server.h"

namespace ffpod {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace json = boost::json;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;
using testing::RunCommand;
using testing::TempDir;
using testing::WaitFor;

// The receiver lives in tests/harness/otlp_receiver.h.
using testing::Answer;
using testing::Hang;
using testing::ReceivedRequest;
using testing::Receiver;
using testing::Reply;

// --- node and the official packages (tests/otlp) -------------------------------------------

std::string OtlpDir() { return std::string(FFPOD_SOURCE_DIR) + "/tests/otlp"; }

// Installs tests/otlp's packages from its lockfile once; why the node checks cannot run (empty
// when they can).
std::string EnsureNodePackages() { return testing::EnsureNpmPackages(OtlpDir()); }

#define REQUIRE_NODE()                                                          \
  do {                                                                          \
    std::string why_skip = EnsureNodePackages();                                \
    if (!why_skip.empty()) GTEST_SKIP() << why_skip << ": node checks skipped"; \
    ASSERT_FALSE(HasFailure());                                                 \
  } while (0)

// Runs tests/otlp/verify.js over request bodies; fails the test with its message if any body
// does not decode through the OTLP protobuf schema. Returns the spans it counted.
int VerifyWithProtobufjs(const std::vector<std::string>& bodies) {
  // Tests that call this may run before any REQUIRE_NODE test installed the packages.
  if (std::string why = EnsureNodePackages(); !why.empty()) {
    ADD_FAILURE() << why << ": the protobuf check cannot run";
    return -1;
  }
  TempDir dir;
  std::vector<std::string> argv = {"node", OtlpDir() + "/verify.js"};
  for (size_t i = 0; i < bodies.size(); ++i) {
    std::string path = dir / ("body" + std::to_string(i) + ".json");
    testing::WriteFile(path, bodies[i]);
    argv.push_back(path);
  }
  auto r = RunCommand(argv, std::chrono::seconds(60));
  EXPECT_EQ(r.status, 0) << r.err << r.out;
  if (r.status != 0) return -1;
  json::value v = json::parse(r.out);
  EXPECT_EQ(v.at("ok"), true);
  EXPECT_EQ(v.at("bodies").as_int64(), static_cast<int64_t>(bodies.size()));
  return static_cast<int>(v.at("spans").as_int64());
}

// --- building spans --------------------------------------------------------------------------

json::array DescribeAttributes(const std::vector<KeyValue>& attributes) {
  auto scalar = [](const AttributeScalar& s) -> json::array {
    if (auto* v = std::get_if<std::string>(&s)) return {"string", json::value(*v)};
    if (auto* v = std::get_if<bool>(&s)) return {"bool", *v};
    if (auto* v = std::get_if<int64_t>(&s)) return {"int", *v};
    return {"double", std::get<double>(s)};
  };
  json::array out;
  for (const auto& kv : attributes) {
    json::array item;
    item.emplace_back(kv.key);
    if (auto* a = std::get_if<AttributeArray>(&kv.value)) {
      json::array values;
      for (const auto& e : *a) values.emplace_back(scalar(e));
      item.emplace_back("array");
      item.emplace_back(std::move(values));
    } else {
      AttributeScalar s = std::visit(
          [](const auto& x) -> AttributeScalar {
            if constexpr (std::is_same_v<std::decay_t<decltype(x)>, AttributeArray>) {
              return AttributeScalar(std::string());
            } else {
              return AttributeScalar(x);
            }
          },
          kv.value);
      json::array t = scalar(s);
      item.emplace_back(t[0]);
      item.emplace_back(t[1]);
    }
    out.emplace_back(std::move(item));
  }
  return out;
}

// The description tests/otlp/reference.js rebuilds the same spans from.
std::string DescribeForReference(const std::vector<KeyValue>& resource,
                                 const InstrumentationScope& scope,
                                 const std::vector<SpanData>& spans) {
  json::object d;
  d["resource"] = DescribeAttributes(resource);
  d["scope"] = {{"name", scope.name}, {"version", scope.version}};
  json::array list;
  for (const auto& s : spans) {
    json::object o;
    o["traceId"] = ToHex(s.context.trace_id);
    o["spanId"] = ToHex(s.context.span_id);
    o["parentSpanId"] = s.parent_span_id ? json::value(ToHex(*s.parent_span_id)) : nullptr;
    o["parentRemote"] = s.parent_remote;
    o["traceFlags"] = s.context.trace_flags;
    o["traceState"] = s.context.trace_state;
    o["name"] = s.name;
    o["kind"] = static_cast<int>(s.kind);
    o["start"] = std::to_string(s.start_time_unix_nano);
    o["end"] = std::to_string(s.end_time_unix_nano);
    o["attributes"] = DescribeAttributes(s.attributes);
    json::array events;
    for (const auto& e : s.events) {
      events.push_back({{"name", e.name},
                        {"time", std::to_string(e.time_unix_nano)},
                        {"attributes", DescribeAttributes(e.attributes)}});
    }
    o["events"] = std::move(events);
    o["status"] = {{"code", static_cast<int>(s.status_code)}, {"message", s.status_message}};
    list.emplace_back(std::move(o));
  }
  d["spans"] = std::move(list);
  return JsonText(d);
}

// Key order and values as they are; numbers in one notation (both sides re-serialised).
std::string Normalized(const std::string& body) { return JsonText(json::parse(body)); }

std::vector<SpanData> ReferenceSpans() {
  auto remote = *ParseTraceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
                                  "rojo=00f067aa0ba902b7,congo=t61rcWkgMzE");
  SpanData job;
  job.context = ChildContext(remote, MakeSpanId(0x1a2b3c4d5e6f7081ULL));
  job.parent_span_id = remote.span_id;
  job.parent_remote = true;
  job.name = "ffpod.job";
  job.kind = SpanKind::kConsumer;
  job.start_time_unix_nano = 1767225600123456789ULL;
  job.end_time_unix_nano = 1767225672987654321ULL;
  job.attributes = {
      {"ffpod.job.id", "clip-42"},
      {"ffpod.job.attempt", 2},
      {"messaging.destination.name", "ffpod:pending"},
      {"ffpod.progress.speed", 2.37},
      {"ffpod.small", 1e-7},
      {"ffpod.negative", -42},
      {"ffpod.big", (int64_t{1} << 53) - 1},
      {"ffpod.ok", false},
      {"ffpod.text", "caf\xc3\xa9 \xe2\x9c\x93 tab\t quote\" backslash\\ nl\n ctl\x01"},
      {"process.command_args",
       AttributeArray{std::string("ffmpeg"), std::string("-i"), std::string("in.mp4")}},
      {"ffpod.ints", AttributeArray{int64_t{1}, int64_t{-2}, int64_t{3}}},
      {"ffpod.doubles", AttributeArray{0.5, 2.25}},
      {"ffpod.bools", AttributeArray{true, false}},
      {"ffpod.empty", ""},
  };
  job.events = {
      {"progress", 1767225610000000000ULL, {{"percent", 25}}, 0},
      {"ffmpeg.error", 1767225611000000001ULL, {{"line", "Error opening output out.mp4"}}, 0},
      {"stall", 1767225612000000000ULL, {}, 0},
  };
  job.status_code = SpanStatusCode::kError;
  job.status_message = "disk_full: No space left on device";

  SpanData ffmpeg;
  ffmpeg.context = ChildContext(job.context, MakeSpanId(0x2222222222222222ULL));
  ffmpeg.parent_span_id = job.context.span_id;
  ffmpeg.name = "ffmpeg";
  ffmpeg.start_time_unix_nano = 1767225600200000000ULL;
  ffmpeg.end_time_unix_nano = 1767225670000000000ULL;
  ffmpeg.attributes = {{"process.pid", 4242}, {"process.exit.code", 0}};
  ffmpeg.status_code = SpanStatusCode::kOk;

  SpanData root;
  root.context = NewRootContext(MakeTraceId(0x0af7651916cd43ddULL, 0x8448eb211c80319cULL),
                                MakeSpanId(0xb7ad6b7169203331ULL));
  root.name = "ffpod.publish";
  root.kind = SpanKind::kClient;
  root.start_time_unix_nano = 1767225672000000000ULL;
  root.end_time_unix_nano = 1767225672000000000ULL;

  SpanData producer = root;
  producer.context = ChildContext(root.context, MakeSpanId(0x3333333333333333ULL));
  producer.parent_span_id = root.context.span_id;
  producer.name = "enqueue";
  producer.kind = SpanKind::kProducer;
  SpanData server = producer;
  server.context.span_id = MakeSpanId(0x4444444444444444ULL);
  server.name = "server";
  server.kind = SpanKind::kServer;
  return {job, ffmpeg, root, producer, server};
}

std::vector<KeyValue> ReferenceResource() {
  return {{"service.name", "ffpod"},
          {"service.version", "0.1.0"},
          {"host.name", "worker-7"},
          {"process.pid", 4242},
          {"k8s.pod.name", "ffpod-worker-abc12"},
          {"k8s.namespace.name", "media"}};
}

// --- the official encoding ---------------------------------------------------------------------

TEST(OtlpReference, SameJsonAsTheOpenTelemetryJsExporter) {
  REQUIRE_NODE();
  const InstrumentationScope scope{"ffpod", "0.1.0"};
  for (const InstrumentationScope& sc : {scope, InstrumentationScope{"ffpod", ""}}) {
    std::vector<SpanData> spans = ReferenceSpans();
    std::string ours = EncodeOtlpJson(ReferenceResource(), sc, spans);
    TempDir dir;
    testing::WriteFile(dir / "desc.json", DescribeForReference(ReferenceResource(), sc, spans));
    auto r = RunCommand({"node", OtlpDir() + "/reference.js", dir / "desc.json"},
                        std::chrono::seconds(60));
    ASSERT_EQ(r.status, 0) << r.err;
    EXPECT_EQ(Normalized(ours), Normalized(r.out));
    EXPECT_EQ(VerifyWithProtobufjs({ours}), 5);
  }
  // One span at a time too (every kind of span alone is a valid request).
  for (const SpanData& s : ReferenceSpans()) {
    std::string ours = EncodeOtlpJson({}, scope, {s});
    TempDir dir;
    testing::WriteFile(dir / "desc.json", DescribeForReference({}, scope, {s}));
    auto r = RunCommand({"node", OtlpDir() + "/reference.js", dir / "desc.json"},
                        std::chrono::seconds(60));
    ASSERT_EQ(r.status, 0) << r.err;
    EXPECT_EQ(Normalized(ours), Normalized(r.out)) << s.name;
  }
}

TEST(OtlpReference, ValuesBeyondJsNumbersStillDecodeThroughTheSchema) {
  REQUIRE_NODE();
  SpanData s = ReferenceSpans()[1];
  s.attributes = {{"big", std::numeric_limits<int64_t>::max()},
                  {"small", std::numeric_limits<int64_t>::min()},
                  {"nan", std::nan("")},
                  {"inf", std::numeric_limits<double>::infinity()},
                  {"minus_inf", -std::numeric_limits<double>::infinity()},
                  {"bad_utf8", "\xff\xfe"}};
  s.dropped_attributes_count = 3;
  s.dropped_events_count = 1;
  s.events = {{"e", 5, {{"x", 1.5}}, 7}};
  EXPECT_EQ(VerifyWithProtobufjs({EncodeOtlpJson(ReferenceResource(), {"ffpod", "1"}, {s})}), 1);
}

TEST(OtlpReference, VerifierRejectsWrongEncodings) {
  REQUIRE_NODE();
  // The checker itself must catch what a wrong encoder would do.
  std::string good = EncodeOtlpJson(ReferenceResource(), {"ffpod", "0.1.0"}, ReferenceSpans());
  auto replace = [&](const std::string& from, const std::string& to) {
    std::string s = good;
    size_t at = s.find(from);
    EXPECT_NE(at, std::string::npos) << from;
    return s.replace(at, from.size(), to);
  };
  const std::vector<std::string> bad = {
      replace(R"("kind":5)", R"("kind":"SPAN_KIND_CONSUMER")"),
      replace(R"("traceId":"4bf92f3577b34da6a3ce929d0e0e4736")",
              R"("traceId":"S/kvNXezTaajzpKdDg5HNg==")"),
      replace(R"("startTimeUnixNano":"1767225600123456789")",
              R"("startTimeUnixNano":1.767225600123456789e18)"),
      replace(R"("droppedLinksCount")", R"("droppedLinkCount")"),
      replace(R"({"intValue":2})", R"({"intValue":"2.5"})"),
      replace(R"({"stringValue":"clip-42"})", R"({"stringValue":"clip-42","intValue":1})"),
  };
  TempDir dir;
  for (size_t i = 0; i < bad.size(); ++i) {
    std::string path = dir / ("bad" + std::to_string(i) + ".json");
    testing::WriteFile(path, bad[i]);
    auto r = RunCommand({"node", OtlpDir() + "/verify.js", path}, std::chrono::seconds(60));
    EXPECT_EQ(r.status, 1) << i << ": " << r.out;
  }
}

// --- a job's trace over HTTP ---------------------------------------------------------------

struct Drops {
  std::atomic<uint64_t> n{0};
  std::function<void(uint64_t)> Callback() {
    return [this](uint64_t k) { n += k; };
  }
};

OtlpExporterOptions Options(const std::string& url, Drops& drops) {
  auto ep = ParseOtlpEndpoint(url, "test");
  EXPECT_TRUE(ep.ok());
  OtlpExporterOptions o;
  o.endpoint = *ep;
  o.schedule_delay = milliseconds(20);
  o.initial_backoff = milliseconds(50);
  o.max_backoff = milliseconds(200);
  o.request_timeout = milliseconds(2000);
  o.export_timeout = milliseconds(5000);
  o.resource = ReferenceResource();
  o.scope = {"ffpod", "0.1.0"};
  o.on_dropped = drops.Callback();
  return o;
}

SpanData TestSpan(uint64_t n) {
  SpanData s = ReferenceSpans()[1];
  s.context.span_id = MakeSpanId(n + 1);
  s.name = "span-" + std::to_string(n);
  return s;
}

size_t SpansIn(const std::string& body) {
  json::value v = json::parse(body);
  size_t n = 0;
  for (const auto& rs : v.at("resourceSpans").as_array()) {
    for (const auto& ss : rs.at("scopeSpans").as_array()) n += ss.at("spans").as_array().size();
  }
  return n;
}

const json::value* FindAttribute(const json::value& holder, std::string_view key) {
  for (const auto& kv : holder.at("attributes").as_array()) {
    if (kv.at("key").as_string() == key) return &kv.at("value");
  }
  return nullptr;
}

uint64_t Nanos(const json::value& v) { return std::stoull(std::string(v.as_string())); }

TEST(OtlpExporter, JobTraceArrivesWithLinksIdsTimesAttributesAndStatus) {
  Receiver receiver;
  Logger logger(LogFormat::kJson, Severity::kError, 2);
  Drops drops;
  TracerOptions to;
  to.otel_env = {
      {"OTEL_EXPORTER_OTLP_ENDPOINT", receiver.url("")},
      {"OTEL_SERVICE_NAME", "transcoder"},
      {"OTEL_RESOURCE_ATTRIBUTES", "deployment.environment=prod%20eu,k8s.cluster.name=c1"},
      {"OTEL_EXPORTER_OTLP_HEADERS", "authorization=Bearer%20s3cret,x-scope-orgid=acme"},
      {"OTEL_BSP_SCHEDULE_DELAY", "50"}};
  to.pod_name = "ffpod-worker-abc12";
  to.pod_namespace = "media";
  to.node_name = "node-3";
  to.service_version = "0.1.0";
  to.host_name = "worker-7";
  to.logger = &logger;
  to.on_dropped = drops.Callback();
  auto tracer = Tracer::Create(to);
  ASSERT_TRUE(tracer.ok()) << tracer.error().message;
  Tracer& t = **tracer;
  ASSERT_TRUE(t.exporting());

  const auto t0 = std::chrono::system_clock::now();
  JobSpanInfo info;
  info.job_id = "clip-42";
  info.attempt = 2;
  info.traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
  info.tracestate = "congo=t61rcWkgMzE";
  info.queue = "ffpod";
  info.worker_id = "w-1";
  Span job = t.StartJobSpan(info);
  Span wait = t.StartSpan("ffpod.queue_wait", &job.context(), SpanKind::kInternal,
                          t0 - std::chrono::seconds(3));
  wait.End(t0);
  Span probe = t.StartSpan("ffprobe", &job.context());
  probe.End();
  Span ffmpeg = t.StartSpan("ffmpeg", &job.context());
  for (auto& kv : ProcessAttributes("/usr/bin/ffmpeg",
                                    {"-i", "https://u:pw@cdn.example.com/in.mp4?sig=abc",
                                     "-headers", "Authorization: Bearer x", "out.mp4"},
                                    4242)) {
    ffmpeg.SetAttribute(std::move(kv));
  }
  job.AddEvent("progress", AttributesFromJson({{"percent", 25}}, "ffpod.progress."));
  job.AddEvent("drain", {{"ffpod.drain.decision", "eta 12 s fits before the deadline"}});
  std::this_thread::sleep_for(milliseconds(20));
  ffmpeg.SetAttribute({"process.exit.code", 0});
  ffmpeg.End();
  Span publish = t.StartSpan("ffpod.publish", &job.context());
  publish.End();
  ResultDoc result;
  result.reason = Reason::kDiskFull;
  result.status = ResultStatus::kRetrying;
  result.message =
      "Error writing https://b.s3.amazonaws.com/o.mp4?X-Amz-Signature=f00 (No space left on "
      "device)";
  result.exit = ExitStatus::Exited(0);
  SetJobResult(job, result);
  job.End();
  EXPECT_TRUE(wait.ended());
  EXPECT_EQ(job.trace_id(), "4bf92f3577b34da6a3ce929d0e0e4736");  // readable after End
  EXPECT_EQ(job.LogFields().at("span_id"), json::value(job.span_id()));

  ASSERT_TRUE(t.Shutdown(Clock::now() + std::chrono::seconds(5)));
  EXPECT_EQ(drops.n, 0u);
  auto requests = receiver.requests();
  ASSERT_FALSE(requests.empty());
  std::vector<std::string> bodies;
  std::map<std::string, json::value> by_name;
  for (const auto& r : requests) {
    EXPECT_EQ(r.method, "POST");
    EXPECT_EQ(r.target, "/v1/traces");
    EXPECT_EQ(r.headers.at("content-type"), "application/json");
    EXPECT_EQ(r.headers.at("authorization"), "Bearer s3cret");
    EXPECT_EQ(r.headers.at("x-scope-orgid"), "acme");
    EXPECT_EQ(r.headers.at("user-agent"), "ffpod/0.1.0");
    EXPECT_EQ(r.headers.at("host"), "127.0.0.1:" + std::to_string(receiver.port()));
    bodies.push_back(r.body);
    json::value doc = json::parse(r.body);
    const json::value& rs = doc.at("resourceSpans").at(0);
    const json::value& res = rs.at("resource");
    EXPECT_EQ(FindAttribute(res, "service.name")->at("stringValue"), "transcoder");
    EXPECT_EQ(FindAttribute(res, "service.version")->at("stringValue"), "0.1.0");
    EXPECT_EQ(FindAttribute(res, "host.name")->at("stringValue"), "worker-7");
    EXPECT_EQ(FindAttribute(res, "process.pid")->at("intValue").as_int64(), ::getpid());
    EXPECT_EQ(FindAttribute(res, "k8s.pod.name")->at("stringValue"), "ffpod-worker-abc12");
    EXPECT_EQ(FindAttribute(res, "k8s.namespace.name")->at("stringValue"), "media");
    EXPECT_EQ(FindAttribute(res, "k8s.node.name")->at("stringValue"), "node-3");
    EXPECT_EQ(FindAttribute(res, "deployment.environment")->at("stringValue"), "prod eu");
    EXPECT_EQ(FindAttribute(res, "k8s.cluster.name")->at("stringValue"), "c1");
    EXPECT_EQ(rs.at("scopeSpans").at(0).at("scope").at("name"), "ffpod");
    for (const auto& s : rs.at("scopeSpans").at(0).at("spans").as_array()) {
      by_name[std::string(s.at("name").as_string())] = s;
    }
  }
  ASSERT_EQ(by_name.size(), 5u);
  EXPECT_EQ(VerifyWithProtobufjs(bodies), 5);

  const json::value& j = by_name["ffpod.job"];
  EXPECT_EQ(j.at("traceId"), "4bf92f3577b34da6a3ce929d0e0e4736");
  EXPECT_EQ(j.at("parentSpanId"), "00f067aa0ba902b7");
  EXPECT_EQ(j.at("spanId"), json::value(job.span_id()));
  EXPECT_EQ(j.at("traceState"), "congo=t61rcWkgMzE");
  EXPECT_EQ(j.at("kind").as_int64(), 5);       // CONSUMER
  EXPECT_EQ(j.at("flags").as_int64(), 0x301);  // sampled, parent is remote
  EXPECT_EQ(j.at("status").at("code").as_int64(), 2);
  EXPECT_EQ(j.at("status").at("message"),
            "disk_full: Error writing "
            "https://b.s3.amazonaws.com/o.mp4?X-Amz-Signature=REDACTED (No space left on device)");
  EXPECT_EQ(FindAttribute(j, "ffpod.job.id")->at("stringValue"), "clip-42");
  EXPECT_EQ(FindAttribute(j, "ffpod.job.attempt")->at("intValue").as_int64(), 2);
  EXPECT_EQ(FindAttribute(j, "ffpod.job.reason")->at("stringValue"), "disk_full");
  EXPECT_EQ(FindAttribute(j, "ffpod.job.status")->at("stringValue"), "retrying");
  EXPECT_EQ(FindAttribute(j, "ffpod.job.retryable")->at("boolValue"), true);
  EXPECT_EQ(FindAttribute(j, "messaging.destination.name")->at("stringValue"), "ffpod:pending");
  EXPECT_EQ(FindAttribute(j, "messaging.message.id")->at("stringValue"), "clip-42");
  EXPECT_EQ(FindAttribute(j, "messaging.client.id")->at("stringValue"), "w-1");
  ASSERT_EQ(j.at("events").as_array().size(), 2u);
  EXPECT_EQ(j.at("events").at(0).at("name"), "progress");
  EXPECT_EQ(FindAttribute(j.at("events").at(0), "ffpod.progress.percent")->at("intValue"), 25);
  EXPECT_EQ(j.at("events").at(1).at("name"), "drain");

  const uint64_t job_start = Nanos(j.at("startTimeUnixNano"));
  const uint64_t job_end = Nanos(j.at("endTimeUnixNano"));
  EXPECT_LE(job_start, job_end);
  for (const char* child : {"ffpod.queue_wait", "ffprobe", "ffmpeg", "ffpod.publish"}) {
    const json::value& c = by_name[child];
    EXPECT_EQ(c.at("traceId"), "4bf92f3577b34da6a3ce929d0e0e4736") << child;
    EXPECT_EQ(c.at("parentSpanId"), j.at("spanId")) << child;
    EXPECT_NE(c.at("spanId"), j.at("spanId")) << child;
    EXPECT_EQ(c.at("flags").as_int64(), 0x101) << child;  // local parent
    EXPECT_EQ(c.at("traceState"), "congo=t61rcWkgMzE") << child;
    EXPECT_LE(Nanos(c.at("startTimeUnixNano")), Nanos(c.at("endTimeUnixNano"))) << child;
    if (std::string(child) != "ffpod.queue_wait") {
      EXPECT_GE(Nanos(c.at("startTimeUnixNano")), job_start) << child;
      EXPECT_LE(Nanos(c.at("endTimeUnixNano")), job_end) << child;
    }
  }
  const json::value& w = by_name["ffpod.queue_wait"];
  auto t0_ns = static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(t0.time_since_epoch()).count());
  EXPECT_EQ(Nanos(w.at("endTimeUnixNano")), t0_ns);
  EXPECT_EQ(Nanos(w.at("startTimeUnixNano")), t0_ns - 3'000'000'000ULL);
  const json::value& f = by_name["ffmpeg"];
  EXPECT_GE(Nanos(f.at("endTimeUnixNano")) - Nanos(f.at("startTimeUnixNano")), 20'000'000u);
  EXPECT_EQ(FindAttribute(f, "process.pid")->at("intValue"), 4242);
  EXPECT_EQ(FindAttribute(f, "process.exit.code")->at("intValue"), 0);
  EXPECT_EQ(FindAttribute(f, "process.executable.name")->at("stringValue"), "ffmpeg");
  const json::array& argv =
      FindAttribute(f, "process.command_args")->at("arrayValue").at("values").as_array();
  std::string joined;
  for (const auto& a : argv) joined += std::string(a.at("stringValue").as_string()) + " ";
  EXPECT_EQ(joined.find("pw"), std::string::npos) << joined;
  EXPECT_EQ(joined.find("sig=abc"), std::string::npos) << joined;
  EXPECT_EQ(joined.find("Bearer x"), std::string::npos) << joined;
  EXPECT_NE(joined.find("out.mp4"), std::string::npos) << joined;
}

TEST(OtlpExporter, BatchesBySizeAndReusesTheConnection) {
  Receiver receiver;
  Drops drops;
  OtlpExporterOptions o = Options(receiver.url(), drops);
  o.max_export_batch_size = 3;
  o.schedule_delay = milliseconds(60000);  // only full batches and Shutdown send
  auto exporter = OtlpExporter::Create(o);
  ASSERT_TRUE(exporter.ok()) << exporter.error().message;
  for (uint64_t i = 0; i < 7; ++i) (*exporter)->Export(TestSpan(i));
  ASSERT_TRUE(receiver.WaitForRequests(2, milliseconds(5000)));
  std::this_thread::sleep_for(milliseconds(100));
  EXPECT_EQ(receiver.count(), 2u);  // the 7th span waits for a full batch or Shutdown
  ASSERT_TRUE((*exporter)->Shutdown(Clock::now() + std::chrono::seconds(5)));
  auto requests = receiver.requests();
  ASSERT_EQ(requests.size(), 3u);
  EXPECT_EQ(SpansIn(requests[0].body), 3u);
  EXPECT_EQ(SpansIn(requests[1].body), 3u);
  EXPECT_EQ(SpansIn(requests[2].body), 1u);
  EXPECT_EQ(receiver.connections(), 1);
  for (const auto& r : requests) EXPECT_EQ(r.connection, 1);
  auto st = (*exporter)->stats();
  EXPECT_EQ(st.spans_exported, 7u);
  EXPECT_EQ(st.spans_dropped, 0u);
  EXPECT_EQ(st.requests, 3u);
  EXPECT_EQ(drops.n, 0u);
  // After Shutdown every span is dropped and counted.
  (*exporter)->Export(TestSpan(8));
  EXPECT_EQ(drops.n, 1u);
}

TEST(OtlpExporter, ResolvesNamesAndReconnectsWhenTheReceiverClosesConnections) {
  // `Connection: close`, and a receiver that closes kept-alive connections while idle: each
  // batch goes out on a fresh connection and no request counts as failed.
  for (bool announced : {true, false}) {
    Receiver receiver([&](const ReceivedRequest&, size_t) {
      Reply r;
      r.close = announced;
      r.drop = !announced;
      return r;
    });
    Drops drops;
    OtlpExporterOptions o =
        Options("http://localhost:" + std::to_string(receiver.port()) + "/v1/traces", drops);
    auto exporter = OtlpExporter::Create(o);
    ASSERT_TRUE(exporter.ok());
    for (uint64_t i = 0; i < 3; ++i) {
      (*exporter)->Export(TestSpan(i));
      ASSERT_TRUE(receiver.WaitForRequests(i + 1, milliseconds(5000)));
      std::this_thread::sleep_for(milliseconds(50));  // the receiver has closed by now
    }
    ASSERT_TRUE((*exporter)->Shutdown(Clock::now() + std::chrono::seconds(5)));
    EXPECT_EQ(receiver.connections(), 3) << announced;
    EXPECT_EQ(receiver.count(), 3u) << announced;
    auto st = (*exporter)->stats();
    EXPECT_EQ(st.spans_exported, 3u) << announced;
    EXPECT_EQ(st.failed_requests, 0u) << announced;
    EXPECT_EQ(drops.n, 0u);
    EXPECT_EQ(receiver.requests()[0].headers.at("host"),
              "localhost:" + std::to_string(receiver.port()));
  }
}

TEST(OtlpExporter, RetriesOn503HonouringRetryAfter) {
  Receiver receiver([](const ReceivedRequest&, size_t i) {
    Reply r;
    if (i == 0) {
      r.status = 503;
      r.headers = {{"Retry-After", "1"}};
      r.body = "overloaded";
    }
    return r;
  });
  Drops drops;
  auto exporter = OtlpExporter::Create(Options(receiver.url(), drops));
  ASSERT_TRUE(exporter.ok());
  (*exporter)->Export(TestSpan(1));
  (*exporter)->Export(TestSpan(2));
  ASSERT_TRUE(receiver.WaitForRequests(2, milliseconds(5000)));
  ASSERT_TRUE((*exporter)->Shutdown(Clock::now() + std::chrono::seconds(5)));
  auto requests = receiver.requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[0].body, requests[1].body);
  auto gap = requests[1].at - requests[0].at;
  EXPECT_GE(gap, milliseconds(950));  // Retry-After: 1, not the 50 ms backoff
  EXPECT_LT(gap, milliseconds(2500));
  auto st = (*exporter)->stats();
  EXPECT_EQ(st.spans_exported, 2u);
  EXPECT_EQ(st.failed_requests, 1u);
  EXPECT_EQ(drops.n, 0u);
}

TEST(OtlpExporter, RetriesOn429And502And504WithBackoff) {
  const int statuses[] = {429, 502, 504};
  Receiver receiver([&](const ReceivedRequest&, size_t i) {
    Reply r;
    if (i < 3) r.status = statuses[i];
    return r;
  });
  Drops drops;
  OtlpExporterOptions o = Options(receiver.url(), drops);
  o.initial_backoff = milliseconds(100);
  o.max_backoff = milliseconds(150);
  auto exporter = OtlpExporter::Create(o);
  ASSERT_TRUE(exporter.ok());
  (*exporter)->Export(TestSpan(1));
  ASSERT_TRUE(receiver.WaitForRequests(4, milliseconds(5000)));
  ASSERT_TRUE((*exporter)->Shutdown(Clock::now() + std::chrono::seconds(5)));
  auto requests = receiver.requests();
  ASSERT_EQ(requests.size(), 4u);
  for (size_t i = 1; i < requests.size(); ++i) {
    // Jittered between half and all of the backoff (100 ms, then 150 ms capped).
    EXPECT_GE(requests[i].at - requests[i - 1].at, milliseconds(45)) << i;
  }
  EXPECT_EQ((*exporter)->stats().spans_exported, 1u);
  EXPECT_EQ((*exporter)->stats().failed_requests, 3u);
  EXPECT_EQ(drops.n, 0u);
}

TEST(OtlpExporter, GivesUpAfterMaxAttempts) {
  Receiver receiver([](const ReceivedRequest&, size_t) { return Answer(503); });
  Drops drops;
  OtlpExporterOptions o = Options(receiver.url(), drops);
  o.max_attempts = 3;
  o.initial_backoff = milliseconds(10);
  auto exporter = OtlpExporter::Create(o);
  ASSERT_TRUE(exporter.ok());
  (*exporter)->Export(TestSpan(1));
  (*exporter)->Export(TestSpan(2));
  ASSERT_TRUE(WaitFor([&] { return drops.n == 2; }, milliseconds(5000)));
  EXPECT_EQ(receiver.count(), 3u);
  EXPECT_TRUE((*exporter)->Shutdown(Clock::now() + std::chrono::seconds(2)));
  EXPECT_EQ((*exporter)->stats().spans_dropped, 2u);
}

TEST(OtlpExporter, OtherStatusesDropTheBatchAtOnce) {
  for (int status : {400, 401, 404, 413, 500}) {
    Receiver receiver([&](const ReceivedRequest&, size_t) {
      return Answer(status, R"({"code":3,"message":"bad"})");
    });
    Drops drops;
    auto exporter = OtlpExporter::Create(Options(receiver.url(), drops));
    ASSERT_TRUE(exporter.ok());
    for (uint64_t i = 0; i < 3; ++i) (*exporter)->Export(TestSpan(i));
    ASSERT_TRUE(WaitFor([&] { return drops.n == 3; }, milliseconds(5000))) << status;
    std::this_thread::sleep_for(milliseconds(150));
    EXPECT_EQ(receiver.count(), 1u) << status;
    (*exporter)->Shutdown(Clock::now() + std::chrono::seconds(2));
    EXPECT_EQ((*exporter)->stats().spans_exported, 0u);
  }
}

TEST(OtlpExporter, PartialSuccessCountsRejectedSpans) {
  Receiver receiver([](const ReceivedRequest&, size_t) {
    return Answer(200, R"({"partialSuccess":{"rejectedSpans":"2","errorMessage":"too big"}})");
  });
  Drops drops;
  auto exporter = OtlpExporter::Create(Options(receiver.url(), drops));
  ASSERT_TRUE(exporter.ok());
  for (uint64_t i = 0; i < 5; ++i) (*exporter)->Export(TestSpan(i));
  ASSERT_TRUE(receiver.WaitForRequests(1, milliseconds(5000)));
  ASSERT_TRUE(WaitFor([&] { return drops.n > 0; }, milliseconds(5000)));
  // Everything was answered before Shutdown: nothing is left to lose.
  ASSERT_TRUE((*exporter)->Shutdown(Clock::now() + std::chrono::seconds(5)));
  size_t sent = 0;
  for (const auto& r : receiver.requests()) sent += SpansIn(r.body);
  EXPECT_EQ(sent, 5u);
  auto st = (*exporter)->stats();
  EXPECT_EQ(st.spans_dropped, 2u * receiver.count());
  EXPECT_EQ(st.spans_exported + st.spans_dropped, 5u);
  EXPECT_EQ(drops.n, st.spans_dropped);
}

TEST(OtlpExporter, FullQueueDropsAndExportNeverBlocks) {
  Receiver receiver([](const ReceivedRequest&, size_t) { return Hang(); });
  Drops drops;
  OtlpExporterOptions o = Options(receiver.url(), drops);
  o.max_queue_size = 4;
  o.max_export_batch_size = 2;
  o.request_timeout = milliseconds(30000);
  o.export_timeout = milliseconds(30000);
  auto exporter = OtlpExporter::Create(o);
  ASSERT_TRUE(exporter.ok());
  (*exporter)->Export(TestSpan(0));
  (*exporter)->Export(TestSpan(1));
  ASSERT_TRUE(receiver.WaitForRequests(1, milliseconds(5000)));  // 2 spans stuck in flight
  Clock::duration slowest{};
  for (uint64_t i = 2; i < 1002; ++i) {
    auto before = Clock::now();
    (*exporter)->Export(TestSpan(i));
    slowest = std::max(slowest, Clock::now() - before);
  }
  // The request in flight waits 30 s; Export never waits for it (the bound only absorbs a
  // loaded machine's scheduling delays).
  EXPECT_LT(slowest, milliseconds(250));
  EXPECT_EQ(drops.n, 1000u - 4u);  // the queue holds 4
  auto before = Clock::now();
  EXPECT_FALSE((*exporter)->Shutdown(Clock::now() + milliseconds(300)));
  EXPECT_LT(Clock::now() - before, milliseconds(300 + 400));
  EXPECT_EQ(drops.n, 1000u + 2u);  // plus the 4 queued and the 2 in flight
  EXPECT_EQ((*exporter)->stats().spans_dropped, 1002u);
}

TEST(OtlpExporter, EndpointDownShutdownMeetsTheDeadlineAndCountsDrops) {
  int port = testing::FreePort();  // nothing listens there
  Drops drops;
  OtlpExporterOptions o = Options("http://127.0.0.1:" + std::to_string(port) + "/v1/traces", drops);
  o.initial_backoff = milliseconds(100);
  auto exporter = OtlpExporter::Create(o);
  ASSERT_TRUE(exporter.ok());
  auto before = Clock::now();
  for (uint64_t i = 0; i < 5; ++i) (*exporter)->Export(TestSpan(i));
  EXPECT_LT(Clock::now() - before, milliseconds(250));
  std::this_thread::sleep_for(milliseconds(200));  // a job runs meanwhile; exports keep failing
  before = Clock::now();
  EXPECT_FALSE((*exporter)->Shutdown(Clock::now() + milliseconds(500)));
  EXPECT_LT(Clock::now() - before, milliseconds(500 + 300));
  EXPECT_EQ(drops.n, 5u);
  auto st = (*exporter)->stats();
  EXPECT_EQ(st.spans_exported, 0u);
  EXPECT_EQ(st.spans_dropped, 5u);
  EXPECT_GE(st.failed_requests, 1u);
  EXPECT_EQ(st.requests, 0u);
}

TEST(OtlpExporter, HangingEndpointShutdownMeetsTheDeadline) {
  Receiver receiver([](const ReceivedRequest&, size_t) { return Hang(); });
  Drops drops;
  OtlpExporterOptions o = Options(receiver.url(), drops);
  o.request_timeout = milliseconds(60000);
  auto exporter = OtlpExporter::Create(o);
  ASSERT_TRUE(exporter.ok());
  for (uint64_t i = 0; i < 3; ++i) (*exporter)->Export(TestSpan(i));
  ASSERT_TRUE(receiver.WaitForRequests(1, milliseconds(5000)));
  auto before = Clock::now();
  EXPECT_FALSE((*exporter)->Shutdown(Clock::now() + milliseconds(400)));
  auto took = Clock::now() - before;
  EXPECT_GE(took, milliseconds(350));
  EXPECT_LT(took, milliseconds(400 + 300));
  EXPECT_EQ(drops.n, 3u);
}

TEST(OtlpExporter, SlowEndpointRequestTimeoutThenRetrySucceeds) {
  Receiver receiver([](const ReceivedRequest&, size_t i) {
    Reply r;
    r.hang = i == 0;  // the first request never gets an answer
    return r;
  });
  Drops drops;
  OtlpExporterOptions o = Options(receiver.url(), drops);
  o.request_timeout = milliseconds(300);
  auto exporter = OtlpExporter::Create(o);
  ASSERT_TRUE(exporter.ok());
  (*exporter)->Export(TestSpan(1));
  ASSERT_TRUE(receiver.WaitForRequests(2, milliseconds(5000)));
  auto requests = receiver.requests();
  EXPECT_GE(requests[1].at - requests[0].at, milliseconds(300));
  EXPECT_NE(requests[0].connection, requests[1].connection);  // a timed-out connection is closed
  ASSERT_TRUE((*exporter)->Shutdown(Clock::now() + std::chrono::seconds(5)));
  EXPECT_EQ((*exporter)->stats().spans_exported, 1u);
  EXPECT_EQ(drops.n, 0u);
}

TEST(OtlpExporter, HttpsWithTheCaAndAClientCertificate) {
  TempDir dir;
  testing::TestCertificates certs = testing::MakeTestCertificates(dir.path());
  Receiver receiver({}, certs.server_cert, certs.server_key, certs.ca_cert);
  Drops drops;
  OtlpExporterOptions o = Options(receiver.url(), drops);
  o.ca_file = certs.ca_cert;
  o.client_certificate_file = certs.client_cert;
  o.client_key_file = certs.client_key;
  auto exporter = OtlpExporter::Create(o);
  ASSERT_TRUE(exporter.ok()) << exporter.error().message;
  (*exporter)->Export(TestSpan(1));
  ASSERT_TRUE((*exporter)->Shutdown(Clock::now() + std::chrono::seconds(5)));
  ASSERT_EQ(receiver.count(), 1u);
  EXPECT_EQ(SpansIn(receiver.requests()[0].body), 1u);
  EXPECT_EQ(drops.n, 0u);

  // The name in the URL must match the certificate (it holds localhost and 127.0.0.1).
  OtlpExporterOptions by_name =
      Options("https://localhost:" + std::to_string(receiver.port()) + "/v1/traces", drops);
  by_name.ca_file = certs.ca_cert;
  by_name.client_certificate_file = certs.client_cert;
  by_name.client_key_file = certs.client_key;
  auto named = OtlpExporter::Create(by_name);
  ASSERT_TRUE(named.ok());
  (*named)->Export(TestSpan(2));
  ASSERT_TRUE((*named)->Shutdown(Clock::now() + std::chrono::seconds(5)));
  EXPECT_EQ(receiver.count(), 2u);
}

TEST(OtlpExporter, UntrustedServerCertificateDropsAndLogs) {
  TempDir dir;
  testing::TestCertificates certs = testing::MakeTestCertificates(dir.path());
  Receiver receiver({}, certs.server_cert, certs.server_key);
  Drops drops;
  TempDir logs;
  int fd = ::open((logs / "log").c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  ASSERT_GE(fd, 0);
  Logger logger(LogFormat::kJson, Severity::kInfo, fd);
  OtlpExporterOptions o = Options(receiver.url(), drops);  // the system's CAs only
  o.max_attempts = 1;
  o.logger = &logger;
  auto exporter = OtlpExporter::Create(o);
  ASSERT_TRUE(exporter.ok());
  (*exporter)->Export(TestSpan(1));
  ASSERT_TRUE(WaitFor([&] { return drops.n == 1; }, milliseconds(5000)));
  (*exporter)->Shutdown(Clock::now() + std::chrono::seconds(1));
  ::close(fd);
  EXPECT_EQ(receiver.count(), 0u);
  auto records = testing::JsonLines(testing::ReadFile(logs / "log"));
  auto failing = testing::FindRecord(records, "OTLP export failing");
  ASSERT_TRUE(failing.has_value());
  EXPECT_NE(std::string(failing->at("error").as_string()).find("certificate verify failed"),
            std::string::npos)
      << JsonText(*failing);

  // Unreadable TLS files are a startup error, one sentence.
  OtlpExporterOptions bad = Options(receiver.url(), drops);
  bad.ca_file = dir / "missing.pem";
  auto refused = OtlpExporter::Create(bad);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().message.find("missing.pem"), std::string::npos);
}

TEST(OtlpExporter, FailureAndRecoveryAreLoggedOnce) {
  std::atomic<bool> healthy{false};
  Receiver receiver(
      [&](const ReceivedRequest&, size_t) { return healthy ? Reply{} : Answer(400, "no"); });
  Drops drops;
  TempDir logs;
  int fd = ::open((logs / "log").c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  ASSERT_GE(fd, 0);
  Logger logger(LogFormat::kJson, Severity::kInfo, fd);
  OtlpExporterOptions o = Options(receiver.url(), drops);
  o.logger = &logger;
  auto exporter = OtlpExporter::Create(o);
  ASSERT_TRUE(exporter.ok());
  for (uint64_t i = 0; i < 3; ++i) {
    (*exporter)->Export(TestSpan(i));
    ASSERT_TRUE(WaitFor([&] { return drops.n == i + 1; }, milliseconds(5000)));
  }
  healthy = true;
  (*exporter)->Export(TestSpan(9));
  ASSERT_TRUE((*exporter)->Shutdown(Clock::now() + std::chrono::seconds(5)));
  ::close(fd);
  auto records = testing::JsonLines(testing::ReadFile(logs / "log"));
  int failing = 0, recovered = 0;
  for (const auto& r : records) {
    std::string msg(r.at("msg").as_string());
    if (msg.rfind("OTLP export failing", 0) == 0) {
      ++failing;
      EXPECT_NE(std::string(r.at("error").as_string()).find("HTTP 400: no"), std::string::npos);
    }
    if (msg.rfind("OTLP export recovered", 0) == 0) {
      ++recovered;
      EXPECT_EQ(r.at("dropped_spans").as_int64(), 3);
    }
  }
  EXPECT_EQ(failing, 1);
  EXPECT_EQ(recovered, 1);
}

// --- the tracer --------------------------------------------------------------------------

TEST(Tracer, NotSampledParentOrTracingOffStillGivesIds) {
  Receiver receiver;
  TracerOptions to;
  to.otel_env = {{"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", receiver.url()},
                 {"OTEL_BSP_SCHEDULE_DELAY", "10"}};
  auto tracer = Tracer::Create(to);
  ASSERT_TRUE(tracer.ok());
  JobSpanInfo info;
  info.job_id = "j";
  info.traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00";
  Span job = (*tracer)->StartJobSpan(info);
  EXPECT_FALSE(job.recording());
  EXPECT_EQ(job.trace_id(), "4bf92f3577b34da6a3ce929d0e0e4736");
  EXPECT_EQ(job.span_id().size(), 16u);
  EXPECT_EQ(job.traceparent(), "00-4bf92f3577b34da6a3ce929d0e0e4736-" + job.span_id() + "-00");
  Span child = (*tracer)->StartSpan("ffmpeg", &job.context());
  EXPECT_FALSE(child.recording());
  child.End();
  job.End();
  // An invalid traceparent starts a new, sampled trace that is exported.
  info.traceparent = "00-zz";
  Span fresh = (*tracer)->StartJobSpan(info);
  EXPECT_TRUE(fresh.recording());
  EXPECT_NE(fresh.trace_id(), "4bf92f3577b34da6a3ce929d0e0e4736");
  EXPECT_EQ(fresh.trace_id().size(), 32u);
  fresh.End();
  ASSERT_TRUE((*tracer)->Shutdown(Clock::now() + std::chrono::seconds(5)));
  ASSERT_EQ(receiver.count(), 1u);
  json::value doc = json::parse(receiver.requests()[0].body);
  const json::value& span = doc.at("resourceSpans").at(0).at("scopeSpans").at(0).at("spans").at(0);
  EXPECT_EQ(span.at("traceId"), json::value(fresh.trace_id()));
  EXPECT_FALSE(span.as_object().contains("parentSpanId"));
  EXPECT_EQ(span.at("kind").as_int64(), 1);  // INTERNAL: `ffpod run` has no queue

  for (const auto& env : std::vector<std::map<std::string, std::string>>{
           {{"OTEL_SDK_DISABLED", "true"}, {"OTEL_EXPORTER_OTLP_ENDPOINT", receiver.url("")}},
           {{"OTEL_TRACES_EXPORTER", "none"}, {"OTEL_EXPORTER_OTLP_ENDPOINT", receiver.url("")}},
           {}}) {
    TracerOptions off;
    off.otel_env = env;
    auto t = Tracer::Create(off);
    ASSERT_TRUE(t.ok());
    EXPECT_FALSE((*t)->exporting());
    JobSpanInfo plain;
    plain.job_id = "j";
    Span s = (*t)->StartJobSpan(plain);
    EXPECT_FALSE(s.recording());
    EXPECT_EQ(s.trace_id().size(), 32u);
    EXPECT_EQ(s.LogFields().at("trace_id"), json::value(s.trace_id()));
    s.End();
    EXPECT_TRUE((*t)->Shutdown(Clock::now()));
  }
  EXPECT_EQ(receiver.count(), 1u);

  // A configuration ffpod cannot export with is one sentence.
  TracerOptions bad;
  bad.otel_env = {{"OTEL_EXPORTER_OTLP_ENDPOINT", "collector:4318"}};
  auto refused = Tracer::Create(bad);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().message.find("OTEL_EXPORTER_OTLP_ENDPOINT"), std::string::npos);
}

TEST(Tracer, DropsReachTheMetric) {
  FfpodMetrics metrics;
  TracerOptions to;
  to.otel_env = {{"OTEL_EXPORTER_OTLP_ENDPOINT",
                  "http://127.0.0.1:" + std::to_string(testing::FreePort())},  // nothing listens
                 {"OTEL_BSP_MAX_QUEUE_SIZE", "2"}};
  to.on_dropped = [&](uint64_t n) { metrics.CountOtlpSpansDropped(n); };
  auto tracer = Tracer::Create(to);
  ASSERT_TRUE(tracer.ok());
  for (int i = 0; i < 5; ++i) (*tracer)->StartSpan("s", nullptr).End();
  EXPECT_FALSE((*tracer)->Shutdown(Clock::now() + milliseconds(300)));
  EXPECT_EQ((*tracer)->exporter()->stats().spans_dropped, 5u);
  EXPECT_NE(metrics.Render().find("\nffpod_otlp_spans_dropped_total 5\n"), std::string::npos)
      << metrics.Render();
}

TEST(Tracer, AttributeAndEventLimits) {
  Receiver receiver;
  TracerOptions to;
  to.otel_env = {{"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", receiver.url()}};
  auto tracer = Tracer::Create(to);
  ASSERT_TRUE(tracer.ok());
  Span s = (*tracer)->StartSpan("limits", nullptr);
  for (int i = 0; i < 130; ++i) s.SetAttribute({"a" + std::to_string(i), i});
  s.SetAttribute({"a0", "replaced"});  // replacing never drops
  for (int i = 0; i < 131; ++i) s.AddEvent("e");
  s.SetStatus(SpanStatusCode::kOk);
  s.SetStatus(SpanStatusCode::kError, "ignored after OK");
  s.End();
  ASSERT_TRUE((*tracer)->Shutdown(Clock::now() + std::chrono::seconds(5)));
  ASSERT_EQ(receiver.count(), 1u);
  json::value doc = json::parse(receiver.requests()[0].body);
  const json::value& span = doc.at("resourceSpans").at(0).at("scopeSpans").at(0).at("spans").at(0);
  EXPECT_EQ(span.at("attributes").as_array().size(), 128u);
  EXPECT_EQ(span.at("droppedAttributesCount").as_int64(), 2);
  EXPECT_EQ(FindAttribute(span, "a0")->at("stringValue"), "replaced");
  EXPECT_EQ(span.at("events").as_array().size(), 128u);
  EXPECT_EQ(span.at("droppedEventsCount").as_int64(), 3);
  EXPECT_EQ(span.at("status").at("code").as_int64(), 1);
}

}  // namespace
}  // namespace ffpod
