#include "tests/harness/ffpod_worker.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

namespace ffpod::testing {

FfpodWorker::FfpodWorker(const std::string& redis_url, const std::string& id, const TempDir& dir,
                         const std::vector<std::string>& flags,
                         const std::vector<std::string>& extra_env)
    : id_(id), log_path_(dir / (id + ".log")) {
  ProcessOptions opts;
  opts.argv = {FFPOD_BINARY,  "worker", "--redis",  redis_url,
               "--worker-id", id,       "--listen", "127.0.0.1:0"};
  opts.argv.insert(opts.argv.end(), flags.begin(), flags.end());
  opts.extra_env = extra_env;
  opts.stderr_path = log_path_;
  process_ = std::make_unique<BackgroundProcess>(opts);
}

std::vector<boost::json::object> FfpodWorker::Records() const { return JsonLines(Log()); }

int FfpodWorker::Port() {
  if (port_ == 0) {
    std::optional<int> port;
    EXPECT_TRUE(WaitFor([&] { return (port = LoggedPort(log_path_)).has_value(); },
                        std::chrono::seconds(20)))
        << Log();
    port_ = port.value_or(0);
  }
  return port_;
}

std::string JobDocument(const std::string& id, const std::vector<std::string>& args,
                        const std::vector<std::string>& outputs, const boost::json::object& extra) {
  boost::json::object doc = extra;
  doc["id"] = id;
  boost::json::array a;
  for (const auto& s : args) a.emplace_back(s);
  doc["args"] = std::move(a);
  if (!outputs.empty()) {
    boost::json::array o;
    for (const auto& s : outputs) o.emplace_back(s);
    doc["outputs"] = std::move(o);
  }
  return boost::json::serialize(doc);
}

void Produce(const RedisServer& redis, const std::string& document, const std::string& queue) {
  RedisReply r = redis.Command({"LPUSH", queue + ":pending", document});
  ASSERT_FALSE(r.IsError()) << r.ToString();
}

std::string JobField(const RedisServer& redis, const std::string& id, const std::string& field,
                     const std::string& queue) {
  RedisReply r = redis.Command({"HGET", queue + ":job:" + id, field});
  return r.IsNil() ? "" : r.str;
}

std::vector<ResultEntry> Results(const RedisServer& redis, const std::string& queue) {
  std::vector<ResultEntry> out;
  RedisReply r = redis.Command({"XRANGE", queue + ":results", "-", "+"});
  for (const auto& entry : r.elements) {
    if (entry.elements.size() != 2) continue;
    ResultEntry e;
    const auto& fields = entry.elements[1].elements;
    for (size_t i = 0; i + 1 < fields.size(); i += 2) {
      if (fields[i].str == "id") e.id = fields[i + 1].str;
      if (fields[i].str == "status") e.status = fields[i + 1].str;
      if (fields[i].str == "kind") e.kind = fields[i + 1].str;
      if (fields[i].str == "result") {
        e.result = boost::json::parse(fields[i + 1].str).as_object();
      }
    }
    out.push_back(std::move(e));
  }
  return out;
}

long long ListLength(const RedisServer& redis, const std::string& key) {
  return redis.Command({"LLEN", key}).integer;
}

void ExpectResultShape(const boost::json::object& result, const std::string& context) {
  static const char* const kKeys[] = {
      "id",         "attempt",     "status",     "reason",      "retryable", "message", "exit",
      "started_at", "finished_at", "duration_s", "progress",    "outputs",   "ffmpeg",  "args",
      "inputs",     "image",       "worker",     "stderr_tail", "trace_id"};
  for (const char* key : kKeys) {
    EXPECT_TRUE(result.contains(key))
        << context << ": no \"" << key << "\" in " << boost::json::serialize(result);
  }
  if (!result.contains("outputs") || !result.contains("stderr_tail")) return;
  EXPECT_TRUE(result.at("outputs").is_array()) << context << ": " << result.at("outputs");
  EXPECT_TRUE(result.at("stderr_tail").is_array()) << context << ": " << result.at("stderr_tail");
  for (const char* key : {"exit", "progress", "ffmpeg", "image", "worker"}) {
    if (!result.contains(key)) continue;
    const auto& v = result.at(key);
    EXPECT_TRUE(v.is_object() || v.is_null()) << context << ": " << key << " is " << v;
  }
  for (const char* key : {"args", "inputs"}) {
    if (!result.contains(key)) continue;
    const auto& v = result.at(key);
    EXPECT_TRUE(v.is_array() || v.is_null()) << context << ": " << key << " is " << v;
  }
  if (result.contains("ffmpeg") && result.at("ffmpeg").is_object()) {
    for (const char* key : {"path", "version", "buildconf_sha256", "libraries"}) {
      EXPECT_TRUE(result.at("ffmpeg").as_object().contains(key)) << context << ": ffmpeg." << key;
    }
  }
  if (result.contains("worker") && result.at("worker").is_object()) {
    EXPECT_TRUE(result.at("worker").as_object().contains("id")) << context;
  }
}

std::vector<std::string> EncodeArgs(const std::string& out, double seconds, bool realtime) {
  std::vector<std::string> args;
  if (realtime) args.push_back("-re");
  std::vector<std::string> rest = {"-f",      "lavfi",
                                   "-i",      "testsrc2=size=160x120:rate=25",
                                   "-t",      std::to_string(seconds),
                                   "-c:v",    "libx264",
                                   "-preset", "ultrafast",
                                   out};
  args.insert(args.end(), rest.begin(), rest.end());
  return args;
}

}  // namespace ffpod::testing
