#include "supervisor/modes/dead_command.h"

#include <boost/json.hpp>
#include <iostream>
#include <memory>
#include <unordered_set>

#include "parsers/common/json_text.h"
#include "parsers/documents/dead_entry.h"
#include "supervisor/modes/queue_commands.h"
#include "supervisor/queue/dead_letters.h"

namespace ffpod {

namespace {

namespace json = boost::json;

// Entries read per LRANGE: a dead list of 100000 is read without one reply of gigabytes.
constexpr long long kPage = 500;

// One `ffpod dead` run: scan, then print or act. Owned by the callbacks in flight.
class DeadRun : public std::enable_shared_from_this<DeadRun> {
 public:
  DeadRun(const Config& config, JobQueue& queue, std::function<void(int)> finish)
      : config_(config),
        dead_(queue.client(), queue.keys()),
        finish_(std::move(finish)),
        now_(std::chrono::system_clock::now()) {
    filter_.id = config.dead_job_id;
    filter_.reason = config.dead_reason;
    filter_.older_than_s = config.dead_older_than_s;
  }

  void Start() {
    dead_.Stats([self = shared_from_this()](Result<DeadStats> stats) {
      if (!stats.ok()) return self->Fail(stats.error());
      self->stats_ = *stats;
      self->ScanPage();
    });
  }

 private:
  // Show and retry by id take the newest entry of the job; everything else every match.
  bool Enough() const {
    if (config_.dead_limit && matches_ >= static_cast<size_t>(*config_.dead_limit)) return true;
    bool newest_only = config_.dead_action == "show" ||
                       (config_.dead_action == "retry" && !config_.dead_job_id.empty());
    return newest_only && matches_ > 0;
  }

  void ScanPage() {
    dead_.Page(offset_, kPage, [self = shared_from_this()](Result<std::vector<std::string>> page) {
      if (!page.ok()) return self->Fail(page.error());
      long long position = self->offset_;
      for (const std::string& raw : *page) {
        if (self->Enough()) break;
        ++position;
        auto entry = ParseDeadEntry(raw);
        if (!entry) {
          ++self->unreadable_;
          continue;
        }
        // Entries dead-lettered while the scan runs shift the pages: one may be read twice.
        if (!MatchesDeadFilter(*entry, self->filter_, self->now_)) continue;
        if (!self->seen_.insert(std::hash<std::string>()(raw)).second) continue;
        ++self->matches_;
        if (self->config_.dead_action == "list") {
          self->summaries_.push_back(DeadSummary(*entry));  // a list keeps no whole entry
        } else {
          self->matched_.push_back(std::move(*entry));
          // Entries are acted on newest first, each taken out before the next: by then the
          // entries before this one are those that did not match. Its script looks from
          // whichever end is nearer.
          long long from_newest = position - static_cast<long long>(self->matched_.size());
          self->from_oldest_.push_back(self->stats_.length - position < from_newest);
        }
      }
      self->offset_ += static_cast<long long>(page->size());
      if (self->Enough() || static_cast<long long>(page->size()) < kPage) return self->Act();
      self->ScanPage();
    });
  }

  void Act() {
    if (config_.dead_action == "list") return PrintList();
    if (config_.dead_action == "show") return PrintShow();
    ActOn(0);
  }

  void PrintList() {
    json::array entries = std::move(summaries_);
    json::object doc{{"queue", config_.queue},    {"length", stats_.length},
                     {"trimmed", stats_.trimmed}, {"retried", stats_.retried},
                     {"purged", stats_.purged},   {"unreadable", unreadable_},
                     {"listed", entries.size()},  {"entries", std::move(entries)}};
    std::cout << JsonText(doc) << "\n";
    finish_(0);
  }

  void PrintShow() {
    if (matched_.empty()) return NoEntry();
    std::cout << JsonText(DeadEntryDocument(matched_.front())) << "\n";
    finish_(0);
  }

  // Retries or purges matched_[i], then the next; one script per entry.
  void ActOn(size_t i) {
    if (i == matched_.size()) return PrintActed();
    auto next = [self = shared_from_this(), i](Result<DeadLetters::Outcome> outcome) {
      if (!outcome.ok()) return self->Fail(outcome.error());
      const DeadEntry& e = self->matched_[i];
      if (outcome->done) {
        self->done_.push_back(json::string(e.id));
      } else {
        self->skipped_.push_back(json::object{
            {"id", e.id},
            {"why", outcome->state.empty() ? "no longer in the dead list"
                                           : "the job is " + outcome->state + " now"}});
      }
      self->ActOn(i + 1);
    };
    if (config_.dead_action == "retry") {
      dead_.Retry(matched_[i], from_oldest_[i], next);
    } else {
      dead_.Purge(matched_[i], from_oldest_[i], next);
    }
  }

  void PrintActed() {
    if (!config_.dead_job_id.empty() && matched_.empty()) return NoEntry();
    const char* verb = config_.dead_action == "retry" ? "retried" : "purged";
    json::object doc{{"queue", config_.queue},
                     {"action", config_.dead_action},
                     {"matched", matched_.size()},
                     {verb, done_},
                     {"skipped", skipped_}};
    std::cout << JsonText(doc) << "\n";
    bool by_id_failed = !config_.dead_job_id.empty() && done_.empty();
    if (by_id_failed) {
      std::cerr << "ffpod: dead " << config_.dead_action << " " << config_.dead_job_id
                << ": nothing done (" << skipped_.front().at("why").as_string() << ")\n";
    }
    finish_(by_id_failed ? 1 : 0);
  }

  void NoEntry() {
    std::cerr << "ffpod: no dead entry for job " << config_.dead_job_id << " in queue "
              << config_.queue << "\n";
    finish_(1);
  }

  void Fail(const Error& error) {
    std::cerr << "ffpod: dead " << config_.dead_action << " failed: " << error.message << "\n";
    finish_(1);
  }

  const Config& config_;
  DeadLetters dead_;
  std::function<void(int)> finish_;
  std::chrono::system_clock::time_point now_;
  DeadFilter filter_;
  DeadStats stats_;
  long long offset_ = 0;
  long long unreadable_ = 0;
  std::vector<DeadEntry> matched_;
  std::vector<bool> from_oldest_;  // per match: nearer the list's oldest end when acted on
  size_t matches_ = 0;
  json::array summaries_;            // list: the matching entries' summaries
  std::unordered_set<size_t> seen_;  // hashes of the entries matched so far
  json::array done_;
  json::array skipped_;
};

}  // namespace

int RunDeadCommand(const Config& config, Logger& logger) {
  return WithQueue(
      config, logger,
      [&](JobQueue& queue, const std::function<void(int)>& finish) {
        std::make_shared<DeadRun>(config, queue, finish)->Start();
      },
      StepDeadline::kReplyTimeoutOnly);
}

}  // namespace ffpod
