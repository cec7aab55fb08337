// A real Prometheus server (Debian's 2.42) scraping a real `ffpod run` encode every 200 ms:
// what Prometheus stored must show the frames counter rising, the progress ratio staying within
// [0, 1] and reaching 1 when the encode ended (run mode keeps the final values while it
// lingers). A live scrape taken mid-encode goes through `promtool check metrics`.
#include <signal.h>

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <cstdio>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "tests/harness/harness.h"

namespace ffpod {
namespace {

namespace json = boost::json;
using namespace std::chrono_literals;
using testing::BackgroundProcess;
using testing::CommandResult;
using testing::ProcessOptions;
using testing::ReadFile;
using testing::TempDir;

std::string UrlEncode(std::string_view s) {
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      char buf[4];
      std::snprintf(buf, sizeof buf, "%%%02X", c);
      out += buf;
    }
  }
  return out;
}

// One sample of a Prometheus API answer: [timestamp, "value"].
struct Sample {
  double t = 0;
  double v = 0;
};

class PrometheusServer {
 public:
  explicit PrometheusServer(const TempDir& dir, const std::string& target) : dir_(dir) {
    port_ = testing::FreePort();
    testing::WriteFile(dir / "prometheus.yml",
                       "global:\n"
                       "  scrape_interval: 200ms\n"
                       "  scrape_timeout: 200ms\n"
                       "  evaluation_interval: 1s\n"
                       "scrape_configs:\n"
                       "  - job_name: ffpod\n"
                       "    static_configs:\n"
                       "      - targets: ['" +
                           target + "']\n");
    ProcessOptions opts;
    opts.argv = {"prometheus", "--config.file=" + (dir / "prometheus.yml"),
                 "--storage.tsdb.path=" + (dir / "tsdb"),
                 "--web.listen-address=127.0.0.1:" + std::to_string(port_), "--log.level=warn"};
    opts.stderr_path = dir / "prometheus.log";
    process_.emplace(opts);
  }

  int port() const { return port_; }
  std::string Log() const { return ReadFile(dir_ / "prometheus.log"); }
  // The last query and Prometheus's answer to it, for failure messages.
  const std::string& LastAnswer() const { return last_answer_; }

  bool WaitReady() {
    return testing::WaitFor([&] { return testing::HttpGet(port_, "/-/ready").status == 200; }, 60s);
  }

  // /api/v1/query: the `data.result` array, or nullopt when the query failed.
  std::optional<json::array> Query(const std::string& promql) {
    auto r = testing::HttpGet(port_, "/api/v1/query?query=" + UrlEncode(promql));
    last_answer_ = promql + " -> HTTP " + std::to_string(r.status) + ": " + r.body;
    if (r.status != 200) return std::nullopt;
    json::value v = json::parse(r.body);
    if (v.at("status") != "success") return std::nullopt;
    return v.at("data").at("result").as_array();
  }

  // The value of a query that returns one series, or nullopt.
  std::optional<double> Scalar(const std::string& promql) {
    auto result = Query(promql);
    if (!result || result->size() != 1) return std::nullopt;
    return std::stod(std::string(result->at(0).at("value").at(1).as_string()));
  }

  // The raw samples of a range selector (`metric[2m]`) for a query that matches one series.
  std::vector<Sample> Samples(const std::string& range_selector) {
    std::vector<Sample> out;
    auto result = Query(range_selector);
    if (!result || result->size() != 1) return out;
    for (const json::value& pair : result->at(0).at("values").as_array()) {
      out.push_back(
          {pair.at(0).to_number<double>(), std::stod(std::string(pair.at(1).as_string()))});
    }
    return out;
  }

 private:
  const TempDir& dir_;
  int port_ = 0;
  std::string last_answer_;
  std::optional<BackgroundProcess> process_;
};

std::optional<double> MetricValue(const std::string& body, const std::string& series) {
  std::istringstream lines(body);
  for (std::string line; std::getline(lines, line);) {
    if (line.starts_with(series + " ")) return std::stod(line.substr(series.size() + 1));
  }
  return std::nullopt;
}

CommandResult Promtool(const TempDir& dir, const std::string& name, const std::string& text) {
  testing::WriteFile(dir / name, text);
  return testing::RunCommand({"sh", "-c", "promtool check metrics < \"$0\"", dir / name}, 60s);
}

