// The fault-injection run: a fleet of real workers on a real Redis runs a few hundred real
// encodes while workers are SIGKILLed, frozen with SIGSTOP past their heartbeat (their ffmpeg
// keeps encoding) and thawed, drained (some with a second SIGTERM), their ffmpeg children
// killed, and Redis restarted. Then every job must be in exactly one terminal state (or still
// queued), with no contradictory result, the winning attempt's output at each final path, no
// temporary left and no worker crashed; and the jobs' groups must count their members' final
// states and have ended exactly once.
//
// Seeded and bounded in time; it prints its seed and figures. To replay or to run it bigger:
//   FFPOD_CHAOS_SEED=N    FFPOD_CHAOS_FAULTS=N (default 200)    FFPOD_CHAOS_JOBS=N (default 240)
#include <signal.h>
#include <sys/stat.h>

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <map>
#include <random>
#include <set>
#include <sstream>
#include <thread>

#include "tests/harness/ffpod_worker.h"
#include "tests/harness/harness.h"
#include "tests/harness/redis_server.h"

namespace ffpod {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using testing::BackgroundProcess;
using testing::JobDocument;
using testing::JobField;
using testing::RedisServer;
using testing::TempDir;

int EnvInt(const char* name, int fallback) {
  const char* v = std::getenv(name);
  return v && *v ? std::atoi(v) : fallback;
}

// One worker's place in the fleet: restarted under the same id after a kill or a drain (a
// container restart in the same pod).
struct Seat {
  enum class State { kUp, kFrozen, kDraining, kDown };
  std::string id;
  std::unique_ptr<BackgroundProcess> process;
  State state = State::kDown;
  Clock::time_point due;          // frozen: thaw; down: restart; draining: the kubelet's kill
  Clock::time_point second_term;  // draining: a second SIGTERM at this time (when set)
  std::string log;                // this incarnation's log
  Clock::time_point started;      // this incarnation's start
  int incarnations = 0;
};

class Fleet {
 public:
  Fleet(RedisServer& redis, const TempDir& dir, int seats, uint64_t seed)
      : redis_(redis), dir_(dir), rng_(seed) {
    seats_.resize(static_cast<size_t>(seats));
    for (int i = 0; i < seats; ++i) seats_[static_cast<size_t>(i)].id = "w-" + std::to_string(i);
    for (auto& s : seats_) StartSeat(s);
  }

  std::mt19937_64& rng() { return rng_; }
  std::map<std::string, int>& faults() { return faults_; }
  const std::vector<std::string>& problems() const { return problems_; }
  // Every fault, in order: "12.345 s w-4.11.log: worker SIGKILL".
  const std::string& timeline() const { return timeline_; }

  int Uniform(int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng_); }

  // Thaws, restarts and checks the seats whose time has come.
  void Tick() {
    auto now = Clock::now();
    for (auto& s : seats_) {
      if (s.state == Seat::State::kFrozen && now >= s.due) {
        s.process->Signal(SIGCONT);
        s.state = Seat::State::kUp;
      } else if (s.state == Seat::State::kDown && now >= s.due) {
        StartSeat(s);
      } else if (s.state == Seat::State::kDraining) {
        TickDraining(s, now);
      } else if (s.state == Seat::State::kUp && !s.process->Running()) {
        Problem(s, "exited on its own with status " +
                       std::to_string(s.process->Wait(0ms).value_or(-1)));
        s.state = Seat::State::kDown;
        s.due = now;
      }
    }
  }

  // One fault of a random kind on a random worker that can take it; false when none could.
  bool Inject() {
    int kind = Uniform(0, 99);
    if (kind < 5) return RestartRedis();
    Seat* s = RandomSeat(Seat::State::kUp);
    if (!s) return false;
    auto now = Clock::now();
    if (kind < 35) return KillFfmpeg(*s);
    if (kind < 50) {
      s->process->Signal(SIGKILL);
      s->process->Wait(10s);
      CheckLog(*s);
      s->state = Seat::State::kDown;
      s->due = now + std::chrono::milliseconds(Uniform(0, 1500));
      Note(s, "worker SIGKILL");
    } else if (kind < 65) {
      // Past the heartbeat's TTL (3 s): its jobs are recovered and run elsewhere.
      s->process->Signal(SIGSTOP);
      s->state = Seat::State::kFrozen;
      s->due = now + std::chrono::milliseconds(Uniform(3500, 6500));
      Note(s, "SIGSTOP past the heartbeat");
    } else if (kind < 72) {
      s->process->Signal(SIGSTOP);
      s->state = Seat::State::kFrozen;
      s->due = now + std::chrono::milliseconds(Uniform(100, 1500));
      Note(s, "brief SIGSTOP");
    } else {
      bool twice = kind >= 88;
      s->process->Signal(SIGTERM);
      s->state = Seat::State::kDraining;
      s->due = now + 4s + 1s;  // --grace-period 4, and the kubelet is a little late
      s->second_term =
          twice ? now + std::chrono::milliseconds(Uniform(50, 1500)) : Clock::time_point{};
      Note(s, twice ? "drain with a second SIGTERM" : "drain");
    }
    return true;
  }

