#include "parsers/ffmpeg/program_name.h"

#include <gtest/gtest.h>

namespace ffpod {
namespace {

TEST(LooksLikeFfmpeg, FfmpegAndItsVersionedNames) {
  for (const char* name : {"ffmpeg", "/usr/bin/ffmpeg", "./ffmpeg", "/opt/ffmpeg-7.1/bin/ffmpeg",
                           "ffmpeg-7.1", "/usr/local/bin/ffmpeg_g", "ffmpeg7", "ffmpeg-static"}) {
    EXPECT_TRUE(LooksLikeFfmpeg(name)) << name;
  }
}

TEST(LooksLikeFfmpeg, WrappersAndOtherPrograms) {
  for (const char* name :
       {"sh", "/bin/sh", "bash", "/work/encode.sh", "ffmpeg.sh", "ffmpegthumbnailer", "ffprobe",
        "my-ffmpeg", "/usr/lib/ffmpeg/", "FFMPEG", "", "/ffmpeg-dir/sh", "env"}) {
    EXPECT_FALSE(LooksLikeFfmpeg(name)) << name;
  }
}

}  // namespace
}  // namespace ffpod
