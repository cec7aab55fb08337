// ffpod's SigV4 signer against botocore's (Debian's python3-botocore, run by
// tests/sigv4/reference.py through botocore.auth.S3SigV4Auth and S3SigV4QueryAuth): for every
// request ffpod's uploads and inputs send (a single PUT, the four multipart steps, a presigned
// GET and a presigned PUT), with and without a session token, path-style and virtual-host, on
// awkward keys and header values, the canonical request, the string to sign, the signature and
// the sent headers or URL must be byte for byte botocore's.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <filesystem>
#include <map>

#include "parsers/common/text.h"
#include "parsers/storage/sigv4.h"
#include "supervisor/storage/sha256.h"
#include "tests/harness/harness.h"

namespace ffpod::sigv4 {
namespace {

namespace json = boost::json;
using testing::RunCommand;

constexpr char kPython[] = "/usr/bin/python3";

struct Case {
  std::string kind;  // "headers" or "presign"
  Request request;
  std::string body;
  Credentials credentials;
  Scope scope;
  int expires = 0;
};

Case MakeCase(std::string kind, std::string method, std::string host, std::string path, Pairs query,
              Pairs headers, std::string body, std::string token) {
  Case c;
  c.kind = std::move(kind);
  c.request.method = std::move(method);
  c.request.host = std::move(host);
  c.request.path = std::move(path);
  c.request.query = std::move(query);
  c.request.headers = std::move(headers);
  c.request.payload_sha256 = Sha256Hex(body);
  c.body = std::move(body);
  c.credentials.access_key_id = "AKIDFFPODTEST0001";
  c.credentials.secret_access_key = "s3cr3t/Key+with=odd/chars0123456789abcd";
  c.credentials.session_token = std::move(token);
  c.scope.region = "eu-west-1";
  c.scope.amz_date = "20261207T231559Z";
  c.expires = 300;
  return c;
}

std::vector<Case> Cases() {
  const std::string token = "IQoJb3JpZ2luX2VjE/long+session=token//";
  const std::string path_host = "127.0.0.1:9000";
  const std::string vhost = "media.s3.eu-west-1.amazonaws.com";
  const std::string upload_id = "VXBsb2FkIElE/of+a=multipart";
  const std::string complete =
      "<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>\"e1\"</ETag>"
      "</Part></CompleteMultipartUpload>";
  std::vector<Case> cases;
  for (const std::string& t : {std::string(), token}) {
    cases.push_back(
        MakeCase("headers", "PUT", path_host, "/media/out/a b+c=d&e/\xc3\xa9t\xc3\xa9~x.mp4", {},
                 {{"Content-Type", "video/mp4"},
                  {"x-amz-checksum-sha256", "LCa0a2j/xo/5m0U8HTBBNBNCLXBkg7+g+YpeiGJm564="}},
                 "0123456789 media bytes", t));
    cases.push_back(MakeCase("headers", "POST", vhost, "/hls/index.m3u8", {{"uploads", ""}},
                             {{"Content-Type", "application/vnd.apple.mpegurl"}}, "", t));
    cases.push_back(MakeCase("headers", "PUT", vhost, "/hls/index.m3u8",
                             {{"partNumber", "10"}, {"uploadId", upload_id}},
                             {{"Content-MD5", "1B2M2Y8AsgTpgAmY7PhCfg=="},
                              {"X-Amz-Meta-Note", "  two   spaced\twords "}},
                             std::string(70000, 'p'), t));
    cases.push_back(MakeCase("headers", "POST", vhost, "/hls/index.m3u8", {{"uploadId", upload_id}},
                             {{"Content-Type", "application/xml"}}, complete, t));
    cases.push_back(MakeCase("headers", "DELETE", path_host, "/media/hls/index.m3u8",
                             {{"uploadId", upload_id}}, {}, "", t));
    cases.push_back(
        MakeCase("presign", "GET", path_host, "/media/in/source file (1).mov", {}, {}, "", t));
    cases.push_back(
        MakeCase("presign", "GET", vhost, "/in/a//b/./c", {{"versionId", "3/L4kq"}}, {}, "", t));
    cases.push_back(MakeCase("presign", "PUT", vhost, "/out/result.mp4", {}, {}, "", t));
  }
  cases.back().expires = 604800;
  return cases;
}

json::array ToJson(const Pairs& pairs) {
  json::array out;
  for (const auto& [name, value] : pairs) out.push_back(json::array{name.c_str(), value.c_str()});
  return out;
}

json::value Describe(const Case& c) {
  return json::object{
      {"kind", c.kind},
      {"method", c.request.method},
      {"host", c.request.host},
      {"path", c.request.path},
      {"query", ToJson(c.request.query)},
      {"headers", ToJson(c.request.headers)},
      {"body", c.body},
      {"access_key", c.credentials.access_key_id},
      {"secret_key", c.credentials.secret_access_key},
      {"token", c.credentials.session_token},
      {"region", c.scope.region},
      {"amz_date", c.scope.amz_date},
      {"expires", c.expires},
  };
}

json::array Reference(const std::vector<Case>& cases) {
  json::array description;
  for (const Case& c : cases) description.push_back(Describe(c));
  testing::TempDir dir;
  testing::WriteFile(dir / "cases.json", json::serialize(description));
  auto r = RunCommand(
      {kPython, std::string(FFPOD_SOURCE_DIR) + "/tests/sigv4/reference.py", dir / "cases.json"},
      std::chrono::seconds(60));
  if (r.status != 0) {
    ADD_FAILURE() << "tests/sigv4/reference.py failed (python3-boto3 must be installed: "
                     "scripts/setup installs it):\n"
                  << r.err;
    return {};
  }
  return json::parse(r.out).as_array();
}

Hashes OpenSsl() { return Hashes{.sha256_hex = Sha256Hex, .hmac_sha256 = HmacSha256}; }

std::string Text(const json::value& v, std::string_view key) {
  return std::string(v.as_object().at(key).as_string());
}

TEST(SigV4Reference, EveryStepIsBotocoresOnTheSameRequests) {
  std::vector<Case> cases = Cases();
  json::array expected = Reference(cases);
  ASSERT_EQ(expected.size(), cases.size());
  for (size_t i = 0; i < cases.size(); ++i) {
    const Case& c = cases[i];
    SCOPED_TRACE(c.kind + " " + c.request.method + " " + c.request.path +
                 " token=" + (c.credentials.session_token.empty() ? "no" : "yes"));
    const json::value& want = expected[i];
    if (c.kind == "headers") {
      SignedRequest got = SignHeaders(OpenSsl(), c.credentials, c.scope, c.request);
      EXPECT_EQ(got.canonical_request, Text(want, "canonical_request"));
      EXPECT_EQ(got.string_to_sign, Text(want, "string_to_sign"));
      EXPECT_EQ(got.signature, Text(want, "signature"));
      std::map<std::string, std::string> sent, wanted;
      for (const auto& [name, value] : got.headers) sent[AsciiLowered(name)] = value;
      for (const auto& [name, value] : want.as_object().at("headers").as_object()) {
        wanted[std::string(name)] = std::string(value.as_string());
      }
      EXPECT_EQ(sent, wanted);
    } else {
      PresignedUrl got = Presign(OpenSsl(), c.credentials, c.scope, c.request, c.expires);
      EXPECT_EQ(got.canonical_request, Text(want, "canonical_request"));
      EXPECT_EQ(got.string_to_sign, Text(want, "string_to_sign"));
      EXPECT_EQ(got.signature, Text(want, "signature"));
      EXPECT_EQ("http://" + c.request.host + got.path_and_query, Text(want, "url"));
    }
  }
}

}  // namespace
}  // namespace ffpod::sigv4
