// Throughput of the stream parsers over the recorded fixtures (tests/fixtures/progress and
// tests/fixtures/stderr, the files of real or source-derived FFmpeg output, `ff*`).
// Run: build/bench/parsers_bench [--benchmark_filter=...]
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <string_view>
#include <vector>

#include "parsers/ffmpeg/line_splitter.h"
#include "parsers/ffmpeg/progress.h"
#include "parsers/ffmpeg/stats_line.h"

namespace ffpod {
namespace {

namespace fs = std::filesystem;

// All `ff*` files of one fixture directory, concatenated in name order.
std::string LoadCorpus(const char* dir) {
  fs::path root = fs::path(FFPOD_FIXTURES_DIR) / dir;
  std::vector<fs::path> files;
  for (const fs::directory_entry& e : fs::directory_iterator(root)) {
    if (e.is_regular_file() && e.path().filename().string().rfind("ff", 0) == 0) {
      files.push_back(e.path());
    }
  }
  std::sort(files.begin(), files.end());
  std::string all;
  for (const fs::path& f : files) {
    std::ifstream in(f, std::ios::binary);
    all.append(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  if (all.empty()) {
    std::fprintf(stderr, "no fixtures under %s\n", root.c_str());
    std::abort();
  }
  return all;
}

const std::string& ProgressCorpus() {
  static const std::string corpus = LoadCorpus("progress");
  return corpus;
}

const std::string& StderrCorpus() {
  static const std::string corpus = LoadCorpus("stderr");
  return corpus;
}

std::vector<std::string> StderrLines(bool stats_only) {
  std::vector<std::string> lines;
  LineSplitter splitter;
  auto sink = [&](const SplitLine& l) {
    if (!stats_only || ParseStatsLine(l.text)) lines.emplace_back(l.text);
  };
  splitter.Feed(StderrCorpus(), sink);
  splitter.Finish(sink);
  return lines;
}

// The whole corpus in one Feed.
void BM_ProgressParserWhole(benchmark::State& state) {
  const std::string& corpus = ProgressCorpus();
  std::vector<ProgressBlock> blocks;
  for (auto _ : state) {
    ProgressParser parser;
    blocks.clear();
    parser.Feed(corpus, &blocks);
    benchmark::DoNotOptimize(blocks.data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * corpus.size());
  state.counters["blocks"] = static_cast<double>(blocks.size());
}
BENCHMARK(BM_ProgressParserWhole);

// Reads of `range(0)` bytes, as a pipe delivers them.
void BM_ProgressParserChunked(benchmark::State& state) {
  const std::string& corpus = ProgressCorpus();
  const size_t chunk = static_cast<size_t>(state.range(0));
  std::vector<ProgressBlock> blocks;
  for (auto _ : state) {
    ProgressParser parser;
    blocks.clear();
    std::string_view rest = corpus;
    while (!rest.empty()) {
      size_t n = std::min(chunk, rest.size());
      parser.Feed(rest.substr(0, n), &blocks);
      rest.remove_prefix(n);
    }
    benchmark::DoNotOptimize(blocks.data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * corpus.size());
}
BENCHMARK(BM_ProgressParserChunked)->Arg(64)->Arg(4096);

void BM_LineSplitter(benchmark::State& state) {
  const std::string& corpus = StderrCorpus();
  size_t lines = 0;
  for (auto _ : state) {
    LineSplitter splitter;
    lines = 0;
    auto sink = [&lines](const SplitLine& l) { lines += l.text.size() != 0; };
    splitter.Feed(corpus, sink);
    splitter.Finish(sink);
    benchmark::DoNotOptimize(lines);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * corpus.size());
  state.counters["lines"] = static_cast<double>(lines);
}
BENCHMARK(BM_LineSplitter);

void BM_LineSplitterChunked(benchmark::State& state) {
  const std::string& corpus = StderrCorpus();
  const size_t chunk = static_cast<size_t>(state.range(0));
  for (auto _ : state) {
    LineSplitter splitter;
    size_t lines = 0;
    auto sink = [&lines](const SplitLine& l) { lines += l.text.size() != 0; };
    std::string_view rest = corpus;
    while (!rest.empty()) {
      size_t n = std::min(chunk, rest.size());
      splitter.Feed(rest.substr(0, n), sink);
      rest.remove_prefix(n);
    }
    splitter.Finish(sink);
    benchmark::DoNotOptimize(lines);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * corpus.size());
}
BENCHMARK(BM_LineSplitterChunked)->Arg(64)->Arg(4096);

// ParseStatsLine on every stderr line (most are not stats lines), or on the stats lines only.
void StatsLines(benchmark::State& state, bool stats_only) {
  const std::vector<std::string> lines = StderrLines(stats_only);
  size_t bytes = 0;
  for (const std::string& l : lines) bytes += l.size();
  size_t parsed = 0;
  for (auto _ : state) {
    parsed = 0;
    for (const std::string& l : lines) {
      std::optional<StatsLine> s = ParseStatsLine(l);
      parsed += s.has_value();
      benchmark::DoNotOptimize(s);
    }
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * bytes);
  state.counters["stats_lines"] = static_cast<double>(parsed);
}
void BM_StatsLineAllStderrLines(benchmark::State& state) { StatsLines(state, false); }
void BM_StatsLineOnlyStatsLines(benchmark::State& state) { StatsLines(state, true); }
BENCHMARK(BM_StatsLineAllStderrLines);
BENCHMARK(BM_StatsLineOnlyStatsLines);

}  // namespace
}  // namespace ffpod

BENCHMARK_MAIN();
