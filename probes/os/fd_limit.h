// The process's limit on open file descriptors (RLIMIT_NOFILE), which bounds how many
// connections the HTTP listener can hold (docs/metrics.md, "Limits").
//
// Threading: call from the thread that starts ffpod's services, before they open descriptors.
#pragma once

#include <cstdint>

namespace ffpod {

struct FdLimit {
  uint64_t soft = 0;  // the limit in force now
  uint64_t hard = 0;  // what the soft limit may be raised to (RLIM_INFINITY: UINT64_MAX)
};

// Raises the soft limit to the hard limit (container runtimes often start processes with a soft
// limit of 1024 and a hard one far above) and returns the limits in force afterwards. When the
// kernel refuses, the soft limit stays as it was and that is what is returned. Idempotent.
FdLimit RaiseFdLimit();

}  // namespace ffpod
