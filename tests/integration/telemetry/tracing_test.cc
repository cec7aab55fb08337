// A job's trace end to end: the real ffpod binary (run and worker) exporting OTLP/HTTP JSON to a
// local receiver while supervising the real ffmpeg. Parent/child links, ids, timings,
// attributes, events and status for a success, a failure and a preemption; and an endpoint
// that is down or hangs never delays the job.
#include <signal.h>

#include <gtest/gtest.h>

#include <filesystem>

#include <boost/json.hpp>
#include <map>
#include <optional>
#include <thread>

#include "tests/harness/ffpod_worker.h"
#include "tests/harness/harness.h"
#include "tests/harness/otlp_receiver.h"
#include "tests/harness/redis_server.h"

namespace ffpod {
namespace {

using namespace std::chrono_literals;
using testing::CommandResult;
using testing::Receiver;
using testing::TempDir;
using testing::WaitFor;
namespace json = boost::json;

const char* kParentTrace = "4bf92f3577b34da6a3ce929d0e0e4736";
const char* kParentSpan = "00f067aa0ba902b7";

struct SpanView {
  std::string name, trace_id, span_id, parent_id;
  uint64_t start = 0, end = 0;
  int status = 0;
  std::string status_message;
  std::map<std::string, json::value> attributes;
  std::vector<std::string> events;
  std::vector<std::map<std::string, std::string>> event_attributes;  // string values, per event
};

std::vector<SpanView> Spans(const Receiver& receiver) {
  std::vector<SpanView> out;
  for (const auto& req : receiver.requests()) {
    EXPECT_EQ(req.headers.at("content-type"), "application/json");
    json::value body = json::parse(req.body);
    for (const auto& rs : body.at("resourceSpans").as_array()) {
      for (const auto& ss : rs.at("scopeSpans").as_array()) {
        for (const auto& s : ss.at("spans").as_array()) {
          SpanView v;
          v.name = std::string(s.at("name").as_string());
          v.trace_id = std::string(s.at("traceId").as_string());
          v.span_id = std::string(s.at("spanId").as_string());
          if (s.as_object().contains("parentSpanId")) {
            v.parent_id = std::string(s.at("parentSpanId").as_string());
          }
          v.start = std::stoull(std::string(s.at("startTimeUnixNano").as_string()));
          v.end = std::stoull(std::string(s.at("endTimeUnixNano").as_string()));
          if (s.as_object().contains("status")) {
            const auto& st = s.at("status").as_object();
            if (st.contains("code"))
              v.status = static_cast<int>(st.at("code").to_number<int64_t>());
            if (st.contains("message"))
              v.status_message = std::string(st.at("message").as_string());
          }
          for (const auto& a : s.at("attributes").as_array()) {
            const auto& val = a.at("value").as_object();
            v.attributes[std::string(a.at("key").as_string())] = val.begin()->value();
          }
          if (s.as_object().contains("events")) {
            for (const auto& e : s.at("events").as_array()) {
              v.events.emplace_back(e.at("name").as_string());
              auto& attributes = v.event_attributes.emplace_back();
              if (e.as_object().contains("attributes")) {
                for (const auto& a : e.at("attributes").as_array()) {
                  const auto& value = a.at("value").as_object();
                  if (value.contains("stringValue")) {
                    attributes[std::string(a.at("key").as_string())] =
                        std::string(value.at("stringValue").as_string());
                  }
                }
              }
            }
          }
          out.push_back(std::move(v));
        }
      }
    }
  }
  return out;
}

const SpanView* Find(const std::vector<SpanView>& spans, const std::string& name) {
  for (const auto& s : spans) {
    if (s.name == name) return &s;
  }
  return nullptr;
}

std::vector<std::string> OtelEnv(const Receiver& r) {
  return {"OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:" + std::to_string(r.port()),
          "OTEL_SERVICE_NAME=ffpod-test", "OTEL_RESOURCE_ATTRIBUTES=deployment.environment=ci",
          "OTEL_BSP_SCHEDULE_DELAY=100",
          std::string("TRACEPARENT=00-") + kParentTrace + "-" + kParentSpan + "-01"};
}

std::string MakeInput(const TempDir& dir) {
  std::string in = dir / "in.mp4";
  CommandResult r = testing::RunCommand({"ffmpeg", "-v", "error", "-f", "lavfi", "-i",
                                         "testsrc2=size=160x120:rate=25", "-t", "2", "-c:v",
                                         "libx264", "-preset", "ultrafast", "-y", in});
  EXPECT_EQ(r.status, 0) << r.err;
  return in;
}

TEST(Tracing, RunSuccessIsOneTraceUnderTheCallersParent) {
  Receiver receiver;
  TempDir dir;
  std::string in = MakeInput(dir);
  CommandResult r =
      testing::RunCommand({FFPOD_BINARY, "run", "--listen", "", "--id", "trace-ok", "--", "ffmpeg",
                           "-i", in, "-c:v", "libx264", "-preset", "ultrafast", dir / "out.mp4"},
                          60s, OtelEnv(receiver));
  ASSERT_EQ(r.status, 0) << r.err;
  ASSERT_TRUE(receiver.WaitForRequests(1, 10s));
  auto spans = Spans(receiver);
  const SpanView* job = Find(spans, "ffpod.job");
  const SpanView* ffmpeg = Find(spans, "ffmpeg");
  const SpanView* ffprobe = Find(spans, "ffprobe");
  const SpanView* publish = Find(spans, "ffpod.publish");
  std::string names;
  for (const auto& sp : spans) names += sp.name + " ";
  ASSERT_TRUE(job && ffmpeg && ffprobe && publish)
      << "spans: " << names << "in " << receiver.count() << " requests\n"
      << r.err;
  EXPECT_EQ(job->trace_id, kParentTrace);
  EXPECT_EQ(job->parent_id, kParentSpan);
  for (const SpanView* child : {ffmpeg, ffprobe, publish}) {
    EXPECT_EQ(child->trace_id, kParentTrace) << child->name;
    EXPECT_EQ(child->parent_id, job->span_id) << child->name;
    EXPECT_GE(child->start, job->start) << child->name;
    EXPECT_LE(child->end, job->end) << child->name;
    EXPECT_LE(child->start, child->end) << child->name;
  }
  EXPECT_NE(job->status, 2);  // not ERROR
  EXPECT_EQ(job->attributes.at("ffpod.job.id").as_string(), "trace-ok");
  EXPECT_EQ(job->attributes.at("ffpod.job.reason").as_string(), "ok");
  EXPECT_EQ(ffmpeg->attributes.at("process.exit.code").to_number<int64_t>(), 0);
  EXPECT_TRUE(ffmpeg->attributes.contains("process.pid"));
  // Milestones from the known duration: 25/50/75 %.
  int milestones = 0;
  for (const auto& e : job->events) milestones += e == "progress";
  EXPECT_EQ(milestones, 3);
  // The result and every log record of the job carry the trace.
  auto records = testing::JsonLines(r.err);
  auto fin = testing::FindRecord(records, "job finished");
  ASSERT_TRUE(fin.has_value());
  EXPECT_EQ(fin->at("result").at("trace_id").as_string(), kParentTrace);
  int with_trace = 0;
  for (const auto& rec : records) {
    if (rec.contains("job_id")) {
      EXPECT_EQ(rec.at("trace_id").as_string(), kParentTrace) << json::serialize(rec);
      EXPECT_EQ(rec.at("span_id").as_string(), job->span_id);
      ++with_trace;
    }
  }
  EXPECT_GT(with_trace, 5);
}

TEST(Tracing, AProbeStillRunningWhenFfmpegEndsIsStoppedAndTraced) {
  // An ffprobe slower than the whole encode (a slow network mount, a loaded node): ffpod stops
  // it when ffmpeg exits, records its span as cancelled (not failed), and leaves nothing behind.
  Receiver receiver;
  TempDir dir;
  std::string in = MakeInput(dir);
  std::string probe = dir / "slow-ffprobe";
  testing::WriteFile(probe, "#!/bin/sh\nexec sleep 37.25\n");
  std::filesystem::permissions(probe, std::filesystem::perms::owner_all);
  auto t0 = std::chrono::steady_clock::now();
  CommandResult r =
      testing::RunCommand({FFPOD_BINARY, "run", "--listen", "", "--ffprobe", probe, "--", "ffmpeg",
                           "-i", in, "-c:v", "libx264", "-preset", "ultrafast", dir / "out.mp4"},
                          60s, OtelEnv(receiver));
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 30s);  // not held up by the probe
  auto spans = Spans(receiver);
  const SpanView* job = Find(spans, "ffpod.job");
  const SpanView* ffprobe = Find(spans, "ffprobe");
  ASSERT_TRUE(job && ffprobe) << r.err;
  EXPECT_EQ(ffprobe->attributes.at("ffpod.probe.cancelled").as_bool(), true);
  EXPECT_NE(ffprobe->status, 2);
  EXPECT_EQ(ffprobe->parent_id, job->span_id);
  EXPECT_LE(ffprobe->end, job->end);
  EXPECT_NE(job->status, 2);
  CommandResult left = testing::RunCommand({"pgrep", "-f", "sleep 37.25"}, 10s);
  EXPECT_NE(left.status, 0) << "the probe is still running: " << left.out;
}

// `ffpod.verify` is a child of the job span, with the verification's outcome; an invalid output
// (the data of a 4 s input cut at 60 %: ffmpeg exits 0 with a short output) sets its error.
TEST(Tracing, OutputVerificationIsAChildSpanWithItsOutcome) {
  TempDir dir;
  std::string in = MakeInput(dir);
  for (bool cut : {false, true}) {
    Receiver receiver;
    std::string input = in;
    if (cut) {
      input = dir / "cut.mp4";
      CommandResult made = testing::RunCommand({"ffmpeg", "-v", "error", "-i", in, "-c", "copy",
                                                "-movflags", "+faststart", "-y", input});
      ASSERT_EQ(made.status, 0) << made.err;
      std::filesystem::resize_file(input, std::filesystem::file_size(input) * 6 / 10);
    }
    std::string out = dir / (cut ? "cut-out.mp4" : "out.mp4");
    CommandResult r =
        testing::RunCommand({FFPOD_BINARY, "run", "--listen", "", "--output", out, "--", "ffmpeg",
                             "-i", input, "-c:v", "libx264", "-preset", "ultrafast", out},
                            60s, OtelEnv(receiver));
    ASSERT_EQ(r.status, cut ? 1 : 0) << r.err;
    ASSERT_TRUE(receiver.WaitForRequests(1, 10s));
    auto spans = Spans(receiver);
    const SpanView* job = Find(spans, "ffpod.job");
    const SpanView* verify = Find(spans, "ffpod.verify");
    ASSERT_TRUE(job && verify) << r.err;
    EXPECT_EQ(verify->parent_id, job->span_id);
    EXPECT_EQ(verify->attributes.at("ffpod.verify.outputs").as_int64(), 1);
    EXPECT_EQ(verify->attributes.at("ffpod.verify.status").as_string(), cut ? "failed" : "passed");
    EXPECT_EQ(verify->status, cut ? 2 : 0);
    if (cut) {
      EXPECT_EQ(job->attributes.at("ffpod.job.reason").as_string(), "output_invalid");
      EXPECT_TRUE(verify->status_message.starts_with("output_invalid: output " + out + " is "))
          << verify->status_message;
    }
  }
}

TEST(Tracing, FailureSetsErrorWithTheReason) {
  Receiver receiver;
  TempDir dir;
  CommandResult r = testing::RunCommand({FFPOD_BINARY, "run", "--listen", "", "--", "ffmpeg", "-i",
                                         dir / "missing.mp4", dir / "o.mp4"},
                                        60s, OtelEnv(receiver));
  ASSERT_EQ(r.status, 1);
  ASSERT_TRUE(receiver.WaitForRequests(1, 10s));
  auto spans = Spans(receiver);
  const SpanView* job = Find(spans, "ffpod.job");
  ASSERT_TRUE(job);
  EXPECT_EQ(job->status, 2);
  EXPECT_NE(job->status_message.find("input_missing"), std::string::npos) << job->status_message;
  EXPECT_EQ(job->attributes.at("ffpod.job.reason").as_string(), "input_missing");
  const SpanView* ffmpeg = Find(spans, "ffmpeg");
  ASSERT_TRUE(ffmpeg);
  EXPECT_EQ(ffmpeg->status, 2);
  // The event carries ffmpeg's line as ffmpeg prints it, its level apart (ffpod asks for
  // `-loglevel +level`: the tag is not part of the line).
  std::optional<std::map<std::string, std::string>> error_event;
  for (size_t i = 0; i < job->events.size(); ++i) {
    if (job->events[i] == "ffmpeg.error" && !error_event) error_event = job->event_attributes[i];
  }
  ASSERT_TRUE(error_event);
  EXPECT_EQ(error_event->at("ffpod.level"), "error");
  EXPECT_NE(error_event->at("ffpod.line").find("No such file or directory"), std::string::npos)
      << error_event->at("ffpod.line");
  EXPECT_FALSE(error_event->at("ffpod.line").starts_with("[")) << error_event->at("ffpod.line");
}

TEST(Tracing, WorkerPreemptionIsTracedWithItsDrainDecision) {
  testing::RedisServer redis;
  Receiver receiver;
  TempDir dir;
  std::string out = dir / "long.mp4";
  std::string traceparent = std::string("00-") + kParentTrace + "-" + kParentSpan + "-01";
  testing::Produce(redis, testing::JobDocument("traced", testing::EncodeArgs(out, 60, true), {out},
                                               {{"traceparent", traceparent},
                                                {"enqueued_at", "2026-11-22T10:00:00.000Z"}}));
  auto env = OtelEnv(receiver);
  env.pop_back();  // no TRACEPARENT for the worker process itself
  testing::FfpodWorker w(redis.Url(), "w-trace", dir,
                         {"--heartbeat", "1", "--grace-period", "8", "--drain-margin", "2"}, env);
  ASSERT_TRUE(
      WaitFor([&] { return testing::JobField(redis, "traced", "state") == "running"; }, 30s));
  std::this_thread::sleep_for(1500ms);
  w.process().Signal(SIGTERM);
  ASSERT_TRUE(w.process().Wait(10s).has_value());
  ASSERT_TRUE(receiver.WaitForRequests(1, 10s));
  auto spans = Spans(receiver);
  const SpanView* job = Find(spans, "ffpod.job");
  const SpanView* wait = Find(spans, "ffpod.queue_wait");
  ASSERT_TRUE(job && wait);
  EXPECT_EQ(job->trace_id, kParentTrace);
  EXPECT_EQ(job->parent_id, kParentSpan);
  EXPECT_EQ(wait->parent_id, job->span_id);
  EXPECT_EQ(job->attributes.at("ffpod.job.reason").as_string(), "preempted");
  EXPECT_EQ(job->attributes.at("messaging.destination.name").as_string(), "ffpod:pending");
  bool drain = false;
  for (const auto& e : job->events) drain = drain || e == "drain";
  EXPECT_TRUE(drain);
}

TEST(Tracing, EndpointThatHangsNeverDelaysTheJob) {
  Receiver receiver([](const testing::ReceivedRequest&, size_t) { return testing::Hang(); });
  TempDir dir;
  auto start = std::chrono::steady_clock::now();
  CommandResult r = testing::RunCommand({FFPOD_BINARY, "run", "--listen", "", "--", "ffmpeg", "-f",
                                         "lavfi", "-i", "testsrc2=size=160x120", "-t", "1", "-c:v",
                                         "libx264", "-preset", "ultrafast", dir / "o.mp4"},
                                        60s, OtelEnv(receiver));
  auto took = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(r.status, 0);
  EXPECT_LT(took, 10s);  // the encode takes about a second; flushing is bounded by 5 s
  EXPECT_NE(r.err.find("not every span could be exported"), std::string::npos) << r.err;
}

// The "tracing: ..." warning records in ffpod's log.
std::vector<json::object> TracingWarnings(const std::string& log) {
  std::vector<json::object> out;
  for (auto& rec : testing::JsonLines(log)) {
    if (rec.at("level") == "warning" && rec.at("msg").as_string().starts_with("tracing: ")) {
      out.push_back(std::move(rec));
    }
  }
  return out;
}

TEST(Tracing, SettingsFfpodCannotExportWithAreOneWarningAndTheJobRuns) {
  TempDir dir;
  const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
      {{"OTEL_EXPORTER_OTLP_PROTOCOL=grpc", "OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:4317"},
       "OTEL_EXPORTER_OTLP_PROTOCOL=\"grpc\" is not supported"},
      {{"OTEL_EXPORTER_OTLP_ENDPOINT=collector:4318"}, "OTEL_EXPORTER_OTLP_ENDPOINT is not a URL"},
      {{"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT=http://user:hunter2@collector:4318/v1/traces"},
       "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT must not hold credentials"},
  };
  for (const auto& [env, sentence] : cases) {
    SCOPED_TRACE(env.front());
    std::filesystem::remove(dir / "o.mp4");
    CommandResult r =
        testing::RunCommand({FFPOD_BINARY, "run", "--listen", "", "--", "ffmpeg", "-f", "lavfi",
                             "-i", "testsrc2=size=160x120", "-t", "1", "-c:v", "libx264", "-preset",
                             "ultrafast", dir / "o.mp4"},
                            60s, env);
    EXPECT_EQ(r.status, 0) << r.err;
    EXPECT_TRUE(std::filesystem::exists(dir / "o.mp4"));
    auto warnings = TracingWarnings(r.err);
    ASSERT_EQ(warnings.size(), 1u) << r.err;
    std::string msg(warnings[0].at("msg").as_string());
    EXPECT_NE(msg.find(sentence), std::string::npos) << msg;
    EXPECT_NE(msg.find("spans are not exported"), std::string::npos) << msg;
    EXPECT_EQ(r.err.find("hunter2"), std::string::npos) << r.err;
  }

