#include "capture/stream_buffer.h"

#include <gtest/gtest.h>

#include <string>
#include <string_view>

namespace reel::capture {
namespace {

std::span<const std::byte> bytes(std::string_view s) {
  return {reinterpret_cast<const std::byte*>(s.data()), s.size()};
}

std::string readable(const StreamBuffer& b) {
  auto r = b.readable();
  return {reinterpret_cast<const char*>(r.data()), r.size()};
}

TEST(StreamBuffer, InOrderChunksJoinAndConsumeAdvances) {
  StreamBuffer b;
  b.add(0, bytes("GET / "), 10);
  b.add(6, bytes("HTTP/1.1"), 20);
  EXPECT_EQ(readable(b), "GET / HTTP/1.1");
  b.consume(4);
  EXPECT_EQ(b.position(), 4u);
  EXPECT_EQ(readable(b), "/ HTTP/1.1");
  EXPECT_EQ(b.stats().bytes_delivered, 4u);
  EXPECT_EQ(b.gap().kind, GapKind::kNone);
}

TEST(StreamBuffer, ReordersOutOfOrderChunks) {
  StreamBuffer b;
  b.add(5, bytes("world"), 20);
  EXPECT_EQ(readable(b), "");
  EXPECT_EQ(b.gap().kind, GapKind::kWaiting);
  EXPECT_EQ(b.gap().bytes, 5u);
  b.add(0, bytes("hello"), 10);
  EXPECT_EQ(readable(b), "helloworld");
  EXPECT_EQ(b.gap().kind, GapKind::kNone);
  EXPECT_EQ(b.stats().bytes_lost, 0u);
}

TEST(StreamBuffer, ManyChunksInReverseOrder) {
  StreamBuffer b;
  std::string text = "abcdefghijklmnopqrstuvwxyz";
  for (std::size_t i = text.size(); i-- > 0;) b.add(i, bytes(text.substr(i, 1)), i);
  EXPECT_EQ(readable(b), text);
}

TEST(StreamBuffer, DuplicatesAreDroppedFirstCopyWins) {
  StreamBuffer b;
  b.add(0, bytes("abc"), 1);
  b.add(0, bytes("XYZ"), 2);
  EXPECT_EQ(readable(b), "abc");
  b.add(10, bytes("klm"), 3);
  b.add(10, bytes("KLM"), 4);
  b.add(3, bytes("defghij"), 5);
  EXPECT_EQ(readable(b), "abcdefghijklm");
  EXPECT_EQ(b.stats().bytes_duplicate, 6u);
  EXPECT_EQ(b.stats().chunks_stale, 2u);
}

TEST(StreamBuffer, OverlappingChunksKeepHeldBytes) {
  StreamBuffer b;
  b.add(0, bytes("0123"), 1);
  b.add(2, bytes("23456"), 2);  // overlaps the readable bytes
  EXPECT_EQ(readable(b), "0123456");
  b.add(10, bytes("ab"), 3);
  b.add(12, bytes("cd"), 3);
  b.add(8, bytes("89ABCDEF"), 4);  // spans a hole, two held chunks and beyond
  EXPECT_EQ(readable(b), "0123456");
  b.add(7, bytes("7"), 5);
  EXPECT_EQ(readable(b), "0123456789abcdEF");
}

TEST(StreamBuffer, ChunkBehindHeadIsStale) {
  StreamBuffer b;
  b.add(0, bytes("abcdef"), 1);
  b.consume(6);
  b.add(2, bytes("cd"), 2);
  EXPECT_EQ(readable(b), "");
  EXPECT_EQ(b.stats().chunks_stale, 1u);
  b.add(4, bytes("efgh"), 3);  // partly behind the head
  EXPECT_EQ(readable(b), "gh");
}

TEST(StreamBuffer, KnownLostRangeIsAGapToSkip) {
  StreamBuffer b;
  b.add(0, bytes("head"), 1);
  b.add_lost(4, 100, 2);
  b.add(104, bytes("tail"), 3);
  EXPECT_EQ(readable(b), "head");
  EXPECT_EQ(b.gap().kind, GapKind::kNone);  // bytes to read first
  b.consume(4);
  Gap g = b.gap();
  EXPECT_EQ(g.kind, GapKind::kLost);
  EXPECT_EQ(g.bytes, 100u);
  EXPECT_EQ(b.skip_gap(), 100u);
  EXPECT_EQ(readable(b), "tail");
  EXPECT_EQ(b.position(), 104u);
  EXPECT_EQ(b.take_loss(), 100u);
  EXPECT_EQ(b.take_loss(), 0u);
  EXPECT_EQ(b.stats().bytes_lost, 100u);
  EXPECT_EQ(b.stats().gaps, 1u);
}

TEST(StreamBuffer, LostRangeThenHoleAreSkippedSeparately) {
  StreamBuffer b;
  b.add_lost(0, 10, 1);
  b.add(20, bytes("x"), 2);
  EXPECT_EQ(b.gap().kind, GapKind::kLost);
  EXPECT_EQ(b.skip_gap(), 10u);
  EXPECT_EQ(b.gap().kind, GapKind::kWaiting);  // 10..20 may still come
  b.add(10, bytes("0123456789"), 3);
  EXPECT_EQ(readable(b), "0123456789x");
}

TEST(StreamBuffer, WaitingHoleBecomesLostPastReorderWindow) {
  StreamBuffer b({.reorder_window = 8});
  b.add(4, bytes("12345"), 1);
  EXPECT_EQ(b.gap().kind, GapKind::kWaiting);
  b.add(9, bytes("6789"), 2);
  EXPECT_EQ(b.gap().kind, GapKind::kLost);
  EXPECT_EQ(b.skip_gap(), 4u);
  EXPECT_EQ(readable(b), "123456789");
}

TEST(StreamBuffer, CapDropsOldestUnreadBytes) {
  StreamBuffer b({.max_bytes = 8});
  b.add(0, bytes("0123456789ab"), 1);
  EXPECT_EQ(readable(b), "456789ab");
  EXPECT_EQ(b.position(), 4u);
  EXPECT_EQ(b.stats().bytes_dropped, 4u);
  EXPECT_EQ(b.take_loss(), 4u);
  EXPECT_LE(b.buffered_bytes(), 8u);
}

TEST(StreamBuffer, CapGivesUpOnHoleBeforeOutOfOrderData) {
  StreamBuffer b({.max_bytes = 8});
  b.add(10, bytes("abcd"), 1);
  b.add(14, bytes("efgh"), 2);
  EXPECT_EQ(b.gap().kind, GapKind::kWaiting);
  b.add(18, bytes("ij"), 3);  // 10 bytes held: the hole at 0..10 is declared lost
  EXPECT_EQ(b.position(), 12u);
  EXPECT_EQ(readable(b), "cdefghij");
  EXPECT_EQ(b.stats().bytes_lost, 10u);
  EXPECT_EQ(b.take_loss(), 12u);  // the hole plus two evicted bytes
}

TEST(StreamBuffer, ChunkCountIsCapped) {
  StreamBuffer b({.max_chunks = 4});
  for (std::uint64_t i = 0; i < 10; ++i) b.add(2 + 2 * i, bytes("x"), i);
  EXPECT_LE(b.buffered_bytes(), 10u);
  EXPECT_GT(b.stats().bytes_lost, 0u);
}

TEST(StreamBuffer, TimestampsFollowChunks) {
  StreamBuffer b;
  b.add(0, bytes("aaaa"), 100);
  b.add(8, bytes("cccc"), 300);
  b.add(4, bytes("bbbb"), 200);
  EXPECT_EQ(b.time_at(0), 100u);
  EXPECT_EQ(b.time_at(3), 100u);
  EXPECT_EQ(b.time_at(4), 200u);
  EXPECT_EQ(b.time_at(11), 300u);
  b.consume(6);
  EXPECT_EQ(b.time_at(6), 200u);
  EXPECT_EQ(b.last_activity_ns(), 300u);
}

TEST(StreamBuffer, PositionsNearTheTopDoNotWrap) {
  StreamBuffer b;
  std::uint64_t top = ~std::uint64_t{0};
  b.add(top - 2, bytes("abcdef"), 1);
  b.add_lost(top - 1, 100, 2);
  EXPECT_EQ(b.gap().kind, GapKind::kWaiting);
  EXPECT_LE(b.buffered_bytes(), 2u);
}

TEST(StreamBuffer, EmptyInputsAreHarmless) {
  StreamBuffer b;
  b.add(0, {}, 1);
  b.add_lost(0, 0, 1);
  b.consume(10);
  EXPECT_EQ(b.skip_gap(), 0u);
  EXPECT_EQ(readable(b), "");
  EXPECT_EQ(b.position(), 0u);
}

TEST(StreamBuffer, LargeStreamCompactsAndStaysBounded) {
  StreamBuffer b({.max_bytes = 1 << 20});
  std::string block(4096, 'z');
  std::uint64_t pos = 0;
  for (int i = 0; i < 1000; ++i) {
    b.add(pos, bytes(block), i);
    pos += block.size();
    b.consume(b.readable().size() - 100);
  }
  EXPECT_EQ(b.readable().size(), 100u);
  EXPECT_EQ(b.stats().bytes_dropped, 0u);
}

}  // namespace
}  // namespace reel::capture
