// The inputs of one attempt, for its result's audit trail (docs/queue.md): each input as written
// in the arguments (redacted) and its kind, known at once; for each local file its size, mtime
// and sha256, read on a thread pool while ffmpeg runs, so that the hashes cost the job no time.
//
// Bounds: a file larger than `max_bytes` is not read (sha256 null, `sha256_skipped` says so;
// `max_bytes` 0 hashes nothing), and hashing never outlives the attempt: what is not done when
// the result is taken is cancelled and reported as not done. A file that changes size while it
// is read gets no hash either.
//
// Threading: construct, Start, WhenDone, Take and destroy on the io_context's thread; the
// reading runs on the pool, in one task per attempt, and reports back through the io_context.
#pragma once

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/thread_pool.hpp>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "parsers/documents/audit.h"
#include "parsers/ffmpeg/ffmpeg_args.h"
#include "parsers/telemetry/redact.h"

namespace ffpod {

// Why a file's sha256 is null when it was taken before its hash was done.
inline constexpr std::string_view kInputHashUnfinished = "not hashed yet when ffmpeg exited";

// Size, mtime and sha256 of the file at `path`, into `record` (its url and kind are left as
// they are). Reads nothing of a file larger than `max_bytes` (0: of any file) and stops when
// `cancel` turns true; then, and when the file cannot be opened, is not a regular file or
// changes size while read, sha256 stays null and sha256_skipped says why. `on_stat` is called
// with the record once its size and mtime are known, before the reading. Blocking I/O.
void HashInputFile(const std::string& path, int64_t max_bytes, const std::atomic<bool>& cancel,
                   InputRecord& record, const std::function<void(const InputRecord&)>& on_stat);

class InputAudit {
 public:
  // `inputs` from AnalyzeFfmpegArgs of the job's arguments; `secrets` (of the same arguments)
  // redact their URLs. `io` and `pool` outlive this object.
  InputAudit(boost::asio::io_context& io, boost::asio::thread_pool& pool,
             const std::vector<FfmpegInput>& inputs, const SecretValues& secrets,
             int64_t max_bytes);
  // Cancels the reading still under way (the pool's task ends within one read).
  ~InputAudit();
  InputAudit(const InputAudit&) = delete;
  InputAudit& operator=(const InputAudit&) = delete;

  // Starts reading the local files on the pool (nothing when there are none).
  void Start();
  // Every file has been read (or there was none to read).
  bool done() const;
  // `then` on the io_context once done(): on a later turn, also when done() already holds.
  // Never called after Take or destruction.
  void WhenDone(std::function<void()> then);
  // The records, in the inputs' order. Reading still under way is cancelled; the files it had
  // not finished have sha256 null and sha256_skipped kInputHashUnfinished.
  std::vector<InputRecord> Take();

 private:
  struct State;
  boost::asio::io_context& io_;
  boost::asio::thread_pool& pool_;
  std::shared_ptr<State> state_;
};

}  // namespace ffpod
