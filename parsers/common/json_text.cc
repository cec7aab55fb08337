#include "parsers/common/json_text.h"

#include <boost/json/serialize.hpp>
#include <charconv>
#include <cmath>

namespace ffpod {

void AppendJsonText(std::string& out, const boost::json::value& v) {
  switch (v.kind()) {
    case boost::json::kind::null:
      out += "null";
      return;
    case boost::json::kind::bool_:
      out += v.get_bool() ? "true" : "false";
      return;
    case boost::json::kind::int64:
      out += std::to_string(v.get_int64());
      return;
    case boost::json::kind::uint64:
      out += std::to_string(v.get_uint64());
      return;
    case boost::json::kind::double_: {
      double d = v.get_double();
      if (!std::isfinite(d)) {
        out += "null";
        return;
      }
      char buf[32];
      auto [end, ec] = std::to_chars(buf, buf + sizeof buf, d);
      if (ec != std::errc()) {
        out += "null";
        return;
      }
      out.append(buf, end);
      return;
    }
    case boost::json::kind::string:
      out += boost::json::serialize(v);
      return;
    case boost::json::kind::array: {
      out += '[';
      bool first = true;
      for (const auto& e : v.get_array()) {
        if (!first) out += ',';
        first = false;
        AppendJsonText(out, e);
      }
      out += ']';
      return;
    }
    case boost::json::kind::object: {
      out += '{';
      bool first = true;
      for (const auto& kv : v.get_object()) {
        if (!first) out += ',';
        first = false;
        out += boost::json::serialize(boost::json::string_view(kv.key()));
        out += ':';
        AppendJsonText(out, kv.value());
      }
      out += '}';
      return;
    }
  }
}

std::string JsonText(const boost::json::value& value) {
  std::string out;
  AppendJsonText(out, value);
  return out;
}

}  // namespace ffpod