  // Every worker up again.
  void Heal() {
    auto deadline = Clock::now() + 30s;
    while (Clock::now() < deadline) {
      bool all_up = true;
      for (auto& s : seats_) {
        if (s.state == Seat::State::kFrozen || s.state == Seat::State::kDown) {
          s.due = Clock::now();
        }
        all_up = all_up && s.state == Seat::State::kUp;
      }
      if (all_up) return;
      Tick();
      std::this_thread::sleep_for(50ms);
    }
  }

  // Drains every worker for good; each must exit 0 within the grace period.
  void DrainAll() {
    for (auto& s : seats_) {
      if (s.state == Seat::State::kUp) s.process->Signal(SIGTERM);
    }
    for (auto& s : seats_) {
      if (!s.process) continue;
      auto status = s.process->Wait(10s);
      if (!status) {
        Problem(s, "did not exit within the grace period of its last drain");
        s.process->Signal(SIGKILL);
        s.process->Wait(10s);
      } else if (*status != 0) {
        Problem(s, "last drain exited with status " + std::to_string(*status));
      }
      CheckLog(s);
    }
  }

 private:
  void StartSeat(Seat& s) {
    s.log = dir_ / (s.id + "." + std::to_string(++s.incarnations) + ".log");
    testing::ProcessOptions o;
    o.argv = {
        FFPOD_BINARY,     "worker",      "--redis",        redis_.Url(), "--worker-id",    s.id,
        "--listen",       "127.0.0.1:0", "--slots",        "2",          "--heartbeat",    "1",
        "--retry-base",   "0.2",         "--retry-max",    "1",          "--grace-period", "4",
        "--drain-margin", "1.5",         "--stop-timeout", "1",          "--log-level",    "info"};
    o.stderr_path = s.log;
    s.process = std::make_unique<BackgroundProcess>(o);
    s.state = Seat::State::kUp;
    s.started = Clock::now();
  }

  void TickDraining(Seat& s, Clock::time_point now) {
    if (s.second_term != Clock::time_point{} && now >= s.second_term) {
      s.process->Signal(SIGTERM);
      s.second_term = {};
    }
    if (auto status = s.process->Wait(0ms)) {
      if (*status != 0) Problem(s, "drain exited with status " + std::to_string(*status));
    } else if (now >= s.due) {
      Problem(s, "still running when the grace period ended: killed like the kubelet would");
      s.process->Signal(SIGKILL);
      s.process->Wait(10s);
    } else {
      return;
    }
    CheckLog(s);
    s.state = Seat::State::kDown;
    s.due = now + std::chrono::milliseconds(Uniform(0, 1000));
  }

  void Note(const Seat* s, const std::string& kind) {
    ++faults_[kind];
    // The wall clock too, to set next to the workers' log times.
    auto wall = std::chrono::system_clock::now().time_since_epoch();
    double at = std::chrono::duration<double>(Clock::now() - born_).count();
    timeline_ += std::to_string(at) + " s (" +
                 std::to_string(std::chrono::duration<double>(wall).count()) +
                 "): " + (s ? s->log.substr(s->log.rfind('/') + 1) : std::string("redis")) + " " +
                 kind + "\n";
  }

  bool KillFfmpeg(Seat& s) {
    std::vector<pid_t> ffmpegs;
    for (pid_t c : testing::ChildrenOf(s.process->pid())) {
      if (testing::IsJobFfmpeg(c)) ffmpegs.push_back(c);
    }
    if (ffmpegs.empty()) return false;
    ::kill(ffmpegs[static_cast<size_t>(Uniform(0, static_cast<int>(ffmpegs.size()) - 1))], SIGKILL);
    Note(&s, "ffmpeg SIGKILL");
    return true;
  }

