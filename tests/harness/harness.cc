#include "tests/harness/harness.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <dirent.h>
#include <gtest/gtest.h>
#include <httplib.h>

#include <boost/json.hpp>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

extern char** environ;

namespace ffpod::testing {

TempDir::TempDir() {
  const char* base = std::getenv("TMPDIR");
  std::string tmpl = std::string(base && *base ? base : "/tmp") + "/ffpod-test-XXXXXX";
  if (mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
  path_ = tmpl;
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

int FreePort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    throw std::runtime_error("bind failed");
  }
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

std::string ReadFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void WriteFile(const std::filesystem::path& path, std::string_view content) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(content.data(), static_cast<std::streamsize>(content.size()));
}

const FfmpegVersion& TestFfmpeg() {
  static const FfmpegVersion version = [] {
    const char* named = std::getenv("FFPOD_TEST_FFMPEG_VERSION");
    std::string text = named && *named ? named : "5.1.9-0+deb12u1";
    return ParseFfmpegVersion("ffmpeg version " + text);
  }();
  return version;
}

std::string FixturePath(const std::string& relative) {
  return std::string(FFPOD_FIXTURES_DIR) + "/" + relative;
}

std::string EnsureNpmPackages(const std::string& dir) {
  if (RunCommand({"node", "--version"}, std::chrono::seconds(20)).status == 127) {
    return "node is not installed";
  }
  const std::string marker = dir + "/node_modules/.package-lock.json";
  if (std::filesystem::exists(marker)) return {};
  if (RunCommand({"npm", "--version"}, std::chrono::seconds(30)).status == 127) {
    return "npm is not installed";
  }
  int fd = ::open((dir + "/package.json").c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    ADD_FAILURE() << "cannot open " << dir << "/package.json";
    return "no package.json";
  }
  ::flock(fd, LOCK_EX);
  if (!std::filesystem::exists(marker)) {
    auto r =
        RunCommand({"npm", "ci", "--prefix", dir, "--prefer-offline", "--no-audit", "--no-fund"},
                   std::chrono::seconds(240));
    EXPECT_EQ(r.status, 0) << "npm ci in " << dir << " failed:\n" << r.err << r.out;
  }
  ::flock(fd, LOCK_UN);
  ::close(fd);
  return {};
}

CommandResult RunCommand(const std::vector<std::string>& argv, std::chrono::milliseconds timeout,
                         const std::vector<std::string>& extra_env) {
  int out_pipe[2], err_pipe[2];
  if (pipe2(out_pipe, O_CLOEXEC) != 0 || pipe2(err_pipe, O_CLOEXEC) != 0) {
    throw std::runtime_error("pipe failed");
  }
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&fa, out_pipe[1], 1);
  posix_spawn_file_actions_adddup2(&fa, err_pipe[1], 2);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t none;
  sigemptyset(&none);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK);

  std::vector<std::string> env_store;
  for (char** e = environ; *e != nullptr; ++e) env_store.emplace_back(*e);
  for (const auto& e : extra_env) env_store.push_back(e);
  std::vector<char*> envp;
  for (auto& e : env_store) envp.push_back(e.data());
  envp.push_back(nullptr);
  std::vector<std::string> args = argv;
  std::vector<char*> cargv;
  for (auto& a : args) cargv.push_back(a.data());
  cargv.push_back(nullptr);

  pid_t pid = -1;
  int rc = posix_spawnp(&pid, cargv[0], &fa, &attr, cargv.data(), envp.data());
  posix_spawn_file_actions_destroy(&fa);
  posix_spawnattr_destroy(&attr);
  ::close(out_pipe[1]);
  ::close(err_pipe[1]);
  CommandResult result;
  if (rc != 0) {
    ::close(out_pipe[0]);
    ::close(err_pipe[0]);
    result.status = 127;
    result.err = "spawn failed: " + std::string(strerror(rc));
    return result;
  }
  auto deadline = std::chrono::steady_clock::now() + timeout;
  bool killed = false;
  pollfd fds[2] = {{out_pipe[0], POLLIN, 0}, {err_pipe[0], POLLIN, 0}};
  int open_fds = 2;
  char buf[65536];
  while (open_fds > 0) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0 && !killed) {
      ::kill(pid, SIGKILL);
      killed = true;
    }
    int n = ::poll(fds, 2, killed ? 1000 : static_cast<int>(std::max<int64_t>(1, left.count())));
    if (n < 0 && errno == EINTR) continue;
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      ssize_t r = ::read(fds[i].fd, buf, sizeof buf);
      if (r <= 0) {
        ::close(fds[i].fd);
        fds[i].fd = -1;
        --open_fds;
      } else {
        (i == 0 ? result.out : result.err).append(buf, static_cast<size_t>(r));
      }
    }
    if (killed && n == 0) break;
  }
  for (auto& f : fds) {
    if (f.fd >= 0) ::close(f.fd);
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  result.status = WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status);
  return result;
}

