#include "parsers/documents/job.h"

#include <algorithm>
#include <boost/json.hpp>
#include <cmath>

#include "parsers/common/json_text.h"
#include "parsers/common/text.h"
#include "parsers/ffmpeg/ffmpeg_args.h"
#include "parsers/telemetry/log_format.h"

namespace ffpod {

namespace json = boost::json;

bool IsValidJobId(std::string_view id) {
  if (id.empty() || id.size() > 128) return false;
  for (char c : id) {
    bool ok = IsAsciiAlnum(c) || c == '.' || c == '_' || c == ':' || c == '-';
    if (!ok) return false;
  }
  return true;
}

namespace {

bool IsLowerHex(std::string_view s) {
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return HexDigitValue(c, HexCase::kLower) >= 0; });
}

bool AllZero(std::string_view s) { return s.find_first_not_of('0') == std::string_view::npos; }

Error FieldError(std::string_view field, std::string_view expected) {
  return Error{"field \"" + std::string(field) + "\" " + std::string(expected)};
}

// A positive number field, as int or double; `integral` rejects fractions.
Result<double> PositiveNumber(const json::value& v, std::string_view field, bool integral,
                              double max) {
  double d;
  if (v.is_int64()) {
    d = static_cast<double>(v.as_int64());
  } else if (v.is_uint64()) {
    d = static_cast<double>(v.as_uint64());
  } else if (v.is_double() && !integral) {
    d = v.as_double();
  } else {
    return FieldError(field, integral ? "must be a positive integer" : "must be a positive number");
  }
  if (!std::isfinite(d) || d <= 0 || d > max) {
    return FieldError(
        field, "must be greater than 0 and at most " + std::to_string(static_cast<int64_t>(max)));
  }
  return d;
}

}  // namespace

bool IsValidTraceparent(std::string_view tp) {
  // version "-" trace-id "-" parent-id "-" flags; version ff is invalid.
  if (tp.size() < 55) return false;
  if (tp[2] != '-' || tp[35] != '-' || tp[52] != '-') return false;
  std::string_view version = tp.substr(0, 2), trace = tp.substr(3, 32), span = tp.substr(36, 16),
                   flags = tp.substr(53, 2);
  if (!IsLowerHex(version) || version == "ff" || !IsLowerHex(trace) || !IsLowerHex(span) ||
      !IsLowerHex(flags)) {
    return false;
  }
  if (AllZero(trace) || AllZero(span)) return false;
  // Version 00 has exactly 55 characters; later versions may append "-..." fields.
  if (version == "00") return tp.size() == 55;
  return tp.size() == 55 || tp[55] == '-';
}

