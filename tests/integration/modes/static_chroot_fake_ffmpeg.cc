// A stand-in for ffmpeg and ffprobe that runs where nothing else can: a statically linked
// program for tests/integration/modes/static_chroot_test.sh, which proves the static ffpod works in
// an empty chroot (no shell, no libc, no /dev, no /proc). It replays a recorded run instead of
// encoding. Test-only; never linked into ffpod.
//
// As ffmpeg (any other program name):
//   ffmpeg [-hide_banner] -version        prints a Debian 5.1 version banner on stdout
//   ffmpeg ... -i INPUT ... OUTPUT         replays the recording NAME = basename of INPUT
//                                          without its extension, from $FAKE_FFMPEG_FIXTURES
//                                          (default /fixtures):
//     NAME.stderr    copied to stderr (ffmpeg's log)
//     NAME.progress  copied to the fd of `-progress pipe:N` / `fd:N`, one block at a time,
//                    25 ms apart, as ffmpeg writes it
//     NAME.exit      the exit status (default 0)
//   On status 0 the last argument (the output, unless it is `-` or a pipe) is written with the
//   bytes of NAME.progress, so a test knows its exact size and sha256.
// As ffprobe (argv[0] ends in "ffprobe"): prints {"format":{"duration":"D"}} with D from
// NAME.duration and exits 0, or exits 1 when there is no such file.
#include <fcntl.h>
#include <time.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace {

bool ReadFile(const std::string& path, std::string* out) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  out->clear();
  char buf[65536];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0) {
      ::close(fd);
      return false;
    }
    if (n == 0) break;
    out->append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return true;
}

void WriteAll(int fd, const std::string& data) {
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n <= 0) return;  // a closed pipe ends the replay, as it would end ffmpeg's writes
    done += static_cast<size_t>(n);
  }
}

void SleepMs(long ms) {
  timespec ts{ms / 1000, (ms % 1000) * 1000000};
  while (::nanosleep(&ts, &ts) != 0) {
  }
}

std::string BaseName(const std::string& path) {
  size_t slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

// "/media/clip.mp4" -> "clip".
std::string CaseName(const std::string& input) {
  std::string base = BaseName(input);
  size_t dot = base.rfind('.');
  return dot == std::string::npos ? base : base.substr(0, dot);
}

bool EndsWith(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

int Ffprobe(const std::vector<std::string>& args, const std::string& dir) {
  std::string input;
  for (size_t i = 0; i + 1 < args.size(); ++i) {
    if (args[i] == "-i") input = args[i + 1];
  }
  std::string duration;
  if (input.empty() || !ReadFile(dir + "/" + CaseName(input) + ".duration", &duration)) {
    WriteAll(2, input + ": Invalid data found when processing input\n");
    return 1;
  }
  while (!duration.empty() && (duration.back() == '\n' || duration.back() == ' ')) {
    duration.pop_back();
  }
  WriteAll(1, "{\n    \"format\": {\n        \"duration\": \"" + duration + "\"\n    }\n}\n");
  return 0;
}

int Ffmpeg(const std::vector<std::string>& args, const std::string& dir) {
  std::string input;
  int progress_fd = -1;
  for (size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "-version") {
      WriteAll(1,
               "ffmpeg version 5.1.9-0+deb12u1 Copyright (c) 2000-2026 the FFmpeg developers\n"
               "built with gcc 12 (Debian 12.2.0-14+deb12u1)\n");
      return 0;
    }
    if (i + 1 >= args.size()) continue;
    if (args[i] == "-i" && input.empty()) input = args[i + 1];
    if (args[i] == "-progress") {
      const std::string& url = args[i + 1];
      if (url.rfind("pipe:", 0) == 0) progress_fd = std::atoi(url.c_str() + 5);
      if (url.rfind("fd:", 0) == 0) progress_fd = std::atoi(url.c_str() + 3);
    }
  }
  if (input.empty()) {
    WriteAll(2, "At least one output file must be specified\n");
    return 1;
  }
  std::string name = CaseName(input);
  std::string stderr_text, progress, exit_text;
  if (!ReadFile(dir + "/" + name + ".stderr", &stderr_text)) {
    WriteAll(2, input + ": No such file or directory\n");
    return 1;
  }
  ReadFile(dir + "/" + name + ".progress", &progress);
  int status = ReadFile(dir + "/" + name + ".exit", &exit_text) ? std::atoi(exit_text.c_str()) : 0;

  WriteAll(2, stderr_text);
  if (progress_fd >= 0) {
    // One block per write, ending at each progress=continue|end line.
    size_t start = 0;
    while (start < progress.size()) {
      size_t end = progress.find("progress=", start);
      end = end == std::string::npos ? progress.size() : progress.find('\n', end);
      end = end == std::string::npos ? progress.size() : end + 1;
      WriteAll(progress_fd, progress.substr(start, end - start));
      start = end;
      SleepMs(25);
    }
  }
  const std::string& output = args.back();
  if (status == 0 && output != "-" && output.rfind("pipe:", 0) != 0) {
    int fd = ::open(output.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
      WriteAll(2, output + ": Permission denied\n");
      return 1;
    }
    WriteAll(fd, progress);
    ::close(fd);
  }
  return status;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  const char* env_dir = std::getenv("FAKE_FFMPEG_FIXTURES");
  std::string dir = env_dir != nullptr ? env_dir : "/fixtures";
  if (EndsWith(argv[0], "ffprobe")) return Ffprobe(args, dir);
  return Ffmpeg(args, dir);
}
