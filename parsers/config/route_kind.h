// The `RouteList` kind of flag value (flag_table.cc): --reroute's REASON=QUEUE pairs. Pure,
// thread-compatible.
#pragma once

#include "parsers/config/config_table.h"
#include "parsers/documents/job_routes.h"

namespace ffpod {

// REASON=QUEUE pairs separated by commas, added to the routes already there (the flag may be
// given several times; a later route for a reason replaces an earlier one). The error names the
// element that is wrong and why.
FieldAccess RouteList(Routes Config::*field);

}  // namespace ffpod