namespace {

// The fields of a job document with a grammar of their own; each names the field it rejects.
Result<std::string> ParseJobId(const json::object& obj) {
  const json::value* id = obj.if_contains("id");
  if (id == nullptr) return FieldError("id", "is missing");
  if (!id->is_string() || !IsValidJobId(id->as_string())) {
    return FieldError("id", "must be a string of 1-128 characters from [A-Za-z0-9._:-]");
  }
  return std::string(id->as_string());
}

Result<std::vector<std::string>> ParseJobArgs(const json::object& obj, const JobLimits& limits) {
  std::vector<std::string> out;
  const json::value* args = obj.if_contains("args");
  if (args == nullptr) return FieldError("args", "is missing");
  if (!args->is_array() || args->as_array().empty()) {
    return FieldError("args", "must be a non-empty array of strings");
  }
  if (args->as_array().size() > limits.max_args) {
    return FieldError("args", "has more than " + std::to_string(limits.max_args) + " elements");
  }
  for (size_t i = 0; i < args->as_array().size(); ++i) {
    const json::value& a = args->as_array()[i];
    std::string name = "args[" + std::to_string(i) + "]";
    if (!a.is_string()) return FieldError(name, "must be a string");
    std::string_view s = a.as_string();
    if (s.size() > limits.max_arg_bytes) {
      return FieldError(name, "is longer than " + std::to_string(limits.max_arg_bytes) + " bytes");
    }
    if (s.find('\0') != std::string_view::npos) return FieldError(name, "contains a NUL byte");
    out.emplace_back(s);
  }
  return out;
}

Result<std::vector<std::string>> ParseJobOutputs(const json::object& obj) {
  std::vector<std::string> out;
  if (const json::value* outputs = obj.if_contains("outputs"); outputs && !outputs->is_null()) {
    if (!outputs->is_array()) return FieldError("outputs", "must be an array of strings");
    for (size_t i = 0; i < outputs->as_array().size(); ++i) {
      const json::value& o = outputs->as_array()[i];
      std::string name = "outputs[" + std::to_string(i) + "]";
      if (!o.is_string() || o.as_string().empty())
        return FieldError(name, "must be a non-empty string");
      std::string_view path = o.as_string();
      if (path.find("://") != std::string_view::npos || path.starts_with("pipe:") || path == "-") {
        return FieldError(name, "must be a local file path (outputs are published by rename)");
      }
      if (path.find('\0') != std::string_view::npos) return FieldError(name, "contains a NUL byte");
      out.emplace_back(path);
    }
  }
  return out;
}

Result<std::map<std::string, std::string>> ParseJobLabels(const json::object& obj,
                                                          const JobLimits& limits) {
  std::map<std::string, std::string> out;
  if (const json::value* v = obj.if_contains("labels"); v && !v->is_null()) {
    if (!v->is_object()) return FieldError("labels", "must be an object of strings");
    if (v->as_object().size() > limits.max_labels) {
      return FieldError("labels", "has more than " + std::to_string(limits.max_labels) + " keys");
    }
    for (const auto& kv : v->as_object()) {
      if (!kv.value().is_string()) {
        return FieldError("labels." + std::string(kv.key()), "must be a string");
      }
      out[std::string(kv.key())] = std::string(kv.value().as_string());
    }
  }
  return out;
}

}  // namespace

Result<JobSpec> ParseJob(std::string_view document, const JobLimits& limits) {
  if (document.size() > limits.max_document_bytes) {
    return Error{"job document is " + std::to_string(document.size()) + " bytes, more than the " +
                 std::to_string(limits.max_document_bytes) + "-byte limit"};
  }
  json::parse_options opts;
  opts.max_depth = 32;
  boost::system::error_code ec;
  json::value root = json::parse(document, ec, {}, opts);
  if (ec) return Error{"job document is not valid JSON (" + ec.message() + ")"};
  if (!root.is_object()) return Error{"job document must be a JSON object"};
  const json::object& obj = root.as_object();
  JobSpec job;

  auto id = ParseJobId(obj);
  if (!id) return id.error();
  job.id = std::move(id).value();

  if (const json::value* v = obj.if_contains("group"); v && !v->is_null()) {
    if (!v->is_string() || !IsValidJobId(v->as_string())) {
      return FieldError("group", "must be a string of 1-128 characters from [A-Za-z0-9._:-]");
    }
    job.group = std::string(v->as_string());
  }
  if (const json::value* v = obj.if_contains("group_size"); v && !v->is_null()) {
    auto n = PositiveNumber(*v, "group_size", true, 100000);
    if (!n) return n.error();
    job.group_size = static_cast<int>(*n);
    if (job.group.empty()) return FieldError("group_size", "needs the field \"group\"");
  }

  auto args = ParseJobArgs(obj, limits);
  if (!args) return args.error();
  job.args = std::move(args).value();

  auto outputs = ParseJobOutputs(obj);
  if (!outputs) return outputs.error();
  job.outputs = std::move(outputs).value();

  if (const json::value* v = obj.if_contains("max_attempts"); v && !v->is_null()) {
    auto n = PositiveNumber(*v, "max_attempts", true, limits.max_attempts_cap);
    if (!n) return n.error();
    job.max_attempts = static_cast<int>(*n);
  }
  if (const json::value* v = obj.if_contains("timeout_s"); v && !v->is_null()) {
    auto n = PositiveNumber(*v, "timeout_s", false, 30 * 24 * 3600.0);
    if (!n) return n.error();
    job.timeout_s = *n;
  }
  if (const json::value* v = obj.if_contains("stall_timeout_s"); v && !v->is_null()) {
    auto n = PositiveNumber(*v, "stall_timeout_s", false, 30 * 24 * 3600.0);
    if (!n) return n.error();
    job.stall_timeout_s = *n;
  }
  if (const json::value* v = obj.if_contains("traceparent"); v && !v->is_null()) {
    if (!v->is_string()) return FieldError("traceparent", "must be a string");
    // W3C Trace Context: an invalid traceparent is ignored (a new trace starts), not an error.
    if (IsValidTraceparent(v->as_string())) {
      job.traceparent = std::string(v->as_string());
    } else {
      job.traceparent_ignored = true;
    }
  }
  if (const json::value* v = obj.if_contains("tracestate"); v && !v->is_null()) {
    if (!v->is_string()) return FieldError("tracestate", "must be a string");
    if (v->as_string().size() <= 512) job.tracestate = std::string(v->as_string());
  }
  if (const json::value* v = obj.if_contains("enqueued_at"); v && v->is_string()) {
    job.enqueued_at = ParseTimestamp(v->as_string());
  }
  auto labels = ParseJobLabels(obj, limits);
  if (!labels) return labels.error();
  job.labels = std::move(labels).value();
  auto verify = ParseVerifyField(obj);
  if (!verify) return verify.error();
  job.verify = std::move(verify).value();
  auto routing = ParseJobRouting(obj, limits.max_args, limits.max_arg_bytes);
  if (!routing) return routing.error();
  job.routing = std::move(routing).value();
  return job;
}

