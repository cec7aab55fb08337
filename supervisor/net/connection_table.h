// The HTTP listener's table of open connections (docs/metrics.md, "Limits"): how many may be
// open at once, and which one makes room when a new connection arrives and the table is full.
//
// A connection is always in one phase:
//   kClosing       an error response was sent; ffpod discards what the client still sends
//   kIdle          kept alive between requests, waiting for the next request's first byte
//   kStalledWrite  being answered, but the socket has accepted no byte of the answer for a
//                  while (the listener's stall time): a client that does not read
//   kReading       receiving a request (a new connection is here from accept)
//   kResponding    the request is complete and ffpod is writing its answer, which progresses
// Eviction order: closing, then idle, then stalled writes, then reading, and within a phase the
// connection that entered it first (the oldest idle one; the one stalled longest; the oldest
// accept, or first byte of a kept-alive request). A stalled write goes before a reading
// connection because its client has had its request and stopped taking the answer, while a
// reading one may be the probe that just arrived. A responding connection is never evicted:
// its answer progresses and is done within the write timeout; should it stall, the listener
// moves it to kStalledWrite, and back when bytes flow again. So a new connection, whose request
// usually arrives with it, takes the place of a slow, silent or non-reading one, and a flood of
// them sheds the longest-waiting first.
//
// A plain data structure: no I/O, no clock, O(1) per call. Not thread-safe: the listener
// guards it with a mutex. `Handle` is what the owner needs to close an evicted connection.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <list>
#include <optional>
#include <unordered_map>
#include <utility>

namespace ffpod {

// The values are the eviction order (see above).
enum class ConnectionPhase {
  kClosing = 0,
  kIdle = 1,
  kStalledWrite = 2,
  kReading = 3,
  kResponding = 4
};

template <typename Handle>
class ConnectionTable {
 public:
  explicit ConnectionTable(size_t capacity) : capacity_(capacity) {}

  size_t size() const { return entries_.size(); }
  size_t capacity() const { return capacity_; }
  bool full() const { return entries_.size() >= capacity_; }

  // Adds a connection in kReading, behind every other reading one, and returns its id (never
  // 0). Returns 0 and adds nothing when the table is full.
  uint64_t Add(Handle handle) {
    if (full()) return 0;
    uint64_t id = ++last_id_;
    auto& list = order_[Index(ConnectionPhase::kReading)];
    list.push_back(id);
    entries_.emplace(id,
                     Entry{std::move(handle), ConnectionPhase::kReading, std::prev(list.end())});
    return id;
  }

  // Moves the connection to `phase`, behind every connection already in it; staying in the
  // same phase keeps its place. Returns false when the id is not in the table (it was
  // evicted, removed, or never added).
  bool SetPhase(uint64_t id, ConnectionPhase phase) {
    auto it = entries_.find(id);
    if (it == entries_.end()) return false;
    Entry& e = it->second;
    if (e.phase == phase) return true;
    auto& to = order_[Index(phase)];
    to.splice(to.end(), order_[Index(e.phase)], e.position);
    e.phase = phase;
    return true;
  }

  // Forgets the connection; nothing happens when it is not in the table.
  void Remove(uint64_t id) {
    auto it = entries_.find(id);
    if (it == entries_.end()) return;
    order_[Index(it->second.phase)].erase(it->second.position);
    entries_.erase(it);
  }

  // Removes the connection that should make room (the order above) and returns its handle;
  // nullopt, removing nothing, when every connection is responding (with progress).
  std::optional<Handle> Evict() {
    for (ConnectionPhase phase : {ConnectionPhase::kClosing, ConnectionPhase::kIdle,
                                  ConnectionPhase::kStalledWrite, ConnectionPhase::kReading}) {
      auto& list = order_[Index(phase)];
      if (list.empty()) continue;
      auto it = entries_.find(list.front());
      Handle handle = std::move(it->second.handle);
      list.pop_front();
      entries_.erase(it);
      return handle;
    }
    return std::nullopt;
  }

 private:
  struct Entry {
    Handle handle;
    ConnectionPhase phase;
    std::list<uint64_t>::iterator position;  // in order_[phase]
  };
  static size_t Index(ConnectionPhase phase) { return static_cast<size_t>(phase); }

  size_t capacity_;
  uint64_t last_id_ = 0;
  std::array<std::list<uint64_t>, 5> order_{};  // per phase, in the order they entered it
  std::unordered_map<uint64_t, Entry> entries_;
};

}  // namespace ffpod
