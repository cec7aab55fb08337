// Cost of serving /metrics: rendering ffpod's full metric set (four busy slots, every failure
// reason recorded), its two halves (Collect, RenderPrometheus), the per-slot update the event
// loop makes every 0.5 s per slot, and one whole scrape over loopback HTTP.
//
//   build/bench/metrics_bench --benchmark_min_time=1
#include <arpa/inet.h>
#include <benchmark/benchmark.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <thread>

#include "parsers/ffmpeg/reasons.h"
#include "parsers/telemetry/prometheus.h"
#include "supervisor/net/http_server.h"
#include "supervisor/telemetry/ffpod_metrics.h"

namespace ffpod {
namespace {

constexpr int kSlots = 4;

SlotProgress Progress(int slot, int64_t step) {
  return SlotProgress{.ratio = 0.001 * static_cast<double>(step % 1000),
                      .eta_seconds = 3600.0 - static_cast<double>(step % 3600),
                      .speed_ratio = 1.25 + 0.01 * slot,
                      .fps = 29.97 * (slot + 1),
                      .out_time_seconds = 0.5 * static_cast<double>(step),
                      .bitrate_bytes_per_second = 562500 + slot,
                      .frames = 15 * step,
                      .total_size_bytes = 280000 * step,
                      .dropped_frames = step / 100,
                      .duplicated_frames = step / 50};
}

// The metric set of a busy worker: every family has series.
void Populate(FfpodMetrics* m) {
  m->SetBuildInfo("5.1.6-0+deb12u1");
  m->SetJobsInFlight(kSlots);
  m->SetReady(true);
  int n = 0;
  for (const ReasonInfo& r : AllReasons()) {
    ++n;
    double duration = 1.5 * n * n;
    if (r.reason == Reason::kOk) {
      m->RecordJobFinished("succeeded", r.name, duration);
      continue;
    }
    if (r.reason == Reason::kPreempted) {
      m->RecordJobFinished("preempted", r.name, duration);
      continue;
    }
    m->RecordJobFinished(r.retryable ? "retrying" : "failed", r.name, duration);
    m->RecordJobFinished("dead", r.name, duration * 2);
  }
  for (int slot = 0; slot < kSlots; ++slot) {
    m->SetSlotProgress(slot, "job-" + std::to_string(slot), Progress(slot, 600));
  }
  for (const char* level : {"panic", "fatal", "error", "warning", "info", "unknown"}) {
    m->CountStderrLine(level, 7);
  }
  for (const char* encoder : {"libx264", "libx265", "libsvtav1", "h264_nvenc", "hevc_nvenc",
                              "h264_qsv", "hevc_qsv", "h264_vaapi"}) {
    m->SetEncoderUsable(encoder, encoder[0] == 'l');
  }
  m->CountProgressParseErrors(3);
  m->CountStall();
  m->SetQueuePending("ffpod", 42, 1.5);
  m->SetRedisUp(true);
  m->CountRedisError(2);
  m->CountOtlpSpansDropped(1);
}

void BM_RenderFullSet(benchmark::State& state) {
  FfpodMetrics m;
  Populate(&m);
  size_t bytes = 0;
  for (auto _ : state) {
    std::string text = m.Render();
    bytes = text.size();
    benchmark::DoNotOptimize(text);
  }
  state.counters["body_bytes"] = static_cast<double>(bytes);
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * bytes));
}
BENCHMARK(BM_RenderFullSet);

void BM_Collect(benchmark::State& state) {
  FfpodMetrics m;
  Populate(&m);
  for (auto _ : state) benchmark::DoNotOptimize(m.Collect());
}
BENCHMARK(BM_Collect);

void BM_RenderSnapshot(benchmark::State& state) {
  FfpodMetrics m;
  Populate(&m);
  MetricsSnapshot snapshot = m.Collect();
  size_t series = 0;
  for (const MetricFamily& f : snapshot.families) {
    series += f.samples.size() + f.histograms.size() * (f.bucket_bounds.size() + 3);
  }
  for (auto _ : state) benchmark::DoNotOptimize(RenderPrometheus(snapshot));
  state.counters["lines"] = static_cast<double>(series);
}
BENCHMARK(BM_RenderSnapshot);

// The event loop's update per progress report (every 0.5 s per slot).
void BM_SetSlotProgress(benchmark::State& state) {
  FfpodMetrics m;
  Populate(&m);
  int64_t step = 600;
  for (auto _ : state) {
    ++step;
    m.SetSlotProgress(static_cast<int>(step % kSlots), "job", Progress(0, step));
  }
}
BENCHMARK(BM_SetSlotProgress);

// The same update while another thread renders /metrics without pause (lock contention).
void BM_SetSlotProgressWhileScraped(benchmark::State& state) {
  FfpodMetrics m;
  Populate(&m);
  std::atomic<bool> stop{false};
  std::atomic<int64_t> renders{0};
  std::thread scraper([&] {
    while (!stop.load(std::memory_order_relaxed)) {
      benchmark::DoNotOptimize(m.Render());
      renders.fetch_add(1, std::memory_order_relaxed);
    }
  });
  int64_t step = 600;
  for (auto _ : state) {
    ++step;
    m.SetSlotProgress(static_cast<int>(step % kSlots), "job", Progress(0, step));
  }
  stop = true;
  scraper.join();
  state.counters["renders"] = static_cast<double>(renders.load());
}
BENCHMARK(BM_SetSlotProgressWhileScraped)->UseRealTime();

// One GET /metrics over a kept-alive loopback connection, response read whole.
void BM_ScrapeOverHttp(benchmark::State& state) {
  FfpodMetrics m;
  Populate(&m);
  HttpServer server(
      HttpServerOptions{.listen = "127.0.0.1:0", .max_requests_per_connection = 1u << 30},
      HttpProviders{.metrics = [&m] { return m.Render(); }});
  Result<int> port = server.Start();
  if (!port.ok()) {
    state.SkipWithError(port.error().message.c_str());
    return;
  }
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(*port));
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    state.SkipWithError("connect failed");
    return;
  }
  const std::string request = "GET /metrics HTTP/1.1\r\nHost: bench\r\n\r\n";
  const size_t body_size = m.Render().size();
  std::string buf(1 << 20, '\0');
  for (auto _ : state) {
    if (::send(fd, request.data(), request.size(), MSG_NOSIGNAL) !=
        static_cast<ssize_t>(request.size())) {
      state.SkipWithError("send failed");
      break;
    }
    // Read until the header end plus Content-Length bytes (the body size is fixed here).
    size_t have = 0, need = 0;
    while (need == 0 || have < need) {
      ssize_t n = ::recv(fd, buf.data() + have, buf.size() - have, 0);
      if (n <= 0) break;
      have += static_cast<size_t>(n);
      if (need == 0) {
        std::string_view view(buf.data(), have);
        size_t end = view.find("\r\n\r\n");
        if (end != std::string_view::npos) need = end + 4 + body_size;
      }
    }
    if (need == 0 || have != need) {
      state.SkipWithError("short or unexpected response");
      break;
    }
  }
  ::close(fd);
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * body_size));
}
BENCHMARK(BM_ScrapeOverHttp)->UseRealTime();

}  // namespace
}  // namespace ffpod

BENCHMARK_MAIN();
