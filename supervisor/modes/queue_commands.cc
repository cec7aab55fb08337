#include "supervisor/modes/queue_commands.h"

#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/json.hpp>
#include <iostream>
#include <random>

#include "parsers/common/json_text.h"
#include "parsers/common/text.h"
#include "parsers/config/redis_url.h"
#include "parsers/documents/group_status.h"
#include "parsers/documents/job.h"
#include "parsers/telemetry/log_format.h"
#include "supervisor/queue/job_queue.h"
#include "supervisor/queue/redis_client.h"

namespace ffpod {

namespace asio = boost::asio;

namespace {

constexpr std::chrono::seconds kConnectDeadline{10};

}  // namespace

int WithQueue(const Config& config, Logger& logger,
              const std::function<void(JobQueue&, std::function<void(int)>)>& step,
              StepDeadline step_deadline) {
  auto url = ParseRedisUrl(config.redis_url);
  if (!url.ok()) {
    std::cerr << "ffpod: --redis: " << url.error().message << "\n";
    return 2;
  }
  asio::io_context io;
  RedisClientOptions options;
  options.reconnect_initial = std::chrono::milliseconds(100);
  options.reconnect_max = std::chrono::milliseconds(1000);
  RedisClient client(io, *url, options);
  JobQueue::Settings settings;
  settings.queue = config.queue;
  settings.worker_id = "cli";
  JobQueue queue(client, settings);
  int code = 1;
  bool started = false;
  asio::steady_timer deadline(io);
  auto finish = [&](int c) {
    code = c;
    deadline.cancel();
    client.Close();
    io.stop();
  };
  deadline.expires_after(kConnectDeadline);
  deadline.async_wait([&](const boost::system::error_code& ec) {
    if (ec) return;
    std::cerr << "ffpod: cannot reach Redis at " << url->Redacted() << ": "
              << (client.last_error().empty() ? "timed out" : client.last_error()) << "\n";
    finish(1);
  });
  client.Start([&](bool up, const std::string& reason) {
    if (!up) {
      logger.Debug("Redis not reachable yet", {{"error", reason}});
      return;
    }
    if (started) return;
    started = true;
    // A long step (a dead list of 100000) is bounded by the client's reply timeout instead.
    if (step_deadline == StepDeadline::kReplyTimeoutOnly) deadline.cancel();
    step(queue, finish);
  });
  io.run();
  return code;
}

namespace {

std::string GenerateJobId() {
  std::random_device rd;
  std::mt19937_64 rng(rd());
  std::string id = "job-" +
                   std::to_string(std::chrono::duration_cast<std::chrono::seconds>(
                                      std::chrono::system_clock::now().time_since_epoch())
                                      .count()) +
                   "-";
  uint64_t r = rng();
  for (int i = 0; i < 12; ++i) {
    id += LowerHexDigit(static_cast<unsigned>(r));
    r >>= 4;
  }
  return id;
}

}  // namespace

int RunEnqueueCommand(const Config& config, Logger& logger) {
  JobSpec spec;
  spec.id = config.job_id.empty() ? GenerateJobId() : config.job_id;
  spec.args = config.ffmpeg_argv;
  spec.outputs = config.outputs;
  spec.max_attempts = config.job_max_attempts;
  spec.timeout_s = config.job_timeout_s;
  spec.stall_timeout_s = config.job_stall_timeout_s;
  spec.traceparent = config.traceparent;
  spec.labels = config.labels;
  spec.routing.reroute = config.reroute;
  spec.group = config.group;
  spec.group_size = config.group_size;
  spec.enqueued_at =
      std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now());
  std::string document = MakeJobDocument(spec);
  auto parsed = ParseJob(document);
  if (!parsed.ok()) {
    std::cerr << "ffpod: " << parsed.error().message << "\n";
    return 2;
  }
  if (Status outputs = CheckJobOutputs(*parsed); !outputs.ok()) {
    std::cerr << "ffpod: " << outputs.error().message << "\n";
    return 2;
  }
  return WithQueue(config, logger, [&](JobQueue& queue, const std::function<void(int)>& finish) {
    queue.Enqueue(
        document, spec.id, spec.group, [&, finish](const Result<JobQueue::Enqueued>& enqueued) {
          if (!enqueued.ok()) {
            std::cerr << "ffpod: enqueue failed: " << enqueued.error().message << "\n";
            return finish(1);
          }
          if (!enqueued->group_outcome.empty()) {
            std::cerr << "ffpod: --group " << spec.group << " has already ended ("
                      << enqueued->group_outcome
                      << "); use a new group id, or put a dead member back with ffpod dead retry\n";
            return finish(2);
          }
          if (!enqueued->queued) {
            std::cerr << "ffpod: job " << spec.id << " already exists and is " << enqueued->state
                      << "\n";
            return finish(1);
          }
          std::cout << spec.id << "\n";
          finish(0);
        });
  });
}

