// Which connection the listener sheds when its table is full.
#include "supervisor/net/connection_table.h"

#include <gtest/gtest.h>

#include <string>

namespace ffpod {
namespace {

using Table = ConnectionTable<std::string>;

TEST(ConnectionTable, AddsUpToTheCapacity) {
  Table t(2);
  EXPECT_NE(t.Add("a"), 0u);
  EXPECT_NE(t.Add("b"), 0u);
  EXPECT_TRUE(t.full());
  EXPECT_EQ(t.Add("c"), 0u);
  EXPECT_EQ(t.size(), 2u);
}

TEST(ConnectionTable, EvictsIdleBeforeReadingAndTheOldestFirst) {
  Table t(8);
  uint64_t reading_old = t.Add("reading-old");
  uint64_t idle_old = t.Add("idle-old");
  uint64_t idle_new = t.Add("idle-new");
  t.Add("reading-new");
  ASSERT_TRUE(t.SetPhase(idle_old, ConnectionPhase::kIdle));
  ASSERT_TRUE(t.SetPhase(idle_new, ConnectionPhase::kIdle));
  (void)reading_old;
  EXPECT_EQ(t.Evict(), "idle-old");
  EXPECT_EQ(t.Evict(), "idle-new");
  EXPECT_EQ(t.Evict(), "reading-old");
  EXPECT_EQ(t.Evict(), "reading-new");
  EXPECT_EQ(t.Evict(), std::nullopt);
  EXPECT_EQ(t.size(), 0u);
}

TEST(ConnectionTable, ClosingGoesBeforeIdle) {
  Table t(4);
  uint64_t idle = t.Add("idle");
  uint64_t closing = t.Add("closing");
  t.SetPhase(idle, ConnectionPhase::kIdle);
  t.SetPhase(closing, ConnectionPhase::kClosing);
  EXPECT_EQ(t.Evict(), "closing");
  EXPECT_EQ(t.Evict(), "idle");
}

TEST(ConnectionTable, NeverEvictsAConnectionThatIsResponding) {
  Table t(2);
  uint64_t a = t.Add("a");
  uint64_t b = t.Add("b");
  t.SetPhase(a, ConnectionPhase::kResponding);
  t.SetPhase(b, ConnectionPhase::kResponding);
  EXPECT_EQ(t.Evict(), std::nullopt);
  EXPECT_EQ(t.size(), 2u);
  t.SetPhase(b, ConnectionPhase::kIdle);  // answered, kept alive
  EXPECT_EQ(t.Evict(), "b");
}

// A client that stops reading its answer (the write makes no progress) gives its place before a
// connection still sending its request, which may be the probe, but after idle ones; the one
// stalled longest goes first.
TEST(ConnectionTable, EvictsStalledWritesAfterIdleAndBeforeReading) {
  Table t(8);
  uint64_t reading = t.Add("reading");
  uint64_t stalled_old = t.Add("stalled-old");
  uint64_t stalled_new = t.Add("stalled-new");
  uint64_t idle = t.Add("idle");
  uint64_t responding = t.Add("responding");
  for (uint64_t id : {stalled_old, stalled_new, responding}) {
    ASSERT_TRUE(t.SetPhase(id, ConnectionPhase::kResponding));
  }
  ASSERT_TRUE(t.SetPhase(stalled_old, ConnectionPhase::kStalledWrite));
  ASSERT_TRUE(t.SetPhase(stalled_new, ConnectionPhase::kStalledWrite));
  ASSERT_TRUE(t.SetPhase(idle, ConnectionPhase::kIdle));
  (void)reading;
  EXPECT_EQ(t.Evict(), "idle");
  EXPECT_EQ(t.Evict(), "stalled-old");
  EXPECT_EQ(t.Evict(), "stalled-new");
  EXPECT_EQ(t.Evict(), "reading");
  EXPECT_EQ(t.Evict(), std::nullopt);  // the progressing answer stays
  EXPECT_EQ(t.size(), 1u);
}

// A stalled write whose client reads again is back among the responding: not evicted.
TEST(ConnectionTable, AStalledWriteThatProgressesAgainIsNotEvicted) {
  Table t(2);
  uint64_t a = t.Add("a");
  t.SetPhase(a, ConnectionPhase::kResponding);
  t.SetPhase(a, ConnectionPhase::kStalledWrite);
  t.SetPhase(a, ConnectionPhase::kResponding);
  EXPECT_EQ(t.Evict(), std::nullopt);
  EXPECT_EQ(t.size(), 1u);
}

// Re-entering a phase goes behind the others; staying in it keeps the place (a kept-alive
// connection's deadline starts again at its next request, a trickling one's does not).
TEST(ConnectionTable, OrderIsTheTimeAPhaseWasEntered) {
  Table t(4);
  uint64_t first = t.Add("first");
  t.Add("second");
  EXPECT_TRUE(t.SetPhase(first, ConnectionPhase::kReading));  // same phase: stays first
  EXPECT_EQ(t.Evict(), "first");

  uint64_t third = t.Add("third");
  t.SetPhase(third, ConnectionPhase::kResponding);
  t.SetPhase(third, ConnectionPhase::kReading);  // its next request: behind "second"
  t.Add("fourth");
  EXPECT_EQ(t.Evict(), "second");
  EXPECT_EQ(t.Evict(), "third");
  EXPECT_EQ(t.Evict(), "fourth");
}

TEST(ConnectionTable, AnEvictedOrRemovedIdIsGone) {
  Table t(2);
  uint64_t a = t.Add("a");
  uint64_t b = t.Add("b");
  EXPECT_EQ(t.Evict(), "a");
  EXPECT_FALSE(t.SetPhase(a, ConnectionPhase::kResponding));  // the victim learns it was shed
  t.Remove(a);                                                // and removing again is harmless
  t.Remove(b);
  EXPECT_FALSE(t.SetPhase(b, ConnectionPhase::kIdle));
  EXPECT_FALSE(t.SetPhase(0, ConnectionPhase::kIdle));
  EXPECT_EQ(t.size(), 0u);
  EXPECT_NE(t.Add("c"), a);  // ids are not reused
}

}  // namespace
}  // namespace ffpod
