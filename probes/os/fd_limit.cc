#include "probes/os/fd_limit.h"

#include <sys/resource.h>

namespace ffpod {

namespace {

uint64_t Value(rlim_t limit) { return limit == RLIM_INFINITY ? UINT64_MAX : limit; }

}  // namespace

FdLimit RaiseFdLimit() {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) return {};
  if (limit.rlim_cur != limit.rlim_max) {
    rlimit raised = limit;
    raised.rlim_cur = limit.rlim_max;
    if (::setrlimit(RLIMIT_NOFILE, &raised) == 0) limit = raised;
  }
  return FdLimit{.soft = Value(limit.rlim_cur), .hard = Value(limit.rlim_max)};
}

}  // namespace ffpod
