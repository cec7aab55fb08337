// JSON text for everything ffpod writes (logs, results, /status, OTLP): Boost.JSON values,
// serialised with numbers the way people and log pipelines expect them: integers as integers,
// doubles in their shortest round-trip decimal form (`12.5`, `0.04`, `1e-07`), never Boost's
// `1.25E1`. Non-finite doubles become null. Strings are escaped by Boost.JSON. Pure.
#pragma once

#include <boost/json/value.hpp>
#include <string>

namespace ffpod {

std::string JsonText(const boost::json::value& value);
void AppendJsonText(std::string& out, const boost::json::value& value);

}  // namespace ffpod
