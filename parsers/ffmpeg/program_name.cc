#include "parsers/ffmpeg/program_name.h"

#include "parsers/common/text.h"

namespace ffpod {

bool LooksLikeFfmpeg(std::string_view executable) {
  size_t slash = executable.rfind('/');
  std::string_view base =
      slash == std::string_view::npos ? executable : executable.substr(slash + 1);
  constexpr std::string_view kName = "ffmpeg";
  if (!base.starts_with(kName)) return false;
  if (base.size() == kName.size()) return true;
  char next = base[kName.size()];
  return next == '-' || next == '_' || IsDigit(next);
}

}  // namespace ffpod