  bool RestartRedis() {
    redis_.Stop();
    std::this_thread::sleep_for(std::chrono::milliseconds(Uniform(200, 2000)));
    redis_.Start();
    Note(nullptr, "Redis restart");
    return true;
  }

  // A seat in `state`; an up one only once it is past its start-up (a signal before ffpod's
  // main() meets the default disposition: no program can handle it).
  Seat* RandomSeat(Seat::State state) {
    std::vector<Seat*> eligible;
    for (auto& s : seats_) {
      if (s.state == state && (state != Seat::State::kUp || Clock::now() - s.started > 200ms)) {
        eligible.push_back(&s);
      }
    }
    if (eligible.empty()) return nullptr;
    return eligible[static_cast<size_t>(Uniform(0, static_cast<int>(eligible.size()) - 1))];
  }

  // Every line a JSON record, and no fatal error.
  void CheckLog(const Seat& s) {
    std::string text = testing::ReadFile(s.log);
    for (const auto& r : testing::JsonLines(text)) {
      std::string msg = r.contains("msg") ? std::string(r.at("msg").as_string()) : "";
      if (msg.starts_with("fatal")) Problem(s, "logged " + msg);
    }
  }

  void Problem(const Seat& s, const std::string& what) {
    // The end of the log says why a worker went: that is what is kept.
    std::string log = testing::ReadFile(s.log);
    problems_.push_back(s.id + " (" + s.log + "): " + what + "\n" +
                        log.substr(log.size() > 4000 ? log.size() - 4000 : 0));
  }

  RedisServer& redis_;
  const TempDir& dir_;
  std::mt19937_64 rng_;
  std::vector<Seat> seats_;
  std::map<std::string, int> faults_;
  std::vector<std::string> problems_;
  Clock::time_point born_ = Clock::now();
  std::string timeline_;
};

// Where each job is, from Redis: its state, how often it is in each list, its results.
struct JobView {
  std::string state;
  int in_pending = 0, in_delayed = 0, in_active = 0, in_dead = 0;
  std::vector<testing::ResultEntry> results;  // in stream order
};

std::map<std::string, JobView> Survey(const RedisServer& redis,
                                      const std::vector<std::string>& ids) {
  std::map<std::string, JobView> jobs;
  for (const auto& id : ids) jobs[id].state = JobField(redis, id, "state");
  auto id_of = [](const std::string& doc) -> std::string {
    auto v = boost::json::parse(doc);
    return std::string(v.as_object().at("id").as_string());
  };
  for (const auto& e : redis.Command({"LRANGE", "ffpod:pending", "0", "-1"}).elements) {
    ++jobs[id_of(e.str)].in_pending;
  }
  for (const auto& e : redis.Command({"ZRANGE", "ffpod:delayed", "0", "-1"}).elements) {
    ++jobs[id_of(e.str)].in_delayed;
  }
  for (const auto& key : redis.Command({"KEYS", "ffpod:active:*"}).elements) {
    for (const auto& e : redis.Command({"LRANGE", key.str, "0", "-1"}).elements) {
      ++jobs[id_of(e.str)].in_active;
    }
  }
  for (const auto& e : redis.Command({"LRANGE", "ffpod:dead", "0", "-1"}).elements) {
    auto entry = boost::json::parse(e.str).as_object();
    ++jobs[id_of(std::string(entry.at("job").as_string()))].in_dead;
  }
  for (auto& r : testing::Results(redis)) {
    if (r.kind.empty()) jobs[r.id].results.push_back(std::move(r));  // not a group's entry
  }
  return jobs;
}

// The jobs are in kGroups job groups (job i in group "g<i % kGroups>"): each group's counts
// must agree with its members' final states, and the group must have ended exactly once.
constexpr int kGroups = 8;

std::string CheckGroup(const RedisServer& redis, int g, const std::vector<std::string>& ids,
                       std::map<std::string, JobView>& jobs) {
  std::string name = "g" + std::to_string(g);
  std::map<std::string, long long> want{{"pending", 0},   {"running", 0}, {"delayed", 0},
                                        {"succeeded", 0}, {"dead", 0},    {"total", 0}};
  for (size_t i = g; i < ids.size(); i += kGroups) {
    ++want[jobs[ids[i]].state];
    ++want["total"];
  }
  std::string wrong;
  for (const auto& [field, n] : want) {
    auto v = redis.Command({"HGET", "ffpod:group:" + name, field});
    long long got = v.IsNil() ? 0 : std::stoll(v.str);
    if (got != n) wrong += field + " " + std::to_string(got) + " (want " + std::to_string(n) + ") ";
  }
  int entries = 0;
  for (const auto& r : testing::Results(redis)) entries += r.kind == "group" && r.id == name;
  if (entries != 1) wrong += std::to_string(entries) + " group entries (want 1)";
  return wrong;
}

