#include "parsers/documents/job.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

namespace ffpod {
namespace {

TEST(JobId, Charset) {
  EXPECT_TRUE(IsValidJobId("clip-42"));
  EXPECT_TRUE(IsValidJobId("a.b_c:d-E9"));
  EXPECT_TRUE(IsValidJobId(std::string(128, 'x')));
  EXPECT_FALSE(IsValidJobId(""));
  EXPECT_FALSE(IsValidJobId(std::string(129, 'x')));
  EXPECT_FALSE(IsValidJobId("a b"));
  EXPECT_FALSE(IsValidJobId("a/b"));
  EXPECT_FALSE(IsValidJobId("caf\xC3\xA9"));
}

TEST(Traceparent, W3cFormat) {
  EXPECT_TRUE(IsValidTraceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"));
  EXPECT_FALSE(IsValidTraceparent("00-00000000000000000000000000000000-00f067aa0ba902b7-01"));
  EXPECT_FALSE(IsValidTraceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01"));
  EXPECT_FALSE(IsValidTraceparent("00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01"));
  EXPECT_FALSE(IsValidTraceparent("ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"));
  EXPECT_FALSE(IsValidTraceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-x"));
  EXPECT_TRUE(IsValidTraceparent("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-x"));
}

TEST(ParseJob, FullDocumentKeepsEveryField) {
  auto job = ParseJob(R"({"id":"clip-42","args":["-i","in.mp4","-c:v","libx264","out.mp4"],
    "outputs":["out.mp4"],"max_attempts":5,"timeout_s":7200,"stall_timeout_s":30.5,
    "traceparent":"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
    "tracestate":"vendor=x","labels":{"tenant":"acme"},"extra":{"ignored":true}})");
  ASSERT_TRUE(job.ok()) << job.error().message;
  EXPECT_EQ(job->id, "clip-42");
  EXPECT_EQ(job->args.size(), 5u);
  EXPECT_EQ(job->outputs, std::vector<std::string>{"out.mp4"});
  EXPECT_EQ(job->max_attempts, 5);
  EXPECT_EQ(job->timeout_s, 7200.0);
  EXPECT_EQ(job->stall_timeout_s, 30.5);
  EXPECT_EQ(job->traceparent, "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
  EXPECT_EQ(job->tracestate, "vendor=x");
  EXPECT_EQ(job->labels.at("tenant"), "acme");
}

struct BadCase {
  std::string doc;
  std::string message_part;
};

TEST(ParseJob, EveryDefectIsNamed) {
  const BadCase cases[] = {
      {"not json", "not valid JSON"},
      {"[1,2]", "must be a JSON object"},
      {R"({"args":["-i","a"]})", "field \"id\" is missing"},
      {R"({"id":"","args":["x"]})", "field \"id\" must be"},
      {R"({"id":"a/b","args":["x"]})", "field \"id\" must be"},
      {R"({"id":42,"args":["x"]})", "field \"id\" must be"},
      {R"({"id":"j"})", "field \"args\" is missing"},
      {R"({"id":"j","args":[]})", "field \"args\" must be a non-empty array"},
      {R"({"id":"j","args":"-i a.mp4"})", "field \"args\" must be a non-empty array"},
      {R"({"id":"j","args":["-i",5]})", "field \"args[1]\" must be a string"},
      {R"({"id":"j","args":["x"],"outputs":"o.mp4"})", "field \"outputs\" must be an array"},
      {R"({"id":"j","args":["x"],"outputs":["s3://b/o.mp4"]})",
       "field \"outputs[0]\" must be a local"},
      {R"({"id":"j","args":["x"],"max_attempts":0})", "field \"max_attempts\" must be greater"},
      {R"({"id":"j","args":["x"],"max_attempts":1.5})",
       "field \"max_attempts\" must be a positive integer"},
      {R"({"id":"j","args":["x"],"timeout_s":"1h"})",
       "field \"timeout_s\" must be a positive number"},
      {R"({"id":"j","args":["x"],"stall_timeout_s":-1})",
       "field \"stall_timeout_s\" must be greater"},
      {R"({"id":"j","args":["x"],"traceparent":7})", "field \"traceparent\" must be a string"},
      {R"({"id":"j","args":["x"],"labels":{"a":1}})", "field \"labels.a\" must be a string"},
      {R"({"id":"j","args":["x"],"group":"ladder 4"})", "field \"group\" must be a string of"},
      {R"({"id":"j","args":["x"],"group":""})", "field \"group\" must be a string of"},
      {R"({"id":"j","args":["x"],"group":42})", "field \"group\" must be a string of"},
      {R"({"id":"j","args":["x"],"group":"g","group_size":0})",
       "field \"group_size\" must be greater"},
      {R"({"id":"j","args":["x"],"group_size":4})",
       "field \"group_size\" needs the field \"group\""},
  };
  for (const auto& c : cases) {
    auto job = ParseJob(c.doc);
    ASSERT_FALSE(job.ok()) << c.doc;
    EXPECT_NE(job.error().message.find(c.message_part), std::string::npos)
        << c.doc << " -> " << job.error().message;
  }
}

TEST(ParseJob, HugeDocumentIsRejectedBeforeParsing) {
  std::string doc = R"({"id":"big","args":[")" + std::string(10 << 20, 'a') + "\"]}";
  auto job = ParseJob(doc);
  ASSERT_FALSE(job.ok());
  EXPECT_NE(job.error().message.find("more than the 1048576-byte limit"), std::string::npos);
  EXPECT_EQ(SalvageJobId(doc), "big");
}

TEST(ParseJob, InvalidTraceparentIsIgnoredNotFatal) {
  auto job = ParseJob(R"({"id":"j","args":["x"],"traceparent":"garbage"})");
  ASSERT_TRUE(job.ok());
  EXPECT_TRUE(job->traceparent.empty());
  EXPECT_TRUE(job->traceparent_ignored);
}

TEST(CheckJobOutputs, EachDeclaredOutputMustBeAnOutputOfTheArguments) {
  JobSpec spec;
  spec.args = {"-i", "in.mp4", "-c", "copy", "a.mp4", "-map", "0", "b.mkv"};
  EXPECT_TRUE(CheckJobOutputs(spec).ok());  // none declared
  spec.outputs = {"b.mkv", "a.mp4"};
  EXPECT_TRUE(CheckJobOutputs(spec).ok());
  spec.outputs = {"a.mp4", "in.mp4"};
  Status status = CheckJobOutputs(spec);
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().message,
            "field \"outputs[1]\" (\"in.mp4\") is not an output of the ffmpeg arguments");
}

TEST(MakeJobDocument, RoundTrips) {
  JobSpec spec;
  spec.id = "rt-1";
  spec.args = {"-f", "lavfi", "-i", "testsrc2", "-t", "1", "o.mp4"};
  spec.outputs = {"o.mp4"};
  spec.max_attempts = 2;
  spec.labels["tenant"] = "acme";
  spec.group = "ladder-42";
  spec.group_size = 6;
  auto parsed = ParseJob(MakeJobDocument(spec));
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed->id, spec.id);
  EXPECT_EQ(parsed->args, spec.args);
  EXPECT_EQ(parsed->outputs, spec.outputs);
  EXPECT_EQ(parsed->max_attempts, 2);
  EXPECT_EQ(parsed->labels, spec.labels);
  EXPECT_EQ(parsed->group, "ladder-42");
  EXPECT_EQ(parsed->group_size, 6);
}

TEST(ResultDoc, JsonHasTheContractFields) {
  ResultDoc r;
  r.id = "clip-42";
  r.attempt = 2;
  r.status = ResultStatus::kRetrying;
  r.reason = Reason::kNetwork;
  r.message = "tcp://127.0.0.1:1: Connection refused";
  r.exit = ExitStatus::Signaled(9);
  r.started_at = "2026-11-22T10:00:00.000Z";
  r.finished_at = "2026-11-22T10:00:12.300Z";
  r.duration_s = 12.3;
  ProgressView p;
  p.frames = 900;
  p.out_time_s = 30.0;
  p.speed = 2.4;
  r.progress = p;
  r.outputs.push_back(
      {"out.mp4", 123456, std::string(64, 'a'), 30.04, {"video", "audio"}, std::nullopt});
  r.outputs.push_back({"unverified.mp4", 1, std::string(64, 'b'), std::nullopt, {}, std::nullopt});
  HlsSummary media;
  media.segments = 1800;
  media.bytes = 734003200;
  media.duration_s = 3600.0004;
  r.outputs.push_back({"hls/index.m3u8", 90000, std::string(64, 'c'), 3600.0, {"video"}, media});
  HlsSummary master;
  master.master = true;
  master.variants = 4;
  master.missing = 1;
  master.first_missing = "v3.m3u8";
  r.outputs.push_back({"hls/master.m3u8", 400, std::string(64, 'd'), std::nullopt, {}, master});
  r.verification = "passed";
  r.decode_errors = {{"macroblock", 3}};
  r.worker = {"w-1", "pod-1", ""};
  r.stderr_tail = {"bad \xFF byte"};
  auto v = boost::json::parse(SerializeResult(r)).as_object();
  EXPECT_EQ(v.at("id").as_string(), "clip-42");
  EXPECT_EQ(v.at("status").as_string(), "retrying");
  EXPECT_EQ(v.at("reason").as_string(), "network");
  EXPECT_EQ(v.at("retryable").as_bool(), true);
  EXPECT_TRUE(v.at("exit").at("code").is_null());
  EXPECT_EQ(v.at("exit").at("signal").as_int64(), 9);
  EXPECT_EQ(v.at("progress").at("frames").as_int64(), 900);
  EXPECT_TRUE(v.at("progress").at("fps").is_null());
  EXPECT_EQ(v.at("outputs").at(0).at("bytes").as_int64(), 123456);
  EXPECT_EQ(v.at("outputs").at(0).at("duration_s").as_double(), 30.04);
  EXPECT_EQ(v.at("outputs").at(0).at("streams"), boost::json::parse(R"(["video", "audio"])"));
  EXPECT_FALSE(v.at("outputs").at(1).as_object().contains("duration_s"));
  EXPECT_FALSE(v.at("outputs").at(1).as_object().contains("segments"));
  // A playlist is listed with its counts, never its segments one by one.
  const auto& segments = v.at("outputs").at(2).at("segments");
  EXPECT_EQ(segments.at("count").as_int64(), 1800);
  EXPECT_EQ(segments.at("bytes").as_int64(), 734003200);
  EXPECT_EQ(segments.at("duration_s").to_number<double>(), 3600.0);
  EXPECT_EQ(segments.as_object().size(), 3u);
  EXPECT_FALSE(v.at("outputs").at(2).as_object().contains("missing"));
  EXPECT_EQ(v.at("outputs").at(3).at("variants").as_int64(), 4);
  EXPECT_EQ(v.at("outputs").at(3).at("missing").as_int64(), 1);
  EXPECT_FALSE(v.at("outputs").at(3).as_object().contains("segments"));
  EXPECT_EQ(v.at("verification"), boost::json::parse(R"({"status": "passed", "message": ""})"));
  EXPECT_EQ(v.at("decode_errors"), boost::json::parse(R"({"macroblock": 3})"));
  EXPECT_TRUE(v.at("worker").at("node").is_null());
  EXPECT_EQ(v.at("stderr_tail").at(0).as_string(), "bad \xEF\xBF\xBD byte");
  EXPECT_TRUE(v.at("trace_id").is_null());
}

TEST(TerminationSummary, OneBoundedLine) {
  ResultDoc r;
  r.status = ResultStatus::kFailed;
  r.reason = Reason::kInputMissing;
  r.exit = ExitStatus::Exited(1);
  r.message = "in.mp4: No such file or directory\nsecond line";
  EXPECT_EQ(TerminationSummary(r),
            "failed: reason=input_missing exit=1 message=in.mp4: No such file or directory "
            "second line\n");
  r.message = std::string(5000, 'x') + "\xC3\xA9";
  std::string s = TerminationSummary(r, 4096);
  EXPECT_EQ(s.size(), 4096u);
  EXPECT_EQ(s.back(), '\n');
  r.message = std::string(4040, 'x') + "\xE2\x82\xAC\xE2\x82\xAC\xE2\x82\xAC";
  s = TerminationSummary(r, 4096);
  EXPECT_LE(s.size(), 4096u);
  EXPECT_EQ(s, s.substr(0, s.size()));  // valid: no cut sequence left behind
  EXPECT_NE(static_cast<unsigned char>(s[s.size() - 2]) & 0xC0, 0xC0);
}

}  // namespace
}  // namespace ffpod
