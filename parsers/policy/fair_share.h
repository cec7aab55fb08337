// The queues one worker serves (`--queue acme,globex:3,shared`) and the order it claims from
// them in: stride scheduling (Waldspurger's, with virtual finish times), so that each queue that
// has work gets claims in proportion to its weight, whatever the others' backlogs.
//
// Each queue (a lane) has a pass: the virtual time its claims have used. A claim from lane i
// costs its stride, kStrideUnit / weight_i. The next claim goes to the lane whose pass plus
// stride (the virtual time at which that claim would end) is lowest, ties to the lane listed
// first. A lane found empty is idle: it leaves the competition and keeps no credit, so when a
// job arrives there it joins at the virtual time of the busy lanes (the lowest start, pass less
// stride, among them) instead of catching up on the time it had no work. So with weights 1 and 1, a
// queue that gets a job while another holds thousands has it claimed within one claim of the
// other's; with weights 1 and 3, of every 4 claims while both have work, 1 and 3.
//
// Pure: no clocks or I/O; the caller reports what each claim found. Thread-compatible.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "parsers/common/result.h"

namespace ffpod {

inline constexpr int kMinQueueWeight = 1;
inline constexpr int kMaxQueueWeight = 1000;

struct WeightedQueue {
  std::string name;
  int weight = 1;
  bool weight_given = false;  // "NAME:W" rather than "NAME"
};

// Parses "NAME[:WEIGHT][,NAME[:WEIGHT]...]". A name is 1-200 characters without spaces or
// commas; a weight, after the element's last colon, a whole number from 1 to 1000 (default 1).
// Text after the last colon that is not made of digits (and signs) belongs to the name, so
// names with colons ("team:video") keep working; "a:0", "a:x1" and "a:" name their weight.
// On failure the error says what was expected and names the bad element ("queue names with an
// optional :WEIGHT from 1 to 1000 (\"globex:0\" has weight \"0\")"), for the caller's
// sentence; duplicates and empty elements are errors.
Result<std::vector<WeightedQueue>> ParseQueueList(std::string_view text);

// The list as ParseQueueList reads it back ("acme,globex:3").
std::string QueueListText(const std::vector<WeightedQueue>& queues);

class FairShare {
 public:
  // Divisible by every weight up to 16 and by 1000, so that common weights have exact strides.
  static constexpr int64_t kStrideUnit = 720720000;

  // One lane per weight, in order (each weight clamped to 1..1000).
  explicit FairShare(const std::vector<int>& weights);

  size_t size() const { return lanes_.size(); }

  // The lanes to try for the next claim, best first: those with `eligible[i]` (not paused),
  // by pass plus stride, ties to the lower index. `eligible` has size() entries.
  std::vector<size_t> Order(const std::vector<bool>& eligible) const;
  // A claim from lane i found a job: lane i is busy and pays its stride (an idle lane first
  // joins at the busy lanes' virtual time, when that is ahead of its own pass).
  void Claimed(size_t i);
  // A claim from lane i found it empty: the lane is idle until it has a job again.
  void Empty(size_t i);

  int64_t pass(size_t i) const { return lanes_[i].pass; }
  bool idle(size_t i) const { return lanes_[i].idle; }

 private:
  struct Lane {
    int64_t stride = kStrideUnit;
    int64_t pass = 0;
    bool idle = true;
  };
  void Rebase();  // keeps passes small: subtracts the lowest from all

  std::vector<Lane> lanes_;
};

}  // namespace ffpod
