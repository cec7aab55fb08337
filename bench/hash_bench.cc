// Throughput of the audit trail's hashing (docs/queue.md, "Input hashes"): an input file read and
// hashed as the worker does it (HashInputFile: 1 MiB reads, sha256), an output hashed before
// publishing (HashOutput), and sha256 alone on memory, the ceiling both can reach. The files are
// in the page cache (written just before): this is the CPU's share; a cold volume reads slower.
// Run: build/bench/hash_bench [--benchmark_filter=...]
#include <benchmark/benchmark.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "supervisor/job/input_audit.h"
#include "supervisor/job/outputs.h"
#include "supervisor/storage/sha256.h"

namespace ffpod {
namespace {

namespace fs = std::filesystem;

constexpr int64_t kFileBytes = int64_t{256} << 20;

// A 256 MiB file of pseudo-random bytes (not compressible, not all zeros), made once.
const std::string& BenchFile() {
  static const std::string path = [] {
    std::string p =
        (fs::temp_directory_path() / ("ffpod-hash-bench-" + std::to_string(::getpid()) + ".bin"))
            .string();
    std::ofstream out(p, std::ios::binary);
    std::string block(1 << 20, '\0');
    uint64_t x = 0x9E3779B97F4A7C15ULL;
    for (int64_t done = 0; done < kFileBytes; done += static_cast<int64_t>(block.size())) {
      for (char& c : block) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        c = static_cast<char>(x);
      }
      out.write(block.data(), static_cast<std::streamsize>(block.size()));
    }
    std::atexit([] { fs::remove(path); });
    return p;
  }();
  return path;
}

void BM_HashInputFile(benchmark::State& state) {
  const std::string& path = BenchFile();
  std::atomic<bool> cancel{false};
  for (auto _ : state) {
    InputRecord record;
    HashInputFile(path, kFileBytes, cancel, record, nullptr);
    if (!record.sha256) state.SkipWithError(record.sha256_skipped.c_str());
    benchmark::DoNotOptimize(record);
  }
  state.SetBytesProcessed(state.iterations() * kFileBytes);
}
BENCHMARK(BM_HashInputFile)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_HashOutput(benchmark::State& state) {
  const std::string& path = BenchFile();
  for (auto _ : state) {
    auto file = HashOutput(path);
    if (!file.ok()) state.SkipWithError(file.error().message.c_str());
    benchmark::DoNotOptimize(file);
  }
  state.SetBytesProcessed(state.iterations() * kFileBytes);
}
BENCHMARK(BM_HashOutput)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_Sha256Memory(benchmark::State& state) {
  std::string block(1 << 20, 'x');
  for (auto _ : state) {
    Sha256 sha;
    for (int i = 0; i < 256; ++i) sha.Update(block);
    benchmark::DoNotOptimize(sha.HexDigest());
  }
  state.SetBytesProcessed(state.iterations() * kFileBytes);
}
BENCHMARK(BM_Sha256Memory)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
}  // namespace ffpod

BENCHMARK_MAIN();