namespace {

int RunGroupStatusCommand(const Config& config, Logger& logger) {
  return WithQueue(config, logger, [&](JobQueue& queue, const std::function<void(int)>& finish) {
    queue.GroupHash(config.group, [&, finish](const Result<JobQueue::GroupHashes>& hashes) {
      if (!hashes.ok()) {
        std::cerr << "ffpod: status failed: " << hashes.error().message << "\n";
        return finish(1);
      }
      if (hashes->group.empty()) {
        std::cerr << "ffpod: no group " << config.group << " in queue " << config.queue << "\n";
        return finish(1);
      }
      std::cout << JsonText(GroupStatusDocument(config.group, config.queue, hashes->group,
                                                hashes->members))
                << "\n";
      finish(0);
    });
  });
}

}  // namespace

int RunStatusCommand(const Config& config, Logger& logger) {
  if (!config.group.empty()) return RunGroupStatusCommand(config, logger);
  return WithQueue(config, logger, [&](JobQueue& queue, const std::function<void(int)>& finish) {
    queue.JobHash(config.status_job_id, [&, finish](const Result<JobQueue::Fields>& hash) {
      if (!hash.ok()) {
        std::cerr << "ffpod: status failed: " << hash.error().message << "\n";
        return finish(1);
      }
      const std::vector<std::pair<std::string, std::string>>& fields = *hash;
      if (fields.empty()) {
        std::cerr << "ffpod: no job " << config.status_job_id << " in queue " << config.queue
                  << "\n";
        return finish(1);
      }
      boost::json::object doc;
      doc["id"] = config.status_job_id;
      for (const auto& [k, v] : fields) {
        if (k == "done_token" || k == "start_token") continue;  // the worker's bookkeeping
        if (k == "progress" || k == "result" || k == "rerouted") {
          boost::system::error_code ec;
          auto parsed = boost::json::parse(v, ec);
          doc[k] = ec ? boost::json::value(v) : parsed;
        } else if (k == "attempt") {
          doc[k] = std::atoll(v.c_str());
        } else {
          doc[k] = v;
        }
      }
      for (const char* k : {"state", "attempt", "worker", "progress", "result", "updated_at"}) {
        if (!doc.contains(k)) doc[k] = nullptr;
      }
      std::cout << JsonText(doc) << "\n";
      finish(0);
    });
  });
}

int RunCancelCommand(const Config& config, Logger& logger) {
  return WithQueue(config, logger, [&](JobQueue& queue, const std::function<void(int)>& finish) {
    queue.Cancel(config.status_job_id, [&, finish](const Result<std::string>& asked) {
      if (!asked.ok()) {
        std::cerr << "ffpod: cancel failed: " << asked.error().message << "\n";
        return finish(1);
      }
      const std::string& state = *asked;
      if (state == "succeeded" || state == "dead" || state == "cancelled") {
        std::cerr << "ffpod: job " << config.status_job_id << " has already ended (" << state
                  << ")\n";
        return finish(1);
      }
      if (state == "rerouted") {
        std::cerr << "ffpod: job " << config.status_job_id << " moved to another queue; cancel "
                  << "it there (ffpod status --queue " << config.queue << " "
                  << config.status_job_id << " names it in rerouted_to)\n";
        return finish(1);
      }
      std::cout << "cancel requested for " << config.status_job_id
                << (state.empty() ? " (not claimed yet)" : " (" + state + ")") << "\n";
      finish(0);
    });
  });
}

int RunPauseCommand(const Config& config, Logger& logger, bool pause) {
  return WithQueue(config, logger, [&](JobQueue& queue, const std::function<void(int)>& finish) {
    char host[256] = {};
    ::gethostname(host, sizeof host - 1);
    boost::json::object info{{"by", host},
                             {"at", FormatTimestamp(std::chrono::system_clock::now())}};
    queue.SetPaused(pause, JsonText(info), [&, finish](const Status& set) {
      if (!set.ok()) {
        std::cerr << "ffpod: " << (pause ? "pause" : "resume") << " failed: " << set.error().message
                  << "\n";
        return finish(1);
      }
      std::cout << "queue " << config.queue << (pause ? " paused" : " resumed") << "\n";
      finish(0);
    });
  });
}

}  // namespace ffpod
