#include "parsers/telemetry/redact.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace ffpod {
namespace {

TEST(RedactUrl, UserInfo) {
  EXPECT_EQ(RedactUrl("rtmp://user:pass@live.example.com/app/stream"),
            "rtmp://REDACTED@live.example.com/app/stream");
  EXPECT_EQ(RedactUrl("srt://token@host:9000"), "srt://REDACTED@host:9000");
  // An unescaped '@' in the password: the last '@' before the host ends the user-info.
  EXPECT_EQ(RedactUrl("rtmp://u:p@ss@host/x"), "rtmp://REDACTED@host/x");
  EXPECT_EQ(RedactUrl("HTTPS://a:b@Example.com"), "HTTPS://REDACTED@Example.com");
  // '@' after the host is part of the path.
  EXPECT_EQ(RedactUrl("https://host/img@2x.png"), "https://host/img@2x.png");
}

TEST(RedactUrl, AwsPresigned) {
  EXPECT_EQ(
      RedactUrl("https://bucket.s3.amazonaws.com/in.mp4?X-Amz-Algorithm=AWS4-HMAC-SHA256"
                "&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20260101%2Fus-east-1%2Fs3%2Faws4_request"
                "&X-Amz-Date=20260101T000000Z&X-Amz-Expires=3600&X-Amz-SignedHeaders=host"
                "&X-Amz-Security-Token=FwoGZXIvYXdzEJr&X-Amz-Signature=0f1e2d3c4b5a69788796a5b4"),
      "https://bucket.s3.amazonaws.com/in.mp4?X-Amz-Algorithm=AWS4-HMAC-SHA256"
      "&X-Amz-Credential=REDACTED&X-Amz-Date=20260101T000000Z&X-Amz-Expires=3600"
      "&X-Amz-SignedHeaders=host&X-Amz-Security-Token=REDACTED&X-Amz-Signature=REDACTED");
}

TEST(RedactUrl, GoogleAzureCloudFrontAkamai) {
  EXPECT_EQ(RedactUrl("https://storage.googleapis.com/b/o.mp4?X-Goog-Algorithm=GOOG4-RSA-SHA256"
                      "&X-Goog-Credential=svc%40p.iam&X-Goog-Signature=abcdef"),
            "https://storage.googleapis.com/b/o.mp4?X-Goog-Algorithm=GOOG4-RSA-SHA256"
            "&X-Goog-Credential=REDACTED&X-Goog-Signature=REDACTED");
  EXPECT_EQ(RedactUrl("https://acct.blob.core.windows.net/c/v.mp4?sv=2022-11-02&sp=r"
                      "&se=2026-01-01T00:00:00Z&sig=abc%2Bdef%3D"),
            "https://acct.blob.core.windows.net/c/v.mp4?sv=2022-11-02&sp=r"
            "&se=2026-01-01T00:00:00Z&sig=REDACTED");
  EXPECT_EQ(RedactUrl("https://d1.cloudfront.net/v.m3u8?Expires=1767225600&Signature=Zx9~"
                      "&Key-Pair-Id=K2JCJMDEHXQW5F&Policy=eyJTdGF0"),
            "https://d1.cloudfront.net/v.m3u8?Expires=1767225600&Signature=REDACTED"
            "&Key-Pair-Id=REDACTED&Policy=REDACTED");
  EXPECT_EQ(RedactUrl("https://cdn.example.com/live.m3u8?__token__=exp=1~acl=*~hmac=ab12&hdnts=x"),
            "https://cdn.example.com/live.m3u8?__token__=REDACTED&hdnts=REDACTED");
}

TEST(RedactUrl, CommonCredentialParameters) {
  EXPECT_EQ(RedactUrl("https://h/x?token=t&access_token=a&api_key=k&key=k2&password=p&auth=z"
                      "&passphrase=s&streamkey=live_1&client_secret=c&start=10"),
            "https://h/x?token=REDACTED&access_token=REDACTED&api_key=REDACTED&key=REDACTED"
            "&password=REDACTED&auth=REDACTED&passphrase=REDACTED&streamkey=REDACTED"
            "&client_secret=REDACTED&start=10");
  // Case-insensitive, percent-encoded names, ';' separators and fragments.
  EXPECT_EQ(RedactUrl("https://h/x?SIG=1;TOKEN=2&X%2DAmz%2DSignature=3#access_token=4&state=5"),
            "https://h/x?SIG=REDACTED;TOKEN=REDACTED&X%2DAmz%2DSignature=REDACTED"
            "#access_token=REDACTED&state=5");
  // Empty values stay empty; names that merely contain a secret word are kept.
  EXPECT_EQ(RedactUrl("https://h/x?token=&token_type=bearer&keyframes=1"),
            "https://h/x?token=&token_type=bearer&keyframes=1");
}

TEST(RedactUrl, NothingToRedact) {
  for (const char* url :
       {"/tmp/in.mp4", "pipe:1", "-", "https://example.com/a/b.mp4?start=1&end=2",
        "tcp://127.0.0.1:1935", "concat:a.ts|b.ts", "file:/data/x.mkv", "rtmp://host/live/cam"}) {
    EXPECT_EQ(RedactUrl(url), url);
  }
}

TEST(RedactText, FfmpegLines) {
  EXPECT_EQ(RedactText("[error] http://127.0.0.1:42311/forbidden.ts?X-Amz-Signature=abc123secret"
                       "&X-Amz-Credential=AKIAEXAMPLE: Server returned 403 Forbidden (access "
                       "denied)"),
            "[error] http://127.0.0.1:42311/forbidden.ts?X-Amz-Signature=REDACTED"
            "&X-Amz-Credential=REDACTED: Server returned 403 Forbidden (access denied)");
  EXPECT_EQ(RedactText("Input #0, hls, from 'https://u:p@cdn.example.com/live.m3u8?token=abc':"),
            "Input #0, hls, from 'https://REDACTED@cdn.example.com/live.m3u8?token=REDACTED':");
  EXPECT_EQ(RedactText("Failed to open progress URL \"tcp://user:pw@host:1/x\": Connection "
                       "refused"),
            "Failed to open progress URL \"tcp://REDACTED@host:1/x\": Connection refused");
  EXPECT_EQ(RedactText("[hls @ 0x1] Opening 'seg7.ts?sig=zzz&n=7' for reading"),
            "[hls @ 0x1] Opening 'seg7.ts?sig=REDACTED&n=7' for reading");
  EXPECT_EQ(RedactText("Output #0, flv, to 'rtmp://a:b@x/app' and 'rtmp://c:d@y/app':"),
            "Output #0, flv, to 'rtmp://REDACTED@x/app' and 'rtmp://REDACTED@y/app':");
}

TEST(RedactText, CredentialHeaders) {
  EXPECT_EQ(RedactText("Authorization: Bearer eyJhbGciOi.payload.sig"), "Authorization: REDACTED");
  EXPECT_EQ(RedactText("[http @ 0x1] authorization:Basic dXNlcjpwYXNz"),
            "[http @ 0x1] authorization: REDACTED");
  EXPECT_EQ(RedactText("Cookie: session=abc; theme=dark"), "Cookie: REDACTED");
  EXPECT_EQ(RedactText("X-Api-Key: 12345"), "X-Api-Key: REDACTED");
}

TEST(RedactText, LeavesOrdinaryLinesAlone) {
  for (const char* line :
       {"Server returned 401 Unauthorized (authorization failed)",
        "frame=   75 fps=0.0 q=-1.0 Lsize=      88kB time=00:00:03.00 bitrate= 240.5kbits/s",
        "  Stream #0:0 -> #0:0 (h264 (native) -> h264 (libx264))",
        "[tcp @ 0x5602bc8eb0c0] Connection to tcp://127.0.0.1:46835 failed: Connection refused",
        "[libx264 @ 0x1] using SAR=1/1", "email me at ops@example.com", ""}) {
    EXPECT_EQ(RedactText(line), line);
  }
}

TEST(RedactText, Idempotent) {
  std::string once = RedactText("https://a:b@h/x?sig=1&token=2 Authorization: Basic Zm9v");
  EXPECT_EQ(RedactText(once), once);
}

TEST(RedactArgs, UrlsAndSecretOptions) {
  std::vector<std::string> args = {"-headers",
                                   "Authorization: Bearer tok\r\nX-Trace: 1\r\n",
                                   "-i",
                                   "https://a:b@h/in.m3u8?sig=s1&q=1",
                                   "-passphrase",
                                   "hunter2hunter2",
                                   "-decryption_key",
                                   "00112233445566778899aabbccddeeff",
                                   "-srtp_out_params",
                                   "inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz",
                                   "-cookies",
                                   "sid=1; path=/",
                                   "-c:v",
                                   "libx264",
                                   "-encryption_key",
                                   "76a6c65c5ea762046bd749a2e632ccbb",
                                   "-f",
                                   "mp4",
                                   "s3out.mp4?X-Amz-Signature=abc",
                                   "-key"};
  std::vector<std::string> want = {"-headers",
                                   "REDACTED",
                                   "-i",
                                   "https://REDACTED@h/in.m3u8?sig=REDACTED&q=1",
                                   "-passphrase",
                                   "REDACTED",
                                   "-decryption_key",
                                   "REDACTED",
                                   "-srtp_out_params",
                                   "REDACTED",
                                   "-cookies",
                                   "REDACTED",
                                   "-c:v",
                                   "libx264",
                                   "-encryption_key",
                                   "REDACTED",
                                   "-f",
                                   "mp4",
                                   "s3out.mp4?X-Amz-Signature=REDACTED",
                                   "-key"};
  EXPECT_EQ(RedactArgs(args), want);
}

TEST(RedactArgs, StreamSpecifiersAndValuesThatLookLikeOptions) {
  EXPECT_EQ(RedactArgs({"-password:0", "p", "-key", "-headers", "-i", "x"}),
            (std::vector<std::string>{"-password:0", "REDACTED", "-key", "REDACTED", "-i", "x"}));
  EXPECT_EQ(RedactArgs({}), std::vector<std::string>{});
  EXPECT_EQ(RedactArgs({"-c:v", "libx264", "-crf", "20", "out.mp4"}),
            (std::vector<std::string>{"-c:v", "libx264", "-crf", "20", "out.mp4"}));
}

// What Debian's ffmpeg 5.1 printed at -loglevel debug (and at the default level for the errors)
// for jobs with secret options; the shapes are the same in 4.x to 8.x (fftools/cmdutils.c).
TEST(RedactText, FfmpegEchoOfASecretOptionValueIsRedacted) {
  const std::pair<std::string_view, std::string_view> kCases[] = {
      {"Reading option '-passphrase' ... matched as AVOption 'passphrase' with argument "
       "'SRTsecret99'.",
       "Reading option '-passphrase' ... matched as AVOption 'passphrase' with argument "
       "'REDACTED'."},
      {"[debug] Reading option '-hls_enc_key' ... matched as AVOption 'hls_enc_key' with "
       "argument '0123456789abcdef0123456789abcdef'.",
       "[debug] Reading option '-hls_enc_key' ... matched as AVOption 'hls_enc_key' with "
       "argument 'REDACTED'."},
      {"Reading option '-cookies' ... matched as AVOption 'cookies' with argument 'sid=c00kie; "
       "path=/'.",
       "Reading option '-cookies' ... matched as AVOption 'cookies' with argument 'REDACTED'."},
      // A -headers list goes on over several lines: the first one ends with the line.
      {"Reading option '-headers' ... matched as AVOption 'headers' with argument 'X-Team: t34m",
       "Reading option '-headers' ... matched as AVOption 'headers' with argument 'REDACTED"},
      {"Reading option '-key:v' ... matched as AVOption 'key:v' with argument 'k3yk3y'.",
       "Reading option '-key:v' ... matched as AVOption 'key:v' with argument 'REDACTED'."},
      {"Applying option password (the password) with argument pa55word.",
       "Applying option password (the password) with argument REDACTED."},
      {"Error parsing option 'decryption_key' with argument 'zz11'.",
       "Error parsing option 'decryption_key' with argument 'REDACTED'."},
      {"Failed to set value 'x'y' for option 'srtp_in_params': Invalid argument",
       "Failed to set value 'REDACTED' for option 'srtp_in_params': Invalid argument"},
      {"[mov,mp4,m4a,3gp,3g2,mj2 @ 0x55aa5b19f500] Error setting option decryption_key to value "
       "NOTHEXSECRET.",
       "[mov,mp4,m4a,3gp,3g2,mj2 @ 0x55aa5b19f500] Error setting option decryption_key to value "
       "REDACTED."},
  };
  for (const auto& [line, want] : kCases) EXPECT_EQ(RedactText(line), want);
  // Options that hold no secret, and paths to key files, stay readable.
  for (const char* line :
       {"Reading option '-c:v' ... matched as option 'c' (codec name) with argument 'libx264'.",
        "Applying option f (force format) with argument lavfi.",
        "Reading option '-hls_key_info_file' ... matched as AVOption 'hls_key_info_file' with "
        "argument 'keys/info.txt'.",
        "Reading option '-encryption_kid' ... matched as AVOption 'encryption_kid' with "
        "argument '00112233445566778899aabbccddeeff'."}) {
    EXPECT_EQ(RedactText(line), line);
  }
}

TEST(IsSecretOption, NamesStreamSpecifiersAndTheFileForm) {
  for (const char* arg : {"-passphrase", "-password", "-headers", "-cookies", "-key", "-key:v",
                          "-decryption_key", "-cryptokey", "-hls_enc_key", "-hls_enc_iv",
                          "-srtp_in_params", "-srtp_out_params", "-/key", "-authorization"}) {
    EXPECT_TRUE(IsSecretOption(arg)) << arg;
  }
  for (const char* arg : {"-hls_key_info_file", "-key_file", "-i", "key", "-", "-c:v"}) {
    EXPECT_FALSE(IsSecretOption(arg)) << arg;
  }
}

// ffmpeg prints a -headers list again in the request it sends (`-loglevel debug`), one header a
// line, where nothing says it came from -headers: the job's own values are what gives it away.
TEST(SecretValues, SecretOptionValuesAreRedactedWhereverTheyReappear) {
  SecretValues secrets({"-headers", "X-Team: t34m-s3cret\r\nAuthorization: Basic dXNlcjpw\r\n",
                        "-cookies", "sid=c00kie-v4l; path=/; domain=h", "-passphrase",
                        "SRTsecret99", "-i", "rtmp://live:hunt3r22@ingest/app", "-c:v", "libx264",
                        "out.mp4"});
  const std::pair<std::string_view, std::string_view> kCases[] = {
      {"X-Team: t34m-s3cret", "X-Team: REDACTED"},
      {"Authorization: Basic dXNlcjpw'.", "Authorization: REDACTED"},
      {"[http @ 0x1] Cookie: sid=c00kie-v4l", "[http @ 0x1] Cookie: REDACTED"},
      {"sid=c00kie-v4l; path=/; domain=h", "sid=REDACTED; path=/; domain=h"},
      {"[srt @ 0x2] passphrase SRTsecret99 is too short",
       "[srt @ 0x2] passphrase REDACTED is too short"},
      {"[rtmp @ 0x3] user live, password hunt3r22", "[rtmp @ 0x3] user live, password REDACTED"},
      {"Stream #0:0 -> #0:0 (h264 (native) -> h264 (libx264))",
       "Stream #0:0 -> #0:0 (h264 (native) -> h264 (libx264))"},
  };
  for (const auto& [line, want] : kCases) EXPECT_EQ(secrets.Redact(line), want);
  // Short pieces (the cookie's path "/") are not secrets of their own.
  EXPECT_EQ(secrets.Redact("path=/"), "path=/");
  EXPECT_TRUE(SecretValues({"-i", "in.mp4", "out.mp4"}).empty());
}

// The password is in the URL's authority: an '@' in its query is not the end of user-info.
TEST(SecretValues, AUrlPasswordEndsAtTheAuthority) {
  SecretValues secrets({"-i", "https://u:pw-s3cret@media.example/x?mail=a@b.c"});
  EXPECT_EQ(secrets.Redact("pw-s3cret"), "REDACTED");
  EXPECT_EQ(secrets.Redact("[https @ 0x1] Opening media.example/x?mail=a for reading"),
            "[https @ 0x1] Opening media.example/x?mail=a for reading");
}

// Whatever the wrapping, none of these secrets may survive.
TEST(Redact, NoLeaks) {
  const std::vector<std::string> secrets = {"s3cr3tSIG", "AKIAEXAMPLEKEY", "p4ssw0rd",
                                            "tok-123-abc", "hunter2"};
  const std::vector<std::string> texts = {
      "https://u:p4ssw0rd@h/x?X-Amz-Signature=s3cr3tSIG&X-Amz-Credential=AKIAEXAMPLEKEY",
      "[in#0 @ 0x1] Error opening input: 'rtmp://live:hunter2@ingest/app?token=tok-123-abc'",
      "'http://h/a.ts?Signature=s3cr3tSIG': Server returned 403 Forbidden (access denied)",
      "Authorization: Basic p4ssw0rd",
      "srt://h:1?passphrase=hunter2&mode=caller",
      "seg.ts?access_token=tok-123-abc#sig=s3cr3tSIG"};
  for (const std::string& t : texts) {
    std::string r = RedactText(t);
    for (const std::string& s : secrets) EXPECT_EQ(r.find(s), std::string::npos) << r;
  }
  std::vector<std::string> args = {"-headers", "Cookie: p4ssw0rd", "-i",        texts[0],
                                   "-key",     "hunter2",          "-password", "tok-123-abc"};
  for (const std::string& a : RedactArgs(args)) {
    for (const std::string& s : secrets) EXPECT_EQ(a.find(s), std::string::npos) << a;
  }
}

}  // namespace
}  // namespace ffpod
