// What runs in a child's process group, read from /proc: how ffpod finds the ffmpeg inside a
// wrapper script (docs/run.md "Wrapping ffmpeg in a script") to learn its inputs and options,
// and so the expected output duration that percent complete needs.
//
// Thread-compatible; reads /proc only.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

namespace ffpod {

// An ffmpeg found running: its arguments (without the program) and its working directory,
// against which its relative paths resolve (empty when unknown).
struct RunningFfmpeg {
  std::vector<std::string> args;
  std::string cwd;
};

// The one process in process group `pgid` whose program looks like ffmpeg (LooksLikeFfmpeg of
// its argv[0]). nullopt when there is none, when there are several (a script running two at
// once: whose progress arrives is unknown), or when /proc cannot be read.
std::optional<RunningFfmpeg> FfmpegInGroup(pid_t pgid);

}  // namespace ffpod
