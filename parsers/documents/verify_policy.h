// What an output must hold before it is published (docs/verification.md): the job field
// `verify` and the worker's --verify-outputs default.
//
// Pure.
#pragma once

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "parsers/common/result.h"

namespace ffpod {

struct VerifyPolicy {
  bool enabled = true;
  // How far the output's duration may be from the expected one; nullopt: the larger of 0.5 s
  // and 1 % of the expected duration.
  std::optional<double> duration_tolerance_s;
  // More decode errors than this on ffmpeg's stderr (parsers/ffmpeg/decode_errors.h) make the
  // output invalid.
  uint64_t max_decode_errors = 100;
  // Stream kinds every verified output must have ("video", "audio", "subtitle"), on top of
  // those its -map options ask for.
  std::vector<std::string> require;
};

// The job field `verify` of `job`: absent or null (nullopt: the worker's default), `false`
// (off), `true` (the defaults), or an object with any of duration_tolerance_s (0 to 3600),
// max_decode_errors (an integer from 0) and require (an array of "video", "audio",
// "subtitle"). Errors name the field, e.g. `field "verify.require[1]" must be one of video,
// audio, subtitle`.
Result<std::optional<VerifyPolicy>> ParseVerifyField(const boost::json::object& job);

// The field as ParseVerifyField reads it back.
boost::json::value VerifyPolicyToJson(const VerifyPolicy& policy);

}  // namespace ffpod
