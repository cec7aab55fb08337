// Atomic publication of a job's outputs: ffmpeg writes each declared output under a temporary
// name in the same directory (same filesystem, so the final rename is atomic), and only a
// successful attempt renames them into place; a failed or preempted one removes them. A reader
// of the final path never sees a half-written file. Also: size and sha256 of each output.
//
// Threading: plain functions; HashOutput reads the whole file and belongs off the event loop.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "parsers/common/result.h"
#include "parsers/documents/job.h"

namespace ffpod {

// The temporary name for `final_path`: the same directory, a hidden name carrying `token`,
// and the same extension (ffmpeg picks the muxer from it):
//   /out/clip.mp4 -> /out/.clip.ffpod-<token>.mp4
std::string TemporaryOutputName(const std::string& final_path, const std::string& token);

// final -> temporary, for each output.
std::map<std::string, std::string> TemporaryOutputs(const std::vector<std::string>& outputs,
                                                    const std::string& token);

// Renames every temporary onto its final path. On failure the error names the output.
Status PublishOutputs(const std::map<std::string, std::string>& temporaries);

// Renames one temporary onto its final path; the error names the output.
Status PublishOutput(const std::string& final_path, const std::string& temporary);

// Removes the temporaries that exist (ignoring the ones that do not); returns how many it
// removed.
int RemoveTemporaries(const std::map<std::string, std::string>& temporaries);

// Removes every temporary of `outputs` (any token) except the ones in `own`: those of earlier
// attempts of the job, which can no longer be published once another claim holds the job.
// Returns how many it removed. Lists the outputs' directories: run it off the event loop.
int RemoveOtherTemporaries(const std::vector<std::string>& outputs,
                           const std::map<std::string, std::string>& own);

// Removes the temporaries of `outputs` that `worker` wrote (token `worker-ATTEMPT`), whatever
// the attempt: at a worker's start, those of its previous run, which can never be published.
int RemoveTemporariesOfWorker(const std::vector<std::string>& outputs, const std::string& worker);

// Size and sha256 (lowercase hex) of `path`; for an HLS playlist (a file that starts with
// #EXTM3U, up to 16 MiB) also what it lists, its files looked up next to it.
Result<OutputFile> HashOutput(const std::string& path);

// What publishing a successful attempt's outputs gave: the hashed files (up to the first
// failure) and whether every output is in place and hashed (else why not).
struct PublishedOutputs {
  Status status;
  std::vector<OutputFile> files;
};

// Hashes each of `outputs` where ffmpeg wrote it: its temporary when it has one (the files
// carry the final paths). Nothing is renamed or removed. Reads whole files: off the loop.
PublishedOutputs HashBeforePublishing(const std::map<std::string, std::string>& temporaries,
                                      const std::vector<std::string>& outputs);

}  // namespace ffpod
