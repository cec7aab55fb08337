// The pipes between FfmpegJob and one child (stdin, stderr, the progress fd), both ends of each,
// until they are handed out: whatever is still held when it goes away is closed.
//
// Threading: the job's thread.
#pragma once

#include <unistd.h>

#include "probes/os/process.h"

namespace ffpod {

struct ChildPipes {
  int stdin_fds[2] = {-1, -1};
  int stderr_fds[2] = {-1, -1};
  int progress_fds[2] = {-1, -1};

  ChildPipes() = default;
  ChildPipes(const ChildPipes&) = delete;
  ChildPipes& operator=(const ChildPipes&) = delete;
  ~ChildPipes() {
    for (int* fds : {stdin_fds, stderr_fds, progress_fds}) {
      Close(fds[0]);
      Close(fds[1]);
    }
  }
  bool Open(bool with_stdin, bool with_progress) {
    return (!with_stdin || MakePipe(stdin_fds)) && MakePipe(stderr_fds) &&
           (!with_progress || MakePipe(progress_fds));
  }
  // The child has its own copies of its ends once spawned.
  void CloseChildEnds() {
    Close(stdin_fds[0]);
    Close(stderr_fds[1]);
    Close(progress_fds[1]);
  }
  static int Take(int& fd) {
    int taken = fd;
    fd = -1;
    return taken;
  }
  static void Close(int& fd) {
    if (fd >= 0) ::close(fd);
    fd = -1;
  }
};

}  // namespace ffpod