Status CheckJobOutputs(const JobSpec& job) {
  if (job.outputs.empty()) return Status::Ok();
  FfmpegCommand cmd = AnalyzeFfmpegArgs(job.args);
  for (size_t i = 0; i < job.outputs.size(); ++i) {
    bool found = false;
    for (const auto& o : cmd.outputs) found = found || o.url == job.outputs[i];
    if (!found) {
      return Error{"field \"outputs[" + std::to_string(i) + "]\" (\"" + job.outputs[i] +
                   "\") is not an output of the ffmpeg arguments"};
    }
    for (const auto& in : cmd.inputs) {
      if (in.url == job.outputs[i]) {
        return Error{"field \"outputs[" + std::to_string(i) + "]\" (\"" + job.outputs[i] +
                     "\") is also an input: publishing it would replace what ffmpeg reads"};
      }
    }
  }
  return Status::Ok();
}

std::string SalvageJobId(std::string_view document) {
  if (document.size() > (1 << 24)) return {};
  boost::system::error_code ec;
  json::value root = json::parse(document, ec);
  if (ec || !root.is_object()) return {};
  const json::value* id = root.as_object().if_contains("id");
  if (id == nullptr || !id->is_string() || !IsValidJobId(id->as_string())) return {};
  return std::string(id->as_string());
}

std::string MakeJobDocument(const JobSpec& job) {
  json::object obj;
  obj["id"] = job.id;
  json::array args;
  for (const auto& a : job.args) args.emplace_back(a);
  obj["args"] = std::move(args);
  if (!job.outputs.empty()) {
    json::array outs;
    for (const auto& o : job.outputs) outs.emplace_back(o);
    obj["outputs"] = std::move(outs);
  }
  if (!job.group.empty()) obj["group"] = job.group;
  if (job.group_size) obj["group_size"] = *job.group_size;
  if (job.max_attempts) obj["max_attempts"] = *job.max_attempts;
  if (job.timeout_s) obj["timeout_s"] = *job.timeout_s;
  if (job.stall_timeout_s) obj["stall_timeout_s"] = *job.stall_timeout_s;
  if (!job.traceparent.empty()) obj["traceparent"] = job.traceparent;
  if (!job.tracestate.empty()) obj["tracestate"] = job.tracestate;
  if (job.enqueued_at) obj["enqueued_at"] = FormatTimestamp(*job.enqueued_at);
  if (job.verify) obj["verify"] = VerifyPolicyToJson(*job.verify);
  if (!job.labels.empty()) {
    json::object labels;
    for (const auto& [k, v] : job.labels) labels[k] = v;
    obj["labels"] = std::move(labels);
  }
  if (!job.routing.reroute.empty()) obj["reroute"] = RoutesToJson(job.routing.reroute);
  return JsonText(obj);
}

