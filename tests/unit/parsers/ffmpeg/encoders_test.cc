// The encoder list and build information parsers on output recorded from ffmpeg 5.1 (Debian 12,
// no GPU): see tests/fixtures/probe/README.md for the commands that produced each file.
#include "parsers/ffmpeg/encoders.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tests/harness/harness.h"

namespace ffpod {
namespace {

std::string Fixture(const std::string& name) {
  return testing::ReadFile(testing::FixturePath("probe/" + name));
}

// The three ways of feeding an incremental parser: whole, line by line, one byte at a time.
template <typename Parser>
std::vector<Parser> FeedThreeWays(const std::string& text) {
  std::vector<Parser> parsers(3);
  parsers[0].Feed(text);
  size_t start = 0;
  while (start < text.size()) {
    size_t nl = text.find('\n', start);
    size_t end = nl == std::string::npos ? text.size() : nl + 1;
    parsers[1].Feed(std::string_view(text).substr(start, end - start));
    start = end;
  }
  for (char c : text) parsers[2].Feed(std::string_view(&c, 1));
  for (Parser& p : parsers) p.Finish();
  return parsers;
}

bool SameEncoders(const std::vector<ListedEncoder>& a, const std::vector<ListedEncoder>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i].name != b[i].name || a[i].media != b[i].media || a[i].flags != b[i].flags ||
        a[i].description != b[i].description || a[i].codec != b[i].codec) {
      return false;
    }
  }
  return true;
}

const ListedEncoder* FindListed(const std::vector<ListedEncoder>& list, std::string_view name) {
  for (const ListedEncoder& e : list) {
    if (e.name == name) return &e;
  }
  return nullptr;
}

TEST(EncoderList, ParsesTheRecordedListTheSameWayInAnyChunking) {
  auto parsers = FeedThreeWays<EncoderListParser>(Fixture("ff5.1-encoders.txt"));
  const auto& list = parsers[0].encoders();
  EXPECT_TRUE(parsers[0].saw_table());
  EXPECT_TRUE(SameEncoders(list, parsers[1].encoders()));
  EXPECT_TRUE(SameEncoders(list, parsers[2].encoders()));

  // 217 rows after the legend: 122 video, 84 audio, 11 subtitle encoders.
  ASSERT_EQ(list.size(), 217u);
  int video = 0, audio = 0, subtitle = 0;
  for (const ListedEncoder& e : list) {
    video += e.media == 'V';
    audio += e.media == 'A';
    subtitle += e.media == 'S';
  }
  EXPECT_EQ(video, 122);
  EXPECT_EQ(audio, 84);
  EXPECT_EQ(subtitle, 11);
  EXPECT_EQ(list.front().name, "a64multi");
  EXPECT_EQ(list.back().name, "xsub");

  const ListedEncoder* x264 = FindListed(list, "libx264");
  ASSERT_NE(x264, nullptr);
  EXPECT_EQ(x264->flags, "V....D");
  EXPECT_EQ(x264->codec, "h264");
  EXPECT_EQ(x264->description, "libx264 H.264 / AVC / MPEG-4 AVC / MPEG-4 part 10 (codec h264)");
  const ListedEncoder* svt = FindListed(list, "libsvtav1");
  ASSERT_NE(svt, nullptr);
  EXPECT_EQ(svt->flags, "V.....");
  EXPECT_EQ(svt->codec, "av1");
  const ListedEncoder* aac = FindListed(list, "aac");
  ASSERT_NE(aac, nullptr);
  EXPECT_EQ(aac->media, 'A');
  EXPECT_EQ(aac->codec, "aac");  // no "(codec ...)": the encoder's own name
  EXPECT_EQ(FindListed(list, "srt")->codec, "subrip");

  // This build lists the H.264/HEVC hardware encoders but no AV1 hardware encoder.
  for (const char* name : {"libx264", "libx265", "libsvtav1", "libvpx-vp9", "h264_nvenc",
                           "hevc_nvenc", "h264_vaapi", "hevc_vaapi", "h264_qsv", "hevc_qsv"}) {
    EXPECT_NE(FindListed(list, name), nullptr) << name;
  }
  for (const char* name : {"av1_nvenc", "av1_vaapi", "av1_qsv"}) {
    EXPECT_EQ(FindListed(list, name), nullptr) << name;
  }
  // The legend (" V..... = Video") is not a row.
  EXPECT_EQ(FindListed(list, "="), nullptr);
}

TEST(EncoderList, RejectsTextThatIsNotAnEncoderTable) {
  EncoderListParser parser;
  parser.Feed("ffmpeg: unrecognized option '-encoders'\n V....D looks_like_a_row  but no table\n");
  parser.Finish();
  EXPECT_FALSE(parser.saw_table());
  EXPECT_TRUE(parser.encoders().empty());

  auto list = ParseEncoderList(
      " ------\n V....D ok_row  Desc (codec h264)\n Q..... bad_media  x\n V.. short  x\n"
      " V....D\n V..*.. bad_flag  x\n A..... last_unterminated  Last (codec pcm_s16le)");
  ASSERT_EQ(list.size(), 2u);
  EXPECT_EQ(list[0].name, "ok_row");
  EXPECT_EQ(list[0].codec, "h264");
  EXPECT_EQ(list[1].name, "last_unterminated");
  EXPECT_EQ(list[1].codec, "pcm_s16le");
}

