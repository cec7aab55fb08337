// W3C Trace Context (https://www.w3.org/TR/trace-context/): the `traceparent` and `tracestate`
// values a job carries, the ids of ffpod's spans, and how a child span's context follows from
// its parent's.
//
//   traceparent = version "-" trace-id "-" parent-id "-" trace-flags
//                 "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
//   version 00 is exactly 55 characters; a later version (not "ff") may append "-..." fields,
//   which are ignored. Lowercase hex only; an all-zero trace-id or parent-id is invalid.
//
//   tracestate  = list-member 0*31( OWS "," OWS list-member ), members "key=value", keys
//                 unique; empty members are allowed. An invalid tracestate (bad key or value,
//                 duplicate key, more than 32 members) is discarded whole; the traceparent
//                 stays. Its canonical form joins the members with "," and no spaces.
//
// Ids are made from randomness the caller supplies, so everything here is pure and
// deterministic. Thread-compatible.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace ffpod {

using TraceId = std::array<uint8_t, 16>;
using SpanId = std::array<uint8_t, 8>;

inline constexpr uint8_t kTraceFlagSampled = 0x01;

// A span's identity within its trace, as traceparent/tracestate carry it.
struct SpanContext {
  TraceId trace_id{};
  SpanId span_id{};
  uint8_t trace_flags = kTraceFlagSampled;
  std::string trace_state;  // canonical tracestate, empty when none
  bool remote = false;      // parsed from a traceparent (created elsewhere), not by ffpod

  bool sampled() const { return (trace_flags & kTraceFlagSampled) != 0; }
  // Both ids are non-zero.
  bool valid() const;
};

bool IsZeroId(const TraceId& id);
bool IsZeroId(const SpanId& id);

// 32 / 16 lowercase hex digits.
std::string ToHex(const TraceId& id);
std::string ToHex(const SpanId& id);
// Exactly 32 / 16 lowercase hex digits (zero ids included); nullopt otherwise.
std::optional<TraceId> TraceIdFromHex(std::string_view hex);
std::optional<SpanId> SpanIdFromHex(std::string_view hex);

// The context traceparent `tp` names (remote = true), with `tracestate` in canonical form (empty
// when absent or invalid). nullopt when the traceparent is not valid W3C: then a new trace
// starts and the tracestate is ignored too.
std::optional<SpanContext> ParseTraceparent(std::string_view tp, std::string_view tracestate = {});

// "00-<trace-id>-<span-id>-<flags>" of `context`.
std::string FormatTraceparent(const SpanContext& context);

// The canonical form of a tracestate value ("" for an empty one), or nullopt when it is
// invalid.
std::optional<std::string> NormalizeTracestate(std::string_view tracestate);

// Ids from the caller's random bits. An all-zero draw (invalid in W3C) becomes the id whose
// last byte is 1, so the result is always valid.
TraceId MakeTraceId(uint64_t random_high, uint64_t random_low);
SpanId MakeSpanId(uint64_t random);

// A context that starts a new trace (not remote).
SpanContext NewRootContext(const TraceId& trace_id, const SpanId& span_id,
                           uint8_t trace_flags = kTraceFlagSampled);

// The context of a span created by ffpod under `parent`: the parent's trace id, flags and
// tracestate, its own `span_id`, not remote.
SpanContext ChildContext(const SpanContext& parent, const SpanId& span_id);

}  // namespace ffpod
