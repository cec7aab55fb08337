#include "supervisor/storage/s3_uploader.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <random>
#include <set>

#include "parsers/storage/s3_protocol.h"
#include "supervisor/storage/s3_requests.h"
#include "supervisor/storage/sha256.h"

namespace ffpod {

namespace asio = boost::asio;
using std::chrono::system_clock;

struct S3Uploader::State {
  S3UploaderOptions options;
  std::shared_ptr<CredentialSource> credentials;
  asio::io_context io;
  asio::executor_work_guard<asio::io_context::executor_type> work{io.get_executor()};
  std::atomic<uint64_t> bytes_sent{0};

  std::mutex mu;  // guards what follows
  uint64_t next_id = 1;
  std::set<uint64_t> running;
  std::set<uint64_t> cancelled;
  bool stopping = false;
  std::condition_variable idle;

  bool IsCancelled(uint64_t id) {
    std::lock_guard<std::mutex> lock(mu);
    return stopping || cancelled.count(id) > 0;
  }
  void Finished(uint64_t id) {
    std::lock_guard<std::mutex> lock(mu);
    running.erase(id);
    cancelled.erase(id);
    idle.notify_all();
  }
};

namespace {

// The bytes [offset, offset + length) of `fd`, or why not.
Result<std::string> ReadRange(int fd, const std::string& path, uint64_t offset, uint64_t length) {
  std::string out(length, '\0');
  uint64_t done = 0;
  while (done < length) {
    ssize_t n = ::pread(fd, out.data() + done, length - done, static_cast<off_t>(offset + done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      return Error{
          "reading " + path + ": " +
          (n == 0 ? "the file is shorter than it was" : std::string(std::strerror(errno)))};
    }
    done += static_cast<uint64_t>(n);
  }
  return out;
}

struct FileCloser {
  int fd;
  ~FileCloser() {
    if (fd >= 0) ::close(fd);
  }
};

// One upload, on the uploader's thread.
class Upload {
 public:
  Upload(std::shared_ptr<S3Uploader::State> state, uint64_t id, std::string path,
         UploadTarget target)
      : state_(std::move(state)),
        path_(std::move(path)),
        requests_(state_->io, state_, state_->options, state_->credentials, std::move(target),
                  [s = state_.get(), id] { return s->IsCancelled(id); }) {}

  asio::awaitable<UploadOutcome> Run();

 private:
  asio::awaitable<Status> PutWhole(int fd);
  asio::awaitable<Status> Multipart(int fd, const PartPlan& plan);
  asio::awaitable<void> SendParts(int fd, const PartPlan& plan, const std::string& upload_id,
                                  std::vector<CompletedPart>* parts, uint32_t* next,
                                  Status* failure);
  Status Fail(const StepFailure& failure);

  std::shared_ptr<S3Uploader::State> state_;
  std::string path_;
  S3Requests requests_;
  UploadOutcome outcome_;
};

Status Upload::Fail(const StepFailure& failure) {
  outcome_.error_code = failure.code;
  outcome_.retryable = failure.retryable;
  outcome_.cancelled = failure.code == "cancelled";
  return Error{"upload of " + path_ + " to " + requests_.target_name() + ": " + failure.error};
}

asio::awaitable<UploadOutcome> Upload::Run() {
  int fd = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC);
  FileCloser closer{fd};
  struct stat st {};
  if (fd < 0 || ::fstat(fd, &st) != 0) {
    outcome_.status =
        Fail(StepFailure{"cannot open it: " + std::string(std::strerror(errno)), "local", false});
    co_return std::move(outcome_);
  }
  outcome_.bytes = static_cast<uint64_t>(st.st_size);
  std::optional<PartPlan> plan = PlanParts(outcome_.bytes, state_->options.part_bytes);
  if (!plan) {
    outcome_.status = Fail(StepFailure{"the file is larger than S3's 5 TiB limit", "local", false});
  } else if (!plan->multipart || requests_.presigned()) {
    if (requests_.presigned() && outcome_.bytes > kS3MaxPartBytes) {
      outcome_.status = Fail(StepFailure{"a presigned put_url takes one PUT of at most 5 GiB",
                                         "EntityTooLarge", false});
    } else {
      outcome_.status = co_await PutWhole(fd);
    }
  } else {
    outcome_.parts = plan->parts;
    outcome_.status = co_await Multipart(fd, *plan);
  }
  outcome_.steps = requests_.TakeSteps();
  co_return std::move(outcome_);
}

asio::awaitable<Status> Upload::PutWhole(int fd) {
  Result<std::string> body = ReadRange(fd, path_, 0, outcome_.bytes);
  if (!body) co_return Fail(StepFailure{body.error().message, "local", false});
  StepResult r = co_await requests_.PutObject(std::move(*body));
  if (!r.answer) co_return Fail(r.failure);
  state_->bytes_sent += outcome_.bytes;
  co_return Status::Ok();
}

asio::awaitable<Status> Upload::Multipart(int fd, const PartPlan& plan) {
  Result<std::string> upload_id = co_await requests_.CreateMultipartUpload();
  if (!upload_id) co_return Fail(requests_.last_failure());
  std::vector<CompletedPart> parts(plan.parts);
  uint32_t next = 1;
  Status failure;
  int workers = std::min<int>(state_->options.parts_in_flight, static_cast<int>(plan.parts));
  // The workers share `next`, `parts` and `failure`: all on this one thread.
  auto remaining = std::make_shared<int>(workers);
  asio::steady_timer all_done(state_->io, asio::steady_timer::time_point::max());
  for (int i = 0; i < workers; ++i) {
    asio::co_spawn(state_->io, SendParts(fd, plan, *upload_id, &parts, &next, &failure),
                   [remaining, &all_done](const std::exception_ptr&) {
                     if (--*remaining == 0) all_done.cancel();
                   });
  }
  auto [ec] = co_await all_done.async_wait(asio::as_tuple(asio::use_awaitable));
  (void)ec;
  if (failure.ok()) {
    StepResult r = co_await requests_.CompleteMultipartUpload(*upload_id, parts);
    if (r.answer) co_return Status::Ok();
    failure = Fail(r.failure);
  }
  co_await requests_.AbortMultipartUpload(*upload_id);
  co_return failure;
}

asio::awaitable<void> Upload::SendParts(int fd, const PartPlan& plan, const std::string& upload_id,
                                        std::vector<CompletedPart>* parts, uint32_t* next,
                                        Status* failure) {
  S3Connection connection = requests_.NewConnection();
  while (failure->ok() && *next <= plan.parts) {
    uint32_t number = (*next)++;
    PartRange range = PartAt(plan, outcome_.bytes, number);
    Result<std::string> body = ReadRange(fd, path_, range.offset, range.length);
    if (!body) {
      *failure = Fail(StepFailure{body.error().message, "local", false});
      break;
    }
    std::string sha256 = Sha256Hex(*body);
    std::string checksum = ChecksumHeader(sha256);
    StepResult r = co_await requests_.UploadPart(connection, upload_id, number, std::move(*body),
                                                 std::move(sha256));
    if (!r.answer || !r.answer->etag) {
      if (failure->ok()) {
        *failure =
            Fail(r.answer ? StepFailure{"the store sent no ETag for part " + std::to_string(number),
                                        "InvalidPart", true}
                          : r.failure);
      }
      break;
    }
    (*parts)[number - 1] = CompletedPart{*r.answer->etag, checksum};
    state_->bytes_sent += range.length;
  }
}

}  // namespace

Result<std::unique_ptr<S3Uploader>> S3Uploader::Start(
    S3UploaderOptions options, std::shared_ptr<CredentialSource> credentials) {
  if (options.part_bytes < kS3MinPartBytes || options.part_bytes > kS3MaxPartBytes) {
    return Error{"the upload part size must be 5 MiB to 5 GiB, not " +
                 std::to_string(options.part_bytes) + " bytes"};
  }
  if (options.parts_in_flight < 1) return Error{"at least one upload part must be in flight"};
  if (!options.tls.ca_file.empty()) {
    auto context = MakeClientTlsContext(options.tls);
    if (!context) return context.error();
  }
  options.max_attempts = std::max(1, options.max_attempts);
  auto state = std::make_shared<State>();
  state->options = std::move(options);
  state->credentials = std::move(credentials);
  std::unique_ptr<S3Uploader> uploader(new S3Uploader(state));
  uploader->thread_ = std::thread([state] { state->io.run(); });
  return uploader;
}

S3Uploader::S3Uploader(std::shared_ptr<State> state) : state_(std::move(state)) {}

S3Uploader::~S3Uploader() {
  if (!shut_down_) Shutdown();
}

uint64_t S3Uploader::Upload(std::string path, UploadTarget target, Done done) {
  uint64_t id;
  {
    std::lock_guard<std::mutex> lock(state_->mu);
    id = state_->next_id++;
    state_->running.insert(id);
  }
  auto upload = std::make_shared<class Upload>(state_, id, std::move(path), std::move(target));
  asio::co_spawn(state_->io, upload->Run(),
                 [state = state_, id, upload, done = std::move(done)](
                     const std::exception_ptr& error, UploadOutcome outcome) {
                   if (error) {
                     outcome = UploadOutcome{};
                     outcome.status = Error{"upload failed unexpectedly"};
                     outcome.error_code = "local";
                   }
                   done(std::move(outcome));
                   state->Finished(id);
                 });
  return id;
}

void S3Uploader::Cancel(uint64_t id) {
  std::lock_guard<std::mutex> lock(state_->mu);
  if (state_->running.count(id)) state_->cancelled.insert(id);
}

uint64_t S3Uploader::BytesSent() const { return state_->bytes_sent.load(); }

void S3Uploader::Shutdown() {
  shut_down_ = true;
  {
    std::unique_lock<std::mutex> lock(state_->mu);
    state_->stopping = true;
    state_->idle.wait(lock, [&] { return state_->running.empty(); });
  }
  state_->work.reset();
  if (thread_.joinable()) thread_.join();
}

}  // namespace ffpod
