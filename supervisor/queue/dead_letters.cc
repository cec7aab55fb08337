#include "supervisor/queue/dead_letters.h"

#include <chrono>
#include <cstdlib>

#include "parsers/telemetry/log_format.h"
#include "supervisor/queue/dead_scripts.h"

namespace ffpod {

namespace {

std::string Now() { return FormatTimestamp(std::chrono::system_clock::now()); }

}  // namespace

void DeadLetters::Stats(Reply<DeadStats> done) {
  auto stats = std::make_shared<DeadStats>();
  redis_.Command({"LLEN", keys_.Dead()}, [stats](std::error_code ec, const RedisReply& reply) {
    if (!ec && !reply.IsError()) stats->length = reply.integer;
  });
  // Answered in order: the LLEN above has been read when this callback runs.
  redis_.Command({"HGETALL", keys_.DeadStats()},
                 [stats, done = std::move(done)](std::error_code ec, const RedisReply& reply) {
                   if (ec) return done(RedisFailure(ec));
                   if (reply.IsError()) return done(RedisFailure(reply));
                   for (size_t i = 0; i + 1 < reply.elements.size(); i += 2) {
                     long long n = std::atoll(reply.elements[i + 1].str.c_str());
                     const std::string& k = reply.elements[i].str;
                     if (k == "trimmed") stats->trimmed = n;
                     if (k == "retried") stats->retried = n;
                     if (k == "purged") stats->purged = n;
                   }
                   done(*stats);
                 });
}

void DeadLetters::Page(long long start, long long count, Reply<std::vector<std::string>> done) {
  redis_.Command({"LRANGE", keys_.Dead(), std::to_string(start), std::to_string(start + count - 1)},
                 [done = std::move(done)](std::error_code ec, RedisReply reply) {
                   if (ec) return done(RedisFailure(ec));
                   if (reply.IsError()) return done(RedisFailure(reply));
                   std::vector<std::string> out;
                   out.reserve(reply.elements.size());
                   for (auto& e : reply.elements) out.push_back(std::move(e.str));
                   done(std::move(out));
                 });
}

void DeadLetters::Retry(const DeadEntry& entry, bool from_oldest, Reply<Outcome> done) {
  bool has_id = !entry.id.empty();
  redis_.Eval(
      DeadScripts::Retry(),
      {keys_.Dead(), keys_.Pending(), keys_.Job(has_id ? entry.id : "-"), keys_.DeadStats()},
      {entry.raw, entry.document, Now(), keys_.Events(), entry.id, has_id ? "1" : "0",
       from_oldest ? "-1" : "1"},
      [done = std::move(done)](std::error_code ec, RedisReply reply) {
        if (ec) return done(RedisFailure(ec));
        if (reply.IsError() || reply.elements.size() != 2) return done(RedisFailure(reply));
        done(Outcome{.done = reply.elements[0].integer == 1,
                     .state = std::move(reply.elements[1].str)});
      });
}

void DeadLetters::Purge(const DeadEntry& entry, bool from_oldest, Reply<Outcome> done) {
  bool has_id = !entry.id.empty();
  redis_.Eval(
      DeadScripts::Purge(), {keys_.Dead(), keys_.Job(has_id ? entry.id : "-"), keys_.DeadStats()},
      {entry.raw, Now(), keys_.Events(), entry.id, has_id ? "1" : "0", from_oldest ? "-1" : "1"},
      [done = std::move(done)](std::error_code ec, const RedisReply& reply) {
        if (ec) return done(RedisFailure(ec));
        if (reply.IsError()) return done(RedisFailure(reply));
        done(Outcome{.done = reply.integer == 1, .state = ""});
      });
}

}  // namespace ffpod