std::string Sha256(const std::string& path) {
  auto r = testing::RunCommand({"sha256sum", path});
  return r.out.substr(0, r.out.find(' '));
}

// The invariants of docs/queue.md for one job; empty when they hold.
std::string CheckJob(const std::string& id, const JobView& j, const TempDir& dir) {
  int places = j.in_pending + j.in_delayed + j.in_active;
  bool terminal = j.state == "succeeded" || j.state == "dead";
  if (terminal && places != 0) return "ended but still queued";
  if (!terminal && places != 1)
    return "state " + j.state + " but in " + std::to_string(places) + " queues";
  if (j.in_dead != (j.state == "dead" ? 1 : 0)) {
    return "state " + j.state + " with " + std::to_string(j.in_dead) + " dead entries";
  }
  // The results that counted: exactly one terminal one when the job ended, and it is the last.
  std::vector<const testing::ResultEntry*> counted;
  for (const auto& r : j.results) {
    if (r.status != "superseded") counted.push_back(&r);
  }
  int terminals = 0;
  for (const auto* r : counted) terminals += r->status == "succeeded" || r->status == "dead";
  if (terminals != (terminal ? 1 : 0)) return std::to_string(terminals) + " terminal results";
  if (terminal && counted.back()->status != j.state) {
    return "state " + j.state + " but last result " + counted.back()->status;
  }
  std::string out = dir / (id + ".mp4");
  if (j.state == "succeeded") {
    const auto& files = counted.back()->result.at("outputs").as_array();
    if (files.size() != 1) return "succeeded without its output";
    if (Sha256(out) != files[0].at("sha256").as_string()) {
      return "the output at the final path is not the winning attempt's";
    }
  }
  return "";
}

// What the logs say of the job a leftover temporary belongs to (ffmpeg's own lines left out),
// its recorded results, and the faults, for a failure to be read without a rerun.
std::string History(const TempDir& dir, const std::string& name,
                    const std::map<std::string, JobView>& jobs, const std::string& timeline) {
  if (name.size() < 2) return "";
  std::string id = name.substr(1, name.find('.', 1) - 1);
  std::string needle = "\"job_id\":\"" + id + "\"";
  std::string out;
  for (const auto& e : std::filesystem::directory_iterator(dir.path())) {
    if (e.path().extension() != ".log") continue;
    std::istringstream lines(testing::ReadFile(e.path()));
    for (std::string line; std::getline(lines, line);) {
      if (line.find("\"source\":\"ffmpeg\"") != std::string::npos) continue;
      if (line.find(needle) != std::string::npos || line.find("recover") != std::string::npos ||
          line.find("temporar") != std::string::npos) {
        out += e.path().filename().string() + ": " + line.substr(0, 300) + "\n";
      }
    }
  }
  for (const auto& e : std::filesystem::directory_iterator(dir.path())) {
    std::string n = e.path().filename().string();
    if (n.find(".ffpod-") == std::string::npos) continue;
    struct stat st {};
    ::stat(e.path().c_str(), &st);
    out += "left: " + n + " (" + std::to_string(st.st_size) + " bytes, last written at " +
           std::to_string(st.st_mtim.tv_sec) + "." + std::to_string(st.st_mtim.tv_nsec / 1000000) +
           " s since the epoch)\n";
  }
  if (auto j = jobs.find(id); j != jobs.end()) {
    out += id + " is " + j->second.state + "; its results:\n";
    for (const auto& r : j->second.results) out += "  " + boost::json::serialize(r.result) + "\n";
  }
  return out.substr(out.size() > 60000 ? out.size() - 60000 : 0) + "faults:\n" + timeline;
}