BackgroundProcess::BackgroundProcess(const ProcessOptions& options) {
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(
      &fa, 0, options.stdin_path.empty() ? "/dev/null" : options.stdin_path.c_str(), O_RDONLY, 0);
  posix_spawn_file_actions_addopen(
      &fa, 1, options.stdout_path.empty() ? "/dev/null" : options.stdout_path.c_str(),
      O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_addopen(
      &fa, 2, options.stderr_path.empty() ? "/dev/null" : options.stderr_path.c_str(),
      O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t none;
  sigemptyset(&none);
  posix_spawnattr_setsigmask(&attr, &none);
  sigset_t dfl;
  sigfillset(&dfl);
  posix_spawnattr_setsigdefault(&attr, &dfl);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  std::vector<std::string> env_store;
  for (char** e = environ; *e != nullptr; ++e) env_store.emplace_back(*e);
  for (const auto& e : options.extra_env) env_store.push_back(e);
  std::vector<char*> envp;
  for (auto& e : env_store) envp.push_back(e.data());
  envp.push_back(nullptr);
  std::vector<std::string> args = options.argv;
  std::vector<char*> cargv;
  for (auto& a : args) cargv.push_back(a.data());
  cargv.push_back(nullptr);
  int rc = posix_spawnp(&pid_, cargv[0], &fa, &attr, cargv.data(), envp.data());
  posix_spawn_file_actions_destroy(&fa);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) throw std::runtime_error("spawn " + options.argv[0] + ": " + strerror(rc));
}

BackgroundProcess::~BackgroundProcess() {
  if (pid_ > 0 && !status_) {
    ::kill(pid_, SIGKILL);
    Wait(std::chrono::seconds(10));
  }
}

void BackgroundProcess::Signal(int sig) {
  if (pid_ > 0 && !status_) ::kill(pid_, sig);
}

std::optional<int> BackgroundProcess::Wait(std::chrono::milliseconds timeout) {
  if (status_) return status_;
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    int st = 0;
    pid_t r = ::waitpid(pid_, &st, WNOHANG);
    if (r == pid_) {
      status_ = WIFSIGNALED(st) ? 128 + WTERMSIG(st) : WEXITSTATUS(st);
      return status_;
    }
    if (std::chrono::steady_clock::now() >= deadline) return std::nullopt;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

bool BackgroundProcess::Running() { return !Wait(std::chrono::milliseconds(0)).has_value(); }

namespace {

// Fields of /proc/<pid>/stat after the command name: state, ppid, ...
bool ReadStat(pid_t pid, char* state, pid_t* ppid) {
  std::string stat = ReadFile("/proc/" + std::to_string(pid) + "/stat");
  size_t close = stat.rfind(')');
  if (close == std::string::npos || close + 4 >= stat.size()) return false;
  *state = stat[close + 2];
  *ppid = static_cast<pid_t>(std::atoi(stat.c_str() + close + 4));
  return true;
}

}  // namespace

std::vector<pid_t> ChildrenOf(pid_t parent) {
  std::vector<pid_t> out;
  DIR* d = ::opendir("/proc");
  if (d == nullptr) return out;
  while (dirent* e = ::readdir(d)) {
    pid_t pid = static_cast<pid_t>(std::atoi(e->d_name));
    if (pid <= 0) continue;
    char state;
    pid_t ppid;
    if (ReadStat(pid, &state, &ppid) && ppid == parent) out.push_back(pid);
  }
  ::closedir(d);
  return out;
}

std::string ProcessName(pid_t pid) {
  std::string name = ReadFile("/proc/" + std::to_string(pid) + "/comm");
  while (!name.empty() && name.back() == '\n') name.pop_back();
  return name;
}

bool IsJobFfmpeg(pid_t pid) {
  if (ProcessName(pid) != "ffmpeg") return false;
  std::string cmdline = ReadFile("/proc/" + std::to_string(pid) + "/cmdline");
  for (std::string_view probe : {"-version", "-buildconf"}) {
    std::string arg = std::string(1, '\0') + std::string(probe) + std::string(1, '\0');
    if (cmdline.find(arg) != std::string::npos) return false;
    if (cmdline.ends_with(std::string(1, '\0') + std::string(probe))) return false;
  }
  return true;
}

bool ProcessGoneOrZombie(pid_t pid) {
  char state;
  pid_t ppid;
  if (!ReadStat(pid, &state, &ppid)) return true;
  return state == 'Z' || state == 'X';
}

bool WaitFor(const std::function<bool()>& condition, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (condition()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return condition();
}

HttpResponse HttpGet(int port, const std::string& path) {
  httplib::Client client("127.0.0.1", port);
  client.set_connection_timeout(std::chrono::seconds(5));
  client.set_read_timeout(std::chrono::seconds(10));
  HttpResponse out;
  auto res = client.Get(path.c_str());
  if (!res) return out;
  out.status = res->status;
  out.body = res->body;
  out.content_type = res->get_header_value("Content-Type");
  return out;
}

std::vector<boost::json::object> JsonLines(const std::string& text) {
  std::vector<boost::json::object> out;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t eol = text.find('\n', pos);
    std::string line = text.substr(pos, eol == std::string::npos ? std::string::npos : eol - pos);
    pos = eol == std::string::npos ? text.size() : eol + 1;
    if (line.empty()) continue;
    boost::system::error_code ec;
    auto v = boost::json::parse(line, ec);
    EXPECT_FALSE(ec) << "not JSON: " << line;
    if (!ec && v.is_object()) {
      out.push_back(v.as_object());
    } else {
      ADD_FAILURE() << "not a JSON object: " << line;
    }
  }
  return out;
}

std::optional<boost::json::object> FindRecord(const std::vector<boost::json::object>& records,
                                              const std::string& prefix) {
  for (const auto& r : records) {
    const auto* msg = r.if_contains("msg");
    if (msg && msg->is_string() && std::string_view(msg->as_string()).starts_with(prefix)) {
      return r;
    }
  }
  return std::nullopt;
}

std::optional<int> LoggedPort(const std::string& path) {
  std::string text = ReadFile(path);
  size_t pos = 0;
  while (pos < text.size()) {
    size_t eol = text.find('\n', pos);
    if (eol == std::string::npos) break;  // a line still being written
    std::string line = text.substr(pos, eol - pos);
    pos = eol + 1;
    boost::system::error_code ec;
    auto v = boost::json::parse(line, ec);
    if (ec || !v.is_object()) continue;
    const auto& o = v.as_object();
    if (o.contains("msg") && o.at("msg") == "listening" && o.contains("port")) {
      return static_cast<int>(o.at("port").to_number<int64_t>());
    }
  }
  return std::nullopt;
}

}  // namespace ffpod::testing
