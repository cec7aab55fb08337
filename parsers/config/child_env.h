// The environment ffpod gives the processes it starts (ffmpeg, ffprobe, the capability probes'
// test encodes): an allowlist, never ffpod's whole environment. ffpod's own credentials (the
// Redis URL in FFPOD_REDIS, OTLP headers in OTEL_EXPORTER_OTLP_*HEADERS, object-store keys such
// as AWS_*) stay with ffpod, so a job's arguments cannot copy them into an output (for example
// by reading /proc/self/environ).
//
// A variable passes when its name is on kChildEnvAllowlist below (docs/configuration.md lists
// it), or when the operator names it with --ffmpeg-env (a name, or a prefix ending in `*`);
// a name the operator gives passes even if it looks like a credential. Pure; thread-compatible.
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace ffpod {

// What ffmpeg and its libraries need: exact names, and prefixes written `PREFIX*`.
inline constexpr std::string_view kChildEnvAllowlist[] = {
    "PATH",
    "HOME",
    "USER",
    "LOGNAME",
    "SHELL",
    "TERM",
    "TZ",
    "LANG",
    "LANGUAGE",
    "LC_*",
    "TMPDIR",
    "LD_LIBRARY_PATH",
    "http_proxy",
    "https_proxy",
    "no_proxy",
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "NO_PROXY",
    "SSL_CERT_*",
    "FONTCONFIG_*",
    "XDG_CACHE_HOME",
    "XDG_CONFIG_HOME",
    "XDG_RUNTIME_DIR",
    "FFMPEG_DATADIR",
    "AV_LOG_FORCE_*",
    "NVIDIA_*",
    "CUDA_*",
    "LIBVA_*",
    "VDPAU_*",
    "ONEVPL_*",
    "MFX_*",
    "INTEL_MEDIA_*",
    "VK_*",
    "DRI_PRIME",
    "OCL_ICD_*",
};

// Whether `pattern` (an entry of the allowlist or of --ffmpeg-env) covers `name`: equal, or
// `pattern` ends in '*' and `name` starts with what precedes it.
bool EnvPatternCovers(std::string_view pattern, std::string_view name);

// Whether `name` is a valid --ffmpeg-env entry: a variable name ([A-Za-z_][A-Za-z0-9_]*),
// optionally ending in '*' for every variable with that prefix.
bool IsEnvPattern(std::string_view pattern);

// The entries ("NAME=VALUE") of `environment` that pass: the allowlist, or one of `extra` (the
// operator's --ffmpeg-env patterns). Entries without '=' are dropped. Order is kept.
std::vector<std::string> ChildEnvironment(std::span<const std::string> environment,
                                          std::span<const std::string> extra);

}  // namespace ffpod