TEST(Prometheus, ScrapesARunningEncodeAndStoresItsProgress) {
  TempDir dir;
  const int ffpod_port = testing::FreePort();
  const std::string target = "127.0.0.1:" + std::to_string(ffpod_port);
  PrometheusServer prometheus(dir, target);
  ASSERT_TRUE(prometheus.WaitReady()) << prometheus.Log();

  // Six seconds of 25 fps video, read at native speed: 150 frames, ~30 scrapes.
  ProcessOptions opts;
  opts.argv = {FFPOD_BINARY,   "run",
               "--listen",     target,
               "--linger",     "120",
               "--",           "ffmpeg",
               "-hide_banner", "-re",
               "-f",           "lavfi",
               "-i",           "testsrc2=size=320x240:rate=25",
               "-t",           "6",
               "-c:v",         "libx264",
               "-preset",      "ultrafast",
               "-pix_fmt",     "yuv420p",
               dir / "out.mp4"};
  opts.stderr_path = dir / "ffpod.log";
  BackgroundProcess ffpod(opts);

  // Mid-encode: frames are flowing and the job is still in flight.
  std::string live;
  ASSERT_TRUE(testing::WaitFor(
      [&] {
        auto m = testing::HttpGet(ffpod_port, "/metrics");
        auto frames = MetricValue(m.body, "ffpod_frames_total");
        auto bitrate = MetricValue(m.body, "ffpod_output_bitrate_bytes_per_second{slot=\"0\"}");
        if (m.status != 200 || !frames || *frames <= 0 || !bitrate ||
            MetricValue(m.body, "ffpod_jobs_in_flight") != 1.0) {
          return false;
        }
        live = m.body;
        return true;
      },
      60s))
      << ReadFile(dir / "ffpod.log");
  EXPECT_LT(MetricValue(live, "ffpod_progress_ratio{slot=\"0\"}").value_or(1), 1.0);

  // promtool: the live scrape, mid-encode with every per-slot gauge present, is clean.
  CommandResult check = Promtool(dir, "live.txt", live);
  EXPECT_EQ(check.status, 0) << check.out << check.err;
  EXPECT_EQ(check.out + check.err, "");

  // The encode ends; ffpod lingers with the final values, and Prometheus stores them.
  ASSERT_TRUE(testing::WaitFor(
      [&] {
        auto m = testing::HttpGet(ffpod_port, "/metrics");
        return MetricValue(m.body, "ffpod_jobs_total{result=\"succeeded\",reason=\"ok\"}") == 1.0;
      },
      60s))
      << ReadFile(dir / "ffpod.log");
  const std::string final_scrape = testing::HttpGet(ffpod_port, "/metrics").body;
  const double final_frames = MetricValue(final_scrape, "ffpod_frames_total").value_or(-1);
  EXPECT_EQ(final_frames, 150);
  EXPECT_EQ(MetricValue(final_scrape, "ffpod_progress_ratio{slot=\"0\"}"), 1.0);
  ASSERT_TRUE(testing::WaitFor(
      [&] {
        // The last frames can be scraped before the job's result is counted: wait for all.
        return prometheus.Scalar("ffpod_frames_total") == final_frames &&
               prometheus.Scalar("ffpod_progress_ratio{slot=\"0\"}") == 1.0 &&
               prometheus.Scalar("ffpod_jobs_total{result=\"succeeded\",reason=\"ok\"}") == 1.0;
      },
      60s))
      << prometheus.LastAnswer() << "\n"
      << prometheus.Log();

  // Over a range: on a loaded machine one 200 ms scrape can time out, and Prometheus then
  // marks every series stale until the next one succeeds.
  EXPECT_EQ(prometheus.Scalar("max_over_time(up{job=\"ffpod\"}[1m])"), 1.0)
      << prometheus.LastAnswer();
  EXPECT_EQ(prometheus.Scalar("max_over_time(ffpod_progress_ratio{slot=\"0\"}[10m])"), 1.0)
      << prometheus.LastAnswer();
  auto min_ratio = prometheus.Scalar("min_over_time(ffpod_progress_ratio{slot=\"0\"}[10m])");
  ASSERT_TRUE(min_ratio.has_value()) << prometheus.LastAnswer();
  EXPECT_GE(*min_ratio, 0.0);
  EXPECT_LT(*min_ratio, 1.0);
  EXPECT_GT(prometheus.Scalar("increase(ffpod_frames_total[10m])").value_or(0), 0.0);

  // Every stored sample: the ratio within [0, 1] and never going back, the frames counter
  // rising to the final count, both sampled many times while the encode ran.
  std::vector<Sample> ratio = prometheus.Samples("ffpod_progress_ratio{slot=\"0\"}[10m]");
  ASSERT_GE(ratio.size(), 5u) << prometheus.Log();
  for (size_t i = 0; i < ratio.size(); ++i) {
    EXPECT_GE(ratio[i].v, 0.0);
    EXPECT_LE(ratio[i].v, 1.0);
    if (i > 0) {
      EXPECT_GE(ratio[i].v, ratio[i - 1].v) << "sample " << i;
    }
  }
  EXPECT_LT(ratio.front().v, 1.0);
  EXPECT_EQ(ratio.back().v, 1.0);
  int mid = 0;
  for (const Sample& s : ratio) mid += s.v > 0 && s.v < 1;
  EXPECT_GE(mid, 3);

  std::vector<Sample> frames = prometheus.Samples("ffpod_frames_total[10m]");
  ASSERT_GE(frames.size(), 5u);
  for (size_t i = 1; i < frames.size(); ++i) {
    EXPECT_GE(frames[i].v, frames[i - 1].v) << "sample " << i;
  }
  EXPECT_LT(frames.front().v, final_frames);
  EXPECT_EQ(frames.back().v, final_frames);

  ffpod.Signal(SIGTERM);  // leaves the linger at once
  auto code = ffpod.Wait(30s);
  ASSERT_TRUE(code.has_value());
  EXPECT_EQ(*code, 0);
}

}  // namespace
}  // namespace ffpod
