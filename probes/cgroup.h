// The container's out-of-memory kill count, to tell `oom_killed` from `killed`.
//
// cgroup v2: `oom_kill N` in <cgroup>/memory.events. cgroup v1: `oom_kill N` in
// <memory controller>/<cgroup>/memory.oom_control (kernel 4.13+). The cgroup comes from
// /proc/self/cgroup; ffmpeg runs in the same cgroup as ffpod (the container's). A count that
// rose while ffmpeg ran, together with ffmpeg dying of SIGKILL, means the kernel killed it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace ffpod {

// Pure parsers, exposed for tests.
std::optional<uint64_t> ParseOomKillCount(std::string_view memory_events_or_oom_control);
// The cgroup v2 path (from a "0::/path" line) or the v1 memory controller path
// ("N:memory:/path" or "N:...,memory,...:/path") in /proc/self/cgroup content.
struct CgroupPaths {
  std::optional<std::string> v2;
  std::optional<std::string> v1_memory;
};
CgroupPaths ParseProcSelfCgroup(std::string_view content);

// Reads the current oom_kill count of ffpod's cgroup, or nullopt when it cannot be known.
// `root` is where cgroupfs is mounted (tests point it at a fake tree).
std::optional<uint64_t> ReadOomKillCount(const std::string& proc_self_cgroup = "/proc/self/cgroup",
                                         const std::string& root = "/sys/fs/cgroup");

}  // namespace ffpod
