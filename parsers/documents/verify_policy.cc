#include "parsers/documents/verify_policy.h"

#include <algorithm>
#include <cmath>

namespace ffpod {

namespace json = boost::json;

namespace {

Error VerifyError(const std::string& field, const std::string& what) {
  return Error{"field \"verify" + field + "\" " + what};
}

Status ParseRequire(const json::value& v, VerifyPolicy& policy) {
  if (!v.is_array() || v.as_array().size() > 3) {
    return VerifyError(".require", "must be an array of video, audio, subtitle");
  }
  for (size_t i = 0; i < v.as_array().size(); ++i) {
    const json::value& kind = v.as_array()[i];
    bool known = kind.is_string() && (kind.as_string() == "video" || kind.as_string() == "audio" ||
                                      kind.as_string() == "subtitle");
    if (!known) {
      return VerifyError(".require[" + std::to_string(i) + "]",
                         "must be one of video, audio, subtitle");
    }
    std::string name(kind.as_string());
    if (std::find(policy.require.begin(), policy.require.end(), name) == policy.require.end()) {
      policy.require.push_back(std::move(name));
    }
  }
  return Status::Ok();
}

Status ParseMember(const json::key_value_pair& kv, VerifyPolicy& policy) {
  const json::value& v = kv.value();
  if (kv.key() == "duration_tolerance_s") {
    if (!v.is_number() || !(v.to_number<double>() >= 0) || v.to_number<double>() > 3600) {
      return VerifyError(".duration_tolerance_s", "must be a number of seconds from 0 to 3600");
    }
    policy.duration_tolerance_s = v.to_number<double>();
  } else if (kv.key() == "max_decode_errors") {
    bool whole = (v.is_int64() && v.as_int64() >= 0) || v.is_uint64();
    if (!whole) return VerifyError(".max_decode_errors", "must be an integer from 0");
    policy.max_decode_errors = v.is_uint64() ? v.as_uint64() : static_cast<uint64_t>(v.as_int64());
  } else if (kv.key() == "require") {
    return ParseRequire(v, policy);
  } else {
    return VerifyError("", "has an unknown key \"" + std::string(kv.key()) +
                               "\" (known: duration_tolerance_s, max_decode_errors, require)");
  }
  return Status::Ok();
}

}  // namespace

Result<std::optional<VerifyPolicy>> ParseVerifyField(const json::object& job) {
  const json::value* v = job.if_contains("verify");
  if (v == nullptr || v->is_null()) return std::optional<VerifyPolicy>();
  VerifyPolicy policy;
  if (v->is_bool()) {
    policy.enabled = v->as_bool();
    return std::optional<VerifyPolicy>(policy);
  }
  if (!v->is_object()) return VerifyError("", "must be false, true or an object");
  for (const auto& kv : v->as_object()) {
    if (Status s = ParseMember(kv, policy); !s.ok()) return s.error();
  }
  return std::optional<VerifyPolicy>(policy);
}

json::value VerifyPolicyToJson(const VerifyPolicy& policy) {
  if (!policy.enabled) return false;
  json::object obj;
  if (policy.duration_tolerance_s) obj["duration_tolerance_s"] = *policy.duration_tolerance_s;
  obj["max_decode_errors"] = policy.max_decode_errors;
  if (!policy.require.empty()) {
    json::array kinds;
    for (const auto& k : policy.require) kinds.emplace_back(k);
    obj["require"] = std::move(kinds);
  }
  return obj;
}

}  // namespace ffpod
