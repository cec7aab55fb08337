#include "supervisor/job/input_audit.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/asio/post.hpp>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <mutex>

#include "parsers/telemetry/log_format.h"
#include "supervisor/storage/sha256.h"

namespace ffpod {

namespace asio = boost::asio;

namespace {

constexpr size_t kChunkBytes = 1 << 20;

std::string MiB(int64_t bytes) { return std::to_string(bytes >> 20) + " MiB"; }

std::chrono::system_clock::time_point ModificationTime(const struct stat& st) {
  using std::chrono::system_clock;
  auto since_epoch =
      std::chrono::seconds(st.st_mtim.tv_sec) + std::chrono::nanoseconds(st.st_mtim.tv_nsec);
  return system_clock::time_point(std::chrono::duration_cast<system_clock::duration>(since_epoch));
}

// Reads `fd` to its end into `sha`: the bytes read, or nullopt when cancelled or past `max`.
// An error reading is `skipped`'s text.
std::optional<int64_t> ReadAll(int fd, int64_t max, const std::atomic<bool>& cancel, Sha256& sha,
                               std::string& skipped) {
  std::vector<char> buf(kChunkBytes);
  int64_t total = 0;
  for (;;) {
    if (cancel.load(std::memory_order_relaxed)) {
      skipped = std::string(kInputHashUnfinished);
      return std::nullopt;
    }
    ssize_t n = ::read(fd, buf.data(), buf.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      skipped = std::string("cannot read: ") + std::strerror(errno);
      return std::nullopt;
    }
    if (n == 0) return total;
    total += n;
    if (total > max) {
      skipped = "grew past --input-hash-max-mib (" + MiB(max) + ") while it was read";
      return std::nullopt;
    }
    sha.Update(std::string_view(buf.data(), static_cast<size_t>(n)));
  }
}

}  // namespace

void HashInputFile(const std::string& path, int64_t max_bytes, const std::atomic<bool>& cancel,
                   InputRecord& record, const std::function<void(const InputRecord&)>& on_stat) {
  // Never open what is not a regular file: opening a FIFO's read end would disturb its writer.
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    record.sha256_skipped = std::string("cannot open: ") + std::strerror(errno);
    return;
  }
  if (!S_ISREG(st.st_mode)) {
    record.sha256_skipped = "not a regular file";
    return;
  }
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
  if (fd < 0) {
    record.sha256_skipped = std::string("cannot open: ") + std::strerror(errno);
    return;
  }
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    record.sha256_skipped = "not a regular file";
    ::close(fd);
    return;
  }
  record.bytes = st.st_size;
  record.mtime = FormatTimestamp(ModificationTime(st));
  if (on_stat) on_stat(record);
  if (max_bytes <= 0) {
    record.sha256_skipped = "input hashing is off (--input-hash-max-mib 0)";
  } else if (st.st_size > max_bytes) {
    record.sha256_skipped = "larger than --input-hash-max-mib (" + MiB(max_bytes) + ")";
  } else {
    Sha256 sha;
    std::string skipped;
    auto read = ReadAll(fd, max_bytes, cancel, sha, skipped);
    if (!read) {
      record.sha256_skipped = skipped;
    } else if (*read != st.st_size) {
      record.sha256_skipped = "changed size while it was read (" + std::to_string(*read) + " of " +
                              std::to_string(st.st_size) + " bytes)";
    } else {
      record.sha256 = sha.HexDigest();
    }
  }
  ::close(fd);
}

// Shared by the loop and the pool's task; `mu` guards `records` and `finished`.
struct InputAudit::State {
  std::mutex mu;
  std::vector<InputRecord> records;
  std::vector<std::string> paths;  // per record: the file to read, empty for other kinds
  bool finished = false;
  std::atomic<bool> cancel{false};
  int64_t max_bytes = 0;
  std::function<void()> then;  // the loop's alone
};

InputAudit::InputAudit(asio::io_context& io, asio::thread_pool& pool,
                       const std::vector<FfmpegInput>& inputs, const SecretValues& secrets,
                       int64_t max_bytes)
    : io_(io), pool_(pool), state_(std::make_shared<State>()) {
  state_->max_bytes = max_bytes;
  bool any_file = false;
  for (const auto& in : inputs) {
    InputRecord r;
    r.url = secrets.Redact(in.url);
    r.kind = ClassifyInput(in);
    bool file = r.kind == InputKind::kFile;
    any_file = any_file || file;
    state_->paths.push_back(file ? InputFilePath(in.url) : std::string());
    state_->records.push_back(std::move(r));
  }
  state_->finished = !any_file;
}

InputAudit::~InputAudit() {
  state_->cancel = true;
  state_->then = nullptr;
}

void InputAudit::Start() {
  if (state_->finished) return;
  asio::post(pool_, [state = state_, &io = io_] {
    for (size_t i = 0; i < state->records.size(); ++i) {
      if (state->paths[i].empty() || state->cancel) continue;
      InputRecord r;
      {
        std::lock_guard lock(state->mu);
        r = state->records[i];
      }
      HashInputFile(state->paths[i], state->max_bytes, state->cancel, r,
                    [&](const InputRecord& stat) {
                      std::lock_guard lock(state->mu);
                      state->records[i] = stat;
                    });
      std::lock_guard lock(state->mu);
      state->records[i] = std::move(r);
    }
    {
      std::lock_guard lock(state->mu);
      state->finished = true;
    }
    asio::post(io, [weak = std::weak_ptr<State>(state)] {
      auto s = weak.lock();
      if (!s || !s->then) return;
      auto then = std::move(s->then);
      s->then = nullptr;
      then();
    });
  });
}

bool InputAudit::done() const {
  std::lock_guard lock(state_->mu);
  return state_->finished;
}

void InputAudit::WhenDone(std::function<void()> then) {
  if (done()) {
    asio::post(io_, [weak = std::weak_ptr<State>(state_), then = std::move(then)] {
      auto s = weak.lock();
      if (s && !s->cancel) then();
    });
    return;
  }
  state_->then = std::move(then);  // the task's completion, posted to the loop, calls it
}

std::vector<InputRecord> InputAudit::Take() {
  state_->cancel = true;
  state_->then = nullptr;
  std::lock_guard lock(state_->mu);
  std::vector<InputRecord> out = state_->records;
  if (!state_->finished) {
    for (auto& r : out) {
      if (r.kind == InputKind::kFile && !r.sha256 && r.sha256_skipped.empty()) {
        r.sha256_skipped = std::string(kInputHashUnfinished);
      }
    }
  }
  return out;
}

}  // namespace ffpod
