#include "parsers/config/child_env.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

namespace ffpod {
namespace {

using Entries = std::vector<std::string>;

const Entries kFfpodEnvironment = {
    "PATH=/usr/local/bin:/usr/bin",
    "HOME=/home/ffpod",
    "TZ=Europe/Paris",
    "LANG=C.UTF-8",
    "LC_ALL=C.UTF-8",
    "https_proxy=http://proxy:3128",
    "NO_PROXY=.svc",
    "SSL_CERT_FILE=/etc/ssl/ca.pem",
    "NVIDIA_VISIBLE_DEVICES=all",
    "CUDA_VISIBLE_DEVICES=0",
    "LIBVA_DRIVER_NAME=iHD",
    "FFPOD_REDIS=redis://:hunter2@redis:6379",
    "FFPOD_REPORT_REDIS=redis://:hunter2@redis:6379",
    "OTEL_EXPORTER_OTLP_HEADERS=authorization=Bearer%20hunter2",
    "OTEL_EXPORTER_OTLP_TRACES_HEADERS=x-api-key=hunter2",
    "OTEL_EXPORTER_OTLP_ENDPOINT=http://collector:4318",
    "AWS_ACCESS_KEY_ID=AKIAEXAMPLE",
    "AWS_SECRET_ACCESS_KEY=hunter2",
    "FFREPORT=file=/tmp/report.log",
    "KUBERNETES_SERVICE_HOST=10.0.0.1",
    "MY_APP_MODE=fast",
    "MY_APP_LEVEL=3",
    "MY_APPLE=no",
    "no-equals-sign",
};

TEST(ChildEnvironment, FfmpegGetsNoneOfFfpodsCredentials) {
  Entries env = ChildEnvironment(kFfpodEnvironment, {});
  EXPECT_EQ(env,
            (Entries{"PATH=/usr/local/bin:/usr/bin", "HOME=/home/ffpod", "TZ=Europe/Paris",
                     "LANG=C.UTF-8", "LC_ALL=C.UTF-8", "https_proxy=http://proxy:3128",
                     "NO_PROXY=.svc", "SSL_CERT_FILE=/etc/ssl/ca.pem", "NVIDIA_VISIBLE_DEVICES=all",
                     "CUDA_VISIBLE_DEVICES=0", "LIBVA_DRIVER_NAME=iHD"}));
  for (const std::string& e : env) EXPECT_EQ(e.find("hunter2"), std::string::npos) << e;
}

TEST(ChildEnvironment, NamesTheOperatorGivesPassEvenWhenTheyLookLikeCredentials) {
  Entries env = ChildEnvironment(kFfpodEnvironment, Entries{"AWS_ACCESS_KEY_ID", "MY_APP_*"});
  auto has = [&env](const std::string& e) {
    return std::find(env.begin(), env.end(), e) != env.end();
  };
  EXPECT_TRUE(has("AWS_ACCESS_KEY_ID=AKIAEXAMPLE"));
  EXPECT_TRUE(has("MY_APP_MODE=fast"));
  EXPECT_TRUE(has("MY_APP_LEVEL=3"));
  EXPECT_TRUE(has("TZ=Europe/Paris"));
  EXPECT_FALSE(has("MY_APPLE=no"));
  EXPECT_FALSE(has("AWS_SECRET_ACCESS_KEY=hunter2"));
  EXPECT_FALSE(has("FFPOD_REDIS=redis://:hunter2@redis:6379"));
}

TEST(ChildEnvironment, PatternsAreNamesOrPrefixes) {
  EXPECT_TRUE(EnvPatternCovers("LC_*", "LC_ALL"));
  EXPECT_TRUE(EnvPatternCovers("TZ", "TZ"));
  EXPECT_FALSE(EnvPatternCovers("TZ", "TZDIR"));
  EXPECT_FALSE(EnvPatternCovers("LC_*", "LANG"));
  for (const char* ok : {"SRT_LOG", "MY_APP_*", "_X", "a1", "AWS_*"}) {
    EXPECT_TRUE(IsEnvPattern(ok)) << ok;
  }
  for (const char* bad : {"", "*", "1X", "A-B", "A*B", "A=B", "A B", "**"}) {
    EXPECT_FALSE(IsEnvPattern(bad)) << bad;
  }
}

}  // namespace
}  // namespace ffpod
