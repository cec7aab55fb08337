#include "parsers/config/route_kind.h"

#include "parsers/common/text.h"

namespace ffpod {

FieldAccess RouteList(Routes Config::*field) {
  return {[=](Config& c, std::string_view v) -> Result<bool> {
            Routes added;
            size_t start = 0;
            while (start <= v.size()) {
              size_t comma = v.find(',', start);
              std::string_view item = Trim(
                  v.substr(start, comma == std::string_view::npos ? v.npos : comma - start), " ");
              size_t eq = item.find('=');
              if (eq == std::string_view::npos) {
                return Error{"REASON=QUEUE pairs separated by commas (element \"" +
                             std::string(item) + "\" has no =)"};
              }
              auto route = ParseRoute(item.substr(0, eq), item.substr(eq + 1));
              if (!route) {
                return Error{"REASON=QUEUE pairs separated by commas (element \"" +
                             std::string(item) + "\": " + route.error().message + ")"};
              }
              added[route->first] = route->second;
              if (comma == std::string_view::npos) break;
              start = comma + 1;
            }
            for (auto& [reason, queue] : added) (c.*field)[reason] = std::move(queue);
            return true;
          },
          [=](const Config& c) { return RoutesText(c.*field); }};
}

}  // namespace ffpod
