// HLS playlists as ffmpeg's HLS muxer writes them (each text below is what Debian 12's ffmpeg
// 5.1 wrote for the command above it), and the shapes other writers use.
#include "parsers/ffmpeg/hls_playlist.h"

#include <gtest/gtest.h>

#include <string>

namespace ffpod {
namespace {

// ffmpeg -f lavfi -i testsrc2=size=160x120:rate=25 -t 3 -c:v libx264 -g 25 -f hls -hls_time 1
//   -hls_playlist_type vod -hls_segment_filename seg/s_%d.ts out/index.m3u8
constexpr const char* kVod =
    "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:1\n#EXT-X-MEDIA-SEQUENCE:0\n"
    "#EXT-X-PLAYLIST-TYPE:VOD\n#EXTINF:1.000000,\ns_0.ts\n#EXTINF:1.000000,\ns_1.ts\n"
    "#EXTINF:1.000000,\ns_2.ts\n#EXT-X-ENDLIST\n";

// The same with -hls_segment_type fmp4, into out/f.m3u8.
constexpr const char* kFmp4 =
    "#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-TARGETDURATION:1\n#EXT-X-MEDIA-SEQUENCE:0\n"
    "#EXT-X-PLAYLIST-TYPE:VOD\n#EXT-X-MAP:URI=\"init.mp4\"\n#EXTINF:1.000000,\nf0.m4s\n"
    "#EXTINF:1.000000,\nf1.m4s\n#EXTINF:1.000000,\nf2.m4s\n#EXT-X-ENDLIST\n";

// Two renditions: -map 0:v -map 1:a -map 0:v -map 1:a ... -master_pl_name master.m3u8
//   -var_stream_map "v:0,a:0 v:1,a:1" out/v%v.m3u8
constexpr const char* kMaster =
    "#EXTM3U\n#EXT-X-VERSION:3\n"
    "#EXT-X-STREAM-INF:BANDWIDTH=75900,RESOLUTION=160x120,CODECS=\"avc1.42c00b,mp4a.40.2\"\n"
    "v0.m3u8\n\n"
    "#EXT-X-STREAM-INF:BANDWIDTH=75900,RESOLUTION=160x120,CODECS=\"avc1.42c00b,mp4a.40.2\"\n"
    "v1.m3u8\n\n";

TEST(HlsPlaylist, AVodPlaylistListsItsSegmentsInOrder) {
  auto p = ParseHlsPlaylist(kVod);
  ASSERT_TRUE(p);
  EXPECT_FALSE(p->master);
  ASSERT_EQ(p->segments.size(), 3u);
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(p->segments[i].uri, "s_" + std::to_string(i) + ".ts");
    EXPECT_DOUBLE_EQ(p->segments[i].duration_s, 1.0);
  }
  EXPECT_EQ(p->media_sequence, 0);
  EXPECT_TRUE(p->ended);
  EXPECT_DOUBLE_EQ(HlsDuration(*p), 3.0);
  EXPECT_EQ(p->init_uri, "");
}

TEST(HlsPlaylist, Fmp4SegmentsHaveTheirInitSection) {
  auto p = ParseHlsPlaylist(kFmp4);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->init_uri, "init.mp4");
  ASSERT_EQ(p->segments.size(), 3u);
  EXPECT_EQ(p->segments[2].uri, "f2.m4s");
}

TEST(HlsPlaylist, AMasterPlaylistListsVariantsNotSegments) {
  auto p = ParseHlsPlaylist(kMaster);
  ASSERT_TRUE(p);
  EXPECT_TRUE(p->master);
  EXPECT_EQ(p->variants, (std::vector<std::string>{"v0.m3u8", "v1.m3u8"}));
  EXPECT_TRUE(p->segments.empty());
}

// A live playlist still being written: no ENDLIST, a sliding window; CRLF from other writers.
TEST(HlsPlaylist, ALivePlaylistWithCrlfAndByteRanges) {
  auto p = ParseHlsPlaylist(
      "#EXTM3U\r\n#EXT-X-MEDIA-SEQUENCE:42\r\n#EXTINF:4.004,title\r\n#EXT-X-BYTERANGE:1000@0\r\n"
      "all.ts\r\n#EXTINF:3.5,\r\n#EXT-X-BYTERANGE:800@1000\r\nall.ts\r\n#EXT-X-UNKNOWN:1\r\n");
  ASSERT_TRUE(p);
  EXPECT_FALSE(p->ended);
  EXPECT_EQ(p->media_sequence, 42);
  ASSERT_EQ(p->segments.size(), 2u);
  EXPECT_EQ(p->segments[0].uri, "all.ts");
  EXPECT_TRUE(p->segments[0].byte_range);
  EXPECT_DOUBLE_EQ(p->segments[0].duration_s, 4.004);
  EXPECT_DOUBLE_EQ(HlsDuration(*p), 7.504);
}

TEST(HlsPlaylist, NotAPlaylist) {
  EXPECT_FALSE(ParseHlsPlaylist(""));
  EXPECT_FALSE(
      ParseHlsPlaylist("\x00\x00\x00\x18"
                       "ftypmp42"));
  EXPECT_FALSE(ParseHlsPlaylist(" #EXTM3U\n"));
  // Garbage after the header is tolerated, never trusted as numbers.
  auto p = ParseHlsPlaylist("#EXTM3U\n#EXTINF:abc,\nx.ts\n#EXT-X-MEDIA-SEQUENCE:-5\n");
  ASSERT_TRUE(p);
  ASSERT_EQ(p->segments.size(), 1u);
  EXPECT_DOUBLE_EQ(p->segments[0].duration_s, 0);
  EXPECT_EQ(p->media_sequence, std::nullopt);
}

}  // namespace
}  // namespace ffpod