TEST(Chaos, SeededFaultsLeaveEveryJobInOneTerminalStateAndNothingBehind) {
  uint64_t seed = static_cast<uint64_t>(EnvInt("FFPOD_CHAOS_SEED", 0));
  if (seed == 0) seed = std::random_device{}() | 1;
  const int kFaults = EnvInt("FFPOD_CHAOS_FAULTS", 200);
  const int kJobs = EnvInt("FFPOD_CHAOS_JOBS", 240);
  std::cout << "chaos: FFPOD_CHAOS_SEED=" << seed << " FFPOD_CHAOS_FAULTS=" << kFaults
            << " FFPOD_CHAOS_JOBS=" << kJobs << std::endl;
  RecordProperty("seed", std::to_string(seed));

  RedisServer redis;
  TempDir dir;
  std::mt19937_64 job_rng(seed ^ 0x9e3779b97f4a7c15ull);
  std::vector<std::string> ids;
  for (int i = 0; i < kJobs; ++i) {
    std::string id = "c" + std::to_string(i);
    std::string out = dir / (id + ".mp4");
    double seconds = std::uniform_int_distribution<int>(5, 25)(job_rng) / 10.0;
    int members = kJobs / kGroups + (i % kGroups < kJobs % kGroups ? 1 : 0);
    testing::Produce(redis, JobDocument(id, testing::EncodeArgs(out, seconds, true), {out},
                                        {{"max_attempts", 4},
                                         {"group", "g" + std::to_string(i % kGroups)},
                                         {"group_size", members}}));
    ids.push_back(id);
  }

  auto t0 = Clock::now();
  Fleet fleet(redis, dir, 5, seed);
  int injected = 0;
  auto fault_deadline = t0 + std::chrono::seconds(20 + kFaults);  // about 1 s a fault at most
  auto next = t0 + 1s;
  while (injected < kFaults && Clock::now() < fault_deadline) {
    fleet.Tick();
    if (Clock::now() >= next) {
      if (fleet.Inject()) ++injected;
      next = Clock::now() + std::chrono::milliseconds(fleet.Uniform(100, 500));
    }
    std::this_thread::sleep_for(20ms);
  }
  auto faults_done = Clock::now();
  fleet.Heal();
  // Settle: every job ends (or the bound passes; then what is still queued is reported).
  testing::WaitFor(
      [&] {
        fleet.Tick();
        for (const auto& id : ids) {
          std::string state = JobField(redis, id, "state");
          if (state != "succeeded" && state != "dead") return false;
        }
        return true;
      },
      180s);
  fleet.DrainAll();
  auto t1 = Clock::now();

  auto jobs = Survey(redis, ids);
  int succeeded = 0, dead = 0, queued = 0, superseded = 0, attempts = 0;
  for (const auto& id : ids) {
    const JobView& j = jobs[id];
    std::string wrong = CheckJob(id, j, dir);
    EXPECT_EQ(wrong, "") << id;
    succeeded += j.state == "succeeded";
    dead += j.state == "dead";
    queued += j.state != "succeeded" && j.state != "dead";
    for (const auto& r : j.results) {
      superseded += r.status == "superseded";
      attempts += r.status != "superseded";
    }
  }
  EXPECT_EQ(jobs.size(), ids.size()) << "documents of jobs never produced";
  for (int g = 0; g < kGroups && g < kJobs; ++g) {
    EXPECT_EQ(CheckGroup(redis, g, ids, jobs), "") << "group g" << g;
  }
  std::vector<std::string> left;
  for (const auto& e : std::filesystem::directory_iterator(dir.path())) {
    std::string name = e.path().filename().string();
    if (name.find(".ffpod-") != std::string::npos) left.push_back(name);
  }
  EXPECT_TRUE(left.empty()) << left.size() << " temporaries left, e.g. " << left.front() << "\n"
                            << History(dir, left.empty() ? "" : left.front(), jobs,
                                       fleet.timeline());
  for (const auto& p : fleet.problems()) ADD_FAILURE() << p;
  EXPECT_GE(injected, kFaults);

  auto secs = [](auto d) { return std::chrono::duration<double>(d).count(); };
  std::cout << "chaos: seed " << seed << ": " << injected << " faults in " << secs(faults_done - t0)
            << " s (";
  for (const auto& [kind, n] : fleet.faults()) std::cout << kind << " " << n << ", ";
  std::cout << "), " << kJobs << " jobs: " << succeeded << " succeeded, " << dead << " dead, "
            << queued << " still queued; " << attempts << " recorded attempts, " << superseded
            << " superseded; " << secs(t1 - t0) << " s in all" << std::endl;
}

}  // namespace
}  // namespace ffpod