TEST(BuildInfo, VersionAndBuildconfGiveTheSameConfiguration) {
  auto from_version = FeedThreeWays<BuildInfoParser>(Fixture("ff5.1-version.txt"));
  auto from_buildconf = FeedThreeWays<BuildInfoParser>(Fixture("ff5.1-buildconf.txt"));
  const FfmpegBuild& b = from_version[0].build();
  EXPECT_TRUE(b.version.known);
  EXPECT_EQ(b.version.text, "5.1.9-0+deb12u1");
  EXPECT_EQ(b.version.major, 5);
  EXPECT_EQ(b.version.minor, 1);
  EXPECT_EQ(b.version.patch, 9);
  ASSERT_EQ(b.configuration.size(), 74u);
  EXPECT_EQ(b.configuration.front(), "--prefix=/usr");
  EXPECT_EQ(b.configuration[1], "--extra-version=0+deb12u1");
  EXPECT_EQ(b.configuration.back(), "--enable-shared");
  ASSERT_EQ(b.libraries.size(), 8u);
  EXPECT_EQ(b.libraries[0], (std::pair<std::string, std::string>{"libavutil", "57.28.100"}));
  EXPECT_EQ(b.libraries[1], (std::pair<std::string, std::string>{"libavcodec", "59.37.100"}));
  EXPECT_EQ(b.libraries[5], (std::pair<std::string, std::string>{"libswscale", "6.7.100"}));
  for (const auto& p : from_version) {
    EXPECT_EQ(p.build().configuration, b.configuration);
    EXPECT_EQ(p.build().libraries, b.libraries);
    EXPECT_EQ(p.build().version.text, b.version.text);
  }
  for (const auto& p : from_buildconf) {
    EXPECT_EQ(p.build().configuration, b.configuration);
    EXPECT_TRUE(p.build().libraries.empty());
    EXPECT_FALSE(p.build().version.known);
  }
}

// The banner ffmpeg prints on stderr (here of `ffmpeg -buildconf`, which run mode reads for the
// result's audit) indents its lines: the same version, configuration and library versions as
// `ffmpeg -version`, each library normalised to its loaded version ("57. 28.100" -> "57.28.100").
TEST(BuildInfo, TheStderrBannerGivesWhatVersionGives) {
  FfmpegBuild version = ParseBuildInfo(Fixture("ff5.1-version.txt"));
  auto from_banner = FeedThreeWays<BuildInfoParser>(Fixture("ff5.1-buildconf-banner.stderr"));
  for (const auto& p : from_banner) {
    const FfmpegBuild& b = p.build();
    EXPECT_EQ(b.version.text, "5.1.9-0+deb12u1");
    EXPECT_EQ(b.configuration, version.configuration);
    EXPECT_EQ(b.libraries, version.libraries);
    ASSERT_EQ(b.libraries.size(), 8u);
    EXPECT_EQ(b.libraries.front(), (std::pair<std::string, std::string>{"libavutil", "57.28.100"}));
    EXPECT_EQ(b.libraries.back(), (std::pair<std::string, std::string>{"libpostproc", "56.6.100"}));
  }
}

TEST(BuildInfo, SplitsConfigurationLikeBuildconf) {
  EXPECT_EQ(SplitConfiguration(" --prefix=/usr --enable-gpl"),
            (std::vector<std::string>{"--prefix=/usr", "--enable-gpl"}));
  // A value with spaces stays whole; so does "pkg-config --static".
  EXPECT_EQ(SplitConfiguration("--extra-cflags='-O2 -g -I/x' --pkg-config=pkg-config --static "
                               "--enable-nvenc"),
            (std::vector<std::string>{"--extra-cflags='-O2 -g -I/x'",
                                      "--pkg-config=pkg-config --static", "--enable-nvenc"}));
  EXPECT_TRUE(SplitConfiguration("").empty());
  EXPECT_TRUE(SplitConfiguration("   ").empty());
}

TEST(KnownEncoders, FamiliesAndLookup) {
  ASSERT_EQ(KnownEncoders().size(), 13u);
  EXPECT_EQ(KnownEncoderNames(),
            "libx264, libx265, libsvtav1, libvpx-vp9, h264_nvenc, hevc_nvenc, av1_nvenc, "
            "h264_vaapi, hevc_vaapi, av1_vaapi, h264_qsv, hevc_qsv, av1_qsv");
  for (const KnownEncoder& e : KnownEncoders()) {
    EXPECT_EQ(EncoderFamilyOf(e.name), e.family) << e.name;
    EXPECT_EQ(FindKnownEncoder(e.name), &e);
  }
  EXPECT_EQ(FindKnownEncoder("h264_nvnec"), nullptr);
  EXPECT_EQ(FindKnownEncoder("av1_nvenc")->codec, "av1");
  EXPECT_EQ(EncoderFamilyOf("vp9_qsv"), EncoderFamily::kQsv);
  EXPECT_EQ(EncoderFamilyOf("libaom-av1"), EncoderFamily::kSoftware);
  EXPECT_EQ(EncoderFamilyName(EncoderFamily::kNvenc), "nvenc");
  EXPECT_EQ(EncoderFamilyName(EncoderFamily::kSoftware), "software");
}

}  // namespace
}  // namespace ffpod
