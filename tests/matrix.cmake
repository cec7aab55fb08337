# The version-matrix tier: the integration scenarios whose outcome depends on FFmpeg's own
# behaviour, run again against every real FFmpeg build scripts/ffmpeg-roots made (one Debian
# root per release: bullseye 4.3, trixie 7.1, sid 9.0). Each root found under
# FFPOD_FFMPEG_ROOTS registers one test per group below, named matrix.ffmpeg-<major.minor>.<group>
# and labelled `matrix;ffmpeg-<major.minor>`, that runs ffpod_integration_tests with the group's
# filter and PATH starting at the root's wrappers, so `ffmpeg` and `ffprobe` are that release.
# FFPOD_TEST_FFMPEG_VERSION names the version (the full string `ffmpeg -version` prints) for the
# few assertions that expect version-specific facts (tests/harness/harness.h, TestFfmpeg()).
#
# No roots, no tests: plain `ctest` on a machine that never ran scripts/ffmpeg-roots registers
# none of these. scripts/test always makes the roots first. Run the tier alone with
# `ctest -L matrix`, one release with `ctest -L ffmpeg-9.0`. docs/testing.md has the details.

set(FFPOD_FFMPEG_ROOTS_DEFAULT "$ENV{FFPOD_FFMPEG_ROOTS}")
if(NOT FFPOD_FFMPEG_ROOTS_DEFAULT)
  set(FFPOD_FFMPEG_ROOTS_DEFAULT /var/cache/ffpod/ffmpeg-roots)
endif()
set(FFPOD_FFMPEG_ROOTS "${FFPOD_FFMPEG_ROOTS_DEFAULT}" CACHE PATH
    "Folder of the FFmpeg roots scripts/ffmpeg-roots makes; one matrix test group per root found")

# group name -> gtest filter (':'-separated test names; a trailing '*' matches a family).
set(FFPOD_MATRIX_GROUPS run-success run-failures run-io drain probe outputs)
set(FFPOD_MATRIX_run-success
  "Run.SucceedsAndReportsTheResult:Run.PercentHonoursSeekAndLimits:Run.UnknownDurationHasNoPercent:Run.MetricsAndStatusWhileEncoding:Run.StatsLineProgressWhenTheUserTakesProgress")
set(FFPOD_MATRIX_run-failures
  "RealFfmpeg/RunFailure.*:Run.StderrTailHasNoLevelTags:Run.NetworkRefusedOverHttp:Run.NeverHangsOnTheOverwritePrompt:Run.TerminationLogWrittenOnlyWhenItExists:Run.SecretsNeverReachTheLogs")
set(FFPOD_MATRIX_run-io
  "Run.KilledBySomeoneElse:Run.TerminatedBySomeoneElseStopsGracefully:Run.StdoutMediaIsByteIdentical:Run.StdinMediaPassesThrough:Stall.*")
set(FFPOD_MATRIX_drain
  "Drain.GraceTooShortRequeuesTheJobAndExitsBeforeTheKill:Drain.GraceLongEnoughLetsTheJobFinish:Drain.RunModePreemptedExits143AndSaysSo")
set(FFPOD_MATRIX_outputs
  "Verification.*:RunOutputs.*:WorkerHls.ThePublishedPlaylistListsSegmentsNamedAfterIt")
set(FFPOD_MATRIX_probe
  "ProbeRealFfmpeg.*:ProbeCommand.JsonDocumentFromTheRealFfmpeg:ProbeCommand.NfdLinesFromTheRealFfmpeg:ProbeCommand.RequireExitsZeroOnlyWhenEveryRequiredEncoderIsUsable:EncoderWatchTest.RealFfmpegRequiringNvencIsNotReady")

file(GLOB FFPOD_MATRIX_MARKS CONFIGURE_DEPENDS ${FFPOD_FFMPEG_ROOTS}/*/ffpod/complete)
set(FFPOD_MATRIX_VERSIONS)
foreach(mark ${FFPOD_MATRIX_MARKS})
  get_filename_component(tool_dir ${mark} DIRECTORY)  # ROOT/ffpod
  file(STRINGS ${tool_dir}/version full_version LIMIT_COUNT 1)
  if(NOT full_version MATCHES "^n?([0-9]+)\\.([0-9]+)")
    message(WARNING "matrix: ${tool_dir}/version does not start with a release number; skipped")
    continue()
  endif()
  set(short "${CMAKE_MATCH_1}.${CMAKE_MATCH_2}")
  list(APPEND FFPOD_MATRIX_VERSIONS "${full_version}")
  foreach(group ${FFPOD_MATRIX_GROUPS})
    set(name matrix.ffmpeg-${short}.${group})
    add_test(NAME ${name}
             COMMAND ffpod_integration_tests "--gtest_filter=${FFPOD_MATRIX_${group}}")
    # PROCESSORS 2: its real encodes keep two cores busy, so under `ctest -j2` (CI's two cores)
    # a matrix test runs alone and does not starve the timing-sensitive tests beside it.
    set_tests_properties(${name} PROPERTIES
      LABELS "matrix;ffmpeg-${short}"
      PROCESSORS 2
      TIMEOUT 600
      ENVIRONMENT "FFPOD_TEST_FFMPEG_VERSION=${full_version}"
      ENVIRONMENT_MODIFICATION "PATH=path_list_prepend:${tool_dir}/bin")
  endforeach()
endforeach()
if(FFPOD_MATRIX_VERSIONS)
  list(JOIN FFPOD_MATRIX_VERSIONS ", " versions)
  message(STATUS "matrix: FFmpeg ${versions} (roots in ${FFPOD_FFMPEG_ROOTS})")
else()
  message(STATUS "matrix: no FFmpeg roots in ${FFPOD_FFMPEG_ROOTS} (scripts/ffmpeg-roots makes "
                 "them); the matrix tier is not registered")
endif()