std::string_view ResultStatusName(ResultStatus status) {
  switch (status) {
    case ResultStatus::kSucceeded:
      return "succeeded";
    case ResultStatus::kFailed:
      return "failed";
    case ResultStatus::kRetrying:
      return "retrying";
    case ResultStatus::kPreempted:
      return "preempted";
    case ResultStatus::kDead:
      return "dead";
    case ResultStatus::kSuperseded:
      return "superseded";
    case ResultStatus::kCancelled:
      return "cancelled";
    case ResultStatus::kRerouted:
      return "rerouted";
  }
  return "failed";
}

namespace {

json::value OptionalNumber(const std::optional<double>& v, int decimals) {
  if (!v || !std::isfinite(*v)) return nullptr;
  double scale = std::pow(10.0, decimals);
  return std::round(*v * scale) / scale;
}

json::value OptionalInt(const std::optional<int64_t>& v) {
  if (!v) return nullptr;
  return *v;
}

// A playlist's counts: {"variants"} of a master, {"segments": {"count", "bytes", "duration_s"}}
// of a media playlist; `missing` only when a listed file does not exist.
void AddHlsJson(const HlsSummary& h, json::object& out) {
  if (h.master) {
    out["variants"] = h.variants;
  } else {
    out["segments"] = json::object{
        {"count", h.segments}, {"bytes", h.bytes}, {"duration_s", OptionalNumber(h.duration_s, 3)}};
  }
  if (h.missing > 0) out["missing"] = h.missing;
}

json::array OutputsJson(const std::vector<OutputFile>& files) {
  json::array outputs;
  for (const auto& o : files) {
    json::object out{{"path", o.path}, {"bytes", o.bytes}, {"sha256", o.sha256}};
    if (o.duration_s) {
      out["duration_s"] = OptionalNumber(o.duration_s, 3);
      json::array streams;
      for (const auto& kind : o.streams) streams.emplace_back(kind);
      out["streams"] = std::move(streams);
    }
    if (o.hls) AddHlsJson(*o.hls, out);
    outputs.push_back(std::move(out));
  }
  return outputs;
}

}  // namespace