  // The worker starts and runs its jobs too.
  testing::RedisServer redis;
  std::string out = dir / "w.mp4";
  testing::Produce(redis, testing::JobDocument("no-export", testing::EncodeArgs(out, 1), {out}));
  testing::FfpodWorker w(redis.Url(), "w-grpc", dir, {}, cases.front().first);
  EXPECT_GT(w.Port(), 0);
  EXPECT_TRUE(
      WaitFor([&] { return testing::JobField(redis, "no-export", "state") == "succeeded"; }, 60s))
      << w.Log();
  EXPECT_EQ(TracingWarnings(w.Log()).size(), 1u) << w.Log();
}

TEST(Tracing, EndpointDownDropsAreCounted) {
  testing::RedisServer redis;
  TempDir dir;
  std::string out = dir / "o.mp4";
  testing::Produce(redis, testing::JobDocument("dropped", testing::EncodeArgs(out, 1), {out}));
  int closed = testing::FreePort();
  testing::FfpodWorker w(redis.Url(), "w-drop", dir, {"--heartbeat", "1"},
                         {"OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:" + std::to_string(closed),
                          "OTEL_BSP_SCHEDULE_DELAY=100", "OTEL_EXPORTER_OTLP_TIMEOUT=300"});
  int port = w.Port();
  ASSERT_TRUE(
      WaitFor([&] { return testing::JobField(redis, "dropped", "state") == "succeeded"; }, 60s));
  ASSERT_TRUE(WaitFor(
      [&] {
        auto m = testing::HttpGet(port, "/metrics").body;
        size_t at = m.find("\nffpod_otlp_spans_dropped_total ");
        return at != std::string::npos &&
               m.compare(at, 34, "\nffpod_otlp_spans_dropped_total 0\n") != 0;
      },
      60s))
      << testing::HttpGet(port, "/metrics").body;
}

}  // namespace
}  // namespace ffpod
