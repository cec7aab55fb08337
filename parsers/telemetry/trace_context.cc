#include "parsers/telemetry/trace_context.h"

#include <algorithm>
#include <vector>

#include "parsers/common/text.h"

namespace ffpod {

namespace {

constexpr size_t kMaxTracestateMembers = 32;

// W3C trace context: ids and flags are lower-case hex only.
template <size_t N>
std::optional<std::array<uint8_t, N>> HexToBytes(std::string_view hex) {
  std::array<uint8_t, N> out{};
  if (!DecodeHex(hex, out, HexCase::kLower)) return std::nullopt;
  return out;
}

template <size_t N>
bool AllZero(const std::array<uint8_t, N>& bytes) {
  return std::all_of(bytes.begin(), bytes.end(), [](uint8_t b) { return b == 0; });
}

void PutBigEndian(uint64_t v, uint8_t* out) {
  for (int i = 7; i >= 0; --i) {
    out[i] = static_cast<uint8_t>(v & 0xff);
    v >>= 8;
  }
}

bool IsKeyChar(char c) {
  return IsAsciiLower(c) || IsDigit(c) || c == '_' || c == '-' || c == '*' || c == '/';
}

// simple-key = lcalpha 0*255(keychar)
// multi-tenant-key = (lcalpha / DIGIT) 0*240(keychar) "@" lcalpha 0*13(keychar)
bool IsValidTracestateKey(std::string_view key) {
  size_t at = key.find('@');
  if (at == std::string_view::npos) {
    if (key.empty() || key.size() > 256 || !IsAsciiLower(key[0])) return false;
    return std::all_of(key.begin() + 1, key.end(), IsKeyChar);
  }
  std::string_view tenant = key.substr(0, at), system = key.substr(at + 1);
  if (tenant.empty() || tenant.size() > 241 || !(IsAsciiLower(tenant[0]) || IsDigit(tenant[0]))) {
    return false;
  }
  if (system.empty() || system.size() > 14 || !IsAsciiLower(system[0])) return false;
  return std::all_of(tenant.begin() + 1, tenant.end(), IsKeyChar) &&
         std::all_of(system.begin() + 1, system.end(), IsKeyChar);
}

// value = 0*255(chr) nblk-chr; chr = %x20 / nblk-chr; nblk-chr = %x21-2B / %x2D-3C / %x3E-7E
bool IsValidTracestateValue(std::string_view value) {
  if (value.empty() || value.size() > 256 || value.back() == ' ') return false;
  for (char c : value) {
    unsigned char u = static_cast<unsigned char>(c);
    if (u < 0x20 || u > 0x7e || c == ',' || c == '=') return false;
  }
  return true;
}

}  // namespace

bool SpanContext::valid() const { return !AllZero(trace_id) && !AllZero(span_id); }

bool IsZeroId(const TraceId& id) { return AllZero(id); }
bool IsZeroId(const SpanId& id) { return AllZero(id); }

std::string ToHex(const TraceId& id) { return LowerHex(id); }
std::string ToHex(const SpanId& id) { return LowerHex(id); }

std::optional<TraceId> TraceIdFromHex(std::string_view hex) { return HexToBytes<16>(hex); }
std::optional<SpanId> SpanIdFromHex(std::string_view hex) { return HexToBytes<8>(hex); }

std::optional<SpanContext> ParseTraceparent(std::string_view tp, std::string_view tracestate) {
  if (tp.size() < 55 || tp[2] != '-' || tp[35] != '-' || tp[52] != '-') return std::nullopt;
  auto version = HexToBytes<1>(tp.substr(0, 2));
  auto trace_id = TraceIdFromHex(tp.substr(3, 32));
  auto span_id = SpanIdFromHex(tp.substr(36, 16));
  auto flags = HexToBytes<1>(tp.substr(53, 2));
  if (!version || !trace_id || !span_id || !flags) return std::nullopt;
  if ((*version)[0] == 0xff) return std::nullopt;
  if ((*version)[0] == 0x00 ? tp.size() != 55 : (tp.size() > 55 && tp[55] != '-')) {
    return std::nullopt;
  }
  if (AllZero(*trace_id) || AllZero(*span_id)) return std::nullopt;
  SpanContext ctx;
  ctx.trace_id = *trace_id;
  ctx.span_id = *span_id;
  ctx.trace_flags = (*flags)[0];
  ctx.remote = true;
  if (auto ts = NormalizeTracestate(tracestate)) ctx.trace_state = std::move(*ts);
  return ctx;
}

std::string FormatTraceparent(const SpanContext& context) {
  std::string out = "00-";
  out += ToHex(context.trace_id);
  out += '-';
  out += ToHex(context.span_id);
  out += '-';
  AppendLowerHex(out, std::array<uint8_t, 1>{context.trace_flags});
  return out;
}

std::optional<std::string> NormalizeTracestate(std::string_view tracestate) {
  std::vector<std::string_view> keys;
  std::string out;
  size_t pos = 0;
  while (pos <= tracestate.size()) {
    size_t comma = tracestate.find(',', pos);
    if (comma == std::string_view::npos) comma = tracestate.size();
    std::string_view member = Trim(tracestate.substr(pos, comma - pos), " \t");  // OWS
    pos = comma + 1;
    if (member.empty()) continue;
    size_t eq = member.find('=');
    if (eq == std::string_view::npos) return std::nullopt;
    std::string_view key = member.substr(0, eq), value = member.substr(eq + 1);
    if (!IsValidTracestateKey(key) || !IsValidTracestateValue(value)) return std::nullopt;
    if (std::find(keys.begin(), keys.end(), key) != keys.end()) return std::nullopt;
    if (keys.size() == kMaxTracestateMembers) return std::nullopt;
    keys.push_back(key);
    if (!out.empty()) out += ',';
    out += member;
  }
  return out;
}

TraceId MakeTraceId(uint64_t random_high, uint64_t random_low) {
  TraceId id{};
  PutBigEndian(random_high, id.data());
  PutBigEndian(random_low, id.data() + 8);
  if (AllZero(id)) id.back() = 1;
  return id;
}

SpanId MakeSpanId(uint64_t random) {
  SpanId id{};
  PutBigEndian(random, id.data());
  if (AllZero(id)) id.back() = 1;
  return id;
}

SpanContext NewRootContext(const TraceId& trace_id, const SpanId& span_id, uint8_t trace_flags) {
  SpanContext ctx;
  ctx.trace_id = trace_id;
  ctx.span_id = span_id;
  ctx.trace_flags = trace_flags;
  return ctx;
}

SpanContext ChildContext(const SpanContext& parent, const SpanId& span_id) {
  SpanContext ctx;
  ctx.trace_id = parent.trace_id;
  ctx.span_id = span_id;
  ctx.trace_flags = parent.trace_flags;
  ctx.trace_state = parent.trace_state;
  ctx.remote = false;
  return ctx;
}

}  // namespace ffpod