json::object ResultToJson(const ResultDoc& r) {
  json::object obj;
  if (r.id.empty()) {
    obj["id"] = nullptr;
  } else {
    obj["id"] = r.id;
  }
  obj["attempt"] = r.attempt;
  obj["status"] = ResultStatusName(r.status);
  obj["reason"] = ReasonName(r.reason);
  obj["retryable"] = GetReasonInfo(r.reason).retryable;
  obj["message"] = SanitizeUtf8(r.message);
  if (r.exit) {
    json::object exit;
    switch (r.exit->kind) {
      case ExitStatus::Kind::kExited:
      case ExitStatus::Kind::kNotStarted:
        exit["code"] = r.exit->code;
        exit["signal"] = nullptr;
        break;
      case ExitStatus::Kind::kSignaled:
        exit["code"] = nullptr;
        exit["signal"] = r.exit->signal;
        break;
    }
    obj["exit"] = std::move(exit);
  } else {
    obj["exit"] = nullptr;
  }
  obj["started_at"] = r.started_at;
  obj["finished_at"] = r.finished_at;
  obj["duration_s"] = std::round(r.duration_s * 1000) / 1000;
  if (r.progress) {
    const ProgressView& p = *r.progress;
    json::object prog;
    prog["frames"] = OptionalInt(p.frames);
    prog["out_time_s"] = OptionalNumber(p.out_time_s, 3);
    prog["speed"] = OptionalNumber(p.speed, 3);
    prog["fps"] = OptionalNumber(p.fps, 2);
    prog["total_size_bytes"] = OptionalInt(p.total_size_bytes);
    prog["dup_frames"] = p.dup_frames;
    prog["drop_frames"] = p.drop_frames;
    obj["progress"] = std::move(prog);
  } else {
    obj["progress"] = nullptr;
  }
  obj["outputs"] = OutputsJson(r.outputs);
  if (r.verification.empty()) {
    obj["verification"] = nullptr;
  } else {
    obj["verification"] =
        json::object{{"status", r.verification}, {"message", SanitizeUtf8(r.verification_message)}};
  }
  json::object decode_errors;
  for (const auto& [kind, n] : r.decode_errors) decode_errors[kind] = n;
  obj["decode_errors"] = std::move(decode_errors);
  obj["ffmpeg"] = FfmpegAuditJson(r.ffmpeg_path, r.ffmpeg_version, r.audit.build);
  AddAuditJson(r.audit, obj);
  json::object worker;
  worker["id"] = r.worker.id;
  worker["pod"] = r.worker.pod.empty() ? json::value(nullptr) : json::value(r.worker.pod);
  worker["node"] = r.worker.node.empty() ? json::value(nullptr) : json::value(r.worker.node);
  obj["worker"] = std::move(worker);
  json::array tail;
  for (const auto& line : r.stderr_tail) tail.emplace_back(SanitizeUtf8(line));
  obj["stderr_tail"] = std::move(tail);
  obj["trace_id"] = r.trace_id.empty() ? json::value(nullptr) : json::value(r.trace_id);
  if (r.next_attempt_in_s) obj["next_attempt_in_s"] = OptionalNumber(r.next_attempt_in_s, 3);
  if (!r.rerouted_to.empty()) obj["rerouted_to"] = r.rerouted_to;
  return obj;
}

std::string SerializeResult(const ResultDoc& result) { return JsonText(ResultToJson(result)); }

int RunExitCode(bool classified, const ExitStatus& exit, Reason reason) {
  const ReasonInfo& info = GetReasonInfo(reason);
  if (classified) return info.classified_exit >= 0 ? info.classified_exit : 1;
  int code = exit.ShellCode();
  if (code == 0 && reason != Reason::kOk) {
    switch (reason) {
      case Reason::kPreempted:
        return 143;
      case Reason::kStalled:
      case Reason::kTimeout:
      case Reason::kCancelled:
        return 1;
      default:
        break;  // ffmpeg's own 0, e.g. a disk-full trailer error on 5.1
    }
  }
  return code;
}

std::string TerminationSummary(const ResultDoc& r, size_t max_bytes) {
  std::string line(ResultStatusName(r.status));
  line += ": reason=";
  line += ReasonName(r.reason);
  if (r.exit) {
    if (r.exit->kind == ExitStatus::Kind::kSignaled) {
      line += " signal=" + SignalName(r.exit->signal);
    } else {
      line += " exit=" + std::to_string(r.exit->code);
    }
  }
  if (!r.message.empty()) {
    line += " message=";
    for (char c : r.message) line += (c == '\n' || c == '\r') ? ' ' : c;
  }
  line = SanitizeUtf8(line);
  const size_t budget = max_bytes > 0 ? max_bytes - 1 : 0;  // room for the '\n'
  if (line.size() > budget) {
    size_t cut = budget;
    // Back up to the start of a UTF-8 sequence so the line stays valid.
    while (cut > 0 && (static_cast<unsigned char>(line[cut]) & 0xC0) == 0x80) --cut;
    line.resize(cut);
  }
  line += '\n';
  return line;
}

}  // namespace ffpod
