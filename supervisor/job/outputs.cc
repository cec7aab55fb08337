#include "supervisor/job/outputs.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>
#include <set>

#include "parsers/common/text.h"
#include "parsers/ffmpeg/hls_playlist.h"

namespace ffpod {

namespace {

Error NotWritten(const std::string& final_path) {
  return Error{"output " + final_path + " was not written by ffmpeg"};
}

// A playlist larger than this is not read for its counts (ffmpeg's are a few KiB per hour).
constexpr int64_t kMaxPlaylistBytes = 16 << 20;

// The playlist at `playlist` as counts: its local files are found next to it.
HlsSummary SummarizeHls(const HlsPlaylist& list, const std::string& playlist) {
  namespace fs = std::filesystem;
  fs::path dir = fs::path(playlist).parent_path();
  HlsSummary h;
  h.master = list.master;
  h.variants = static_cast<int64_t>(list.variants.size());
  h.segments = static_cast<int64_t>(list.segments.size());
  h.duration_s = HlsDuration(list);
  std::vector<std::string> files;
  if (!list.init_uri.empty()) files.push_back(list.init_uri);
  for (const auto& seg : list.segments) files.push_back(seg.uri);
  for (const auto& v : list.variants) files.push_back(v);
  std::set<std::string> seen;  // byte ranges list one file many times: count it once
  for (const auto& uri : files) {
    if (uri.find("://") != std::string::npos) continue;  // not ours to check
    if (!seen.insert(uri).second) continue;
    std::error_code ec;
    uintmax_t size = fs::file_size(uri.front() == '/' ? fs::path(uri) : dir / uri, ec);
    if (ec) {
      if (h.missing++ == 0) h.first_missing = uri;
      continue;
    }
    if (!list.master) h.bytes += static_cast<int64_t>(size);
  }
  return h;
}

}  // namespace

std::string TemporaryOutputName(const std::string& final_path, const std::string& token) {
  size_t slash = final_path.rfind('/');
  std::string dir = slash == std::string::npos ? "" : final_path.substr(0, slash + 1);
  std::string base = slash == std::string::npos ? final_path : final_path.substr(slash + 1);
  size_t dot = base.rfind('.');
  std::string stem = dot == std::string::npos || dot == 0 ? base : base.substr(0, dot);
  std::string ext = dot == std::string::npos || dot == 0 ? "" : base.substr(dot);
  return dir + "." + stem + ".ffpod-" + token + ext;
}

std::map<std::string, std::string> TemporaryOutputs(const std::vector<std::string>& outputs,
                                                    const std::string& token) {
  std::map<std::string, std::string> out;
  for (const auto& o : outputs) out[o] = TemporaryOutputName(o, token);
  return out;
}

Status PublishOutputs(const std::map<std::string, std::string>& temporaries) {
  for (const auto& [final_path, temp] : temporaries) {
    if (::access(temp.c_str(), F_OK) != 0) return NotWritten(final_path);
  }
  for (const auto& [final_path, temp] : temporaries) {
    if (Status published = PublishOutput(final_path, temp); !published.ok()) return published;
  }
  return Status::Ok();
}

Status PublishOutput(const std::string& final_path, const std::string& temporary) {
  if (::rename(temporary.c_str(), final_path.c_str()) != 0) {
    return Error{"cannot publish output " + final_path + ": " + std::strerror(errno)};
  }
  return Status::Ok();
}

int RemoveTemporaries(const std::map<std::string, std::string>& temporaries) {
  int removed = 0;
  for (const auto& [final_path, temp] : temporaries) {
    if (::unlink(temp.c_str()) == 0) ++removed;
  }
  return removed;
}

namespace {

// Calls `remove(token)` for every temporary of `output` (TemporaryOutputName(output, token)) and
// unlinks it when that answers true; the answer: how many were unlinked.
template <typename Choose>
int RemoveTemporariesWhere(const std::string& output, Choose remove) {
  namespace fs = std::filesystem;
  std::string pattern = fs::path(TemporaryOutputName(output, "\x01")).filename().string();
  size_t cut = pattern.find('\x01');
  std::string prefix = pattern.substr(0, cut);
  std::string suffix = pattern.substr(cut + 1);
  fs::path dir = fs::path(output).parent_path();
  std::error_code ec;
  fs::directory_iterator it(dir.empty() ? fs::path(".") : dir, ec);
  int removed = 0;
  for (; !ec && it != fs::directory_iterator(); it.increment(ec)) {
    std::string name = it->path().filename().string();
    if (name.size() <= prefix.size() + suffix.size() || !name.starts_with(prefix) ||
        !name.ends_with(suffix)) {
      continue;
    }
    std::string token = name.substr(prefix.size(), name.size() - prefix.size() - suffix.size());
    if (remove(token, name) && ::unlink(it->path().c_str()) == 0) ++removed;
  }
  return removed;
}

}  // namespace

int RemoveOtherTemporaries(const std::vector<std::string>& outputs,
                           const std::map<std::string, std::string>& own) {
  int removed = 0;
  for (const auto& output : outputs) {
    auto mine = own.find(output);
    std::string keep = mine == own.end() ? "" : std::filesystem::path(mine->second).filename();
    removed += RemoveTemporariesWhere(
        output, [&](const std::string&, const std::string& name) { return name != keep; });
  }
  return removed;
}

int RemoveTemporariesOfWorker(const std::vector<std::string>& outputs, const std::string& worker) {
  int removed = 0;
  for (const auto& output : outputs) {
    removed += RemoveTemporariesWhere(output, [&](const std::string& token, const std::string&) {
      // worker + "-" + attempt: "w-1-3" is w-1's, "w-1-2-3" is not (that is worker w-1-2).
      if (token.size() <= worker.size() + 1 || !token.starts_with(worker + "-")) return false;
      std::string attempt = token.substr(worker.size() + 1);
      return std::all_of(attempt.begin(), attempt.end(), IsDigit);
    });
  }
  return removed;
}

Result<OutputFile> HashOutput(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Error{"cannot read output " + path + ": " + std::strerror(errno)};
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr);
  std::vector<char> buf(1 << 20);
  OutputFile file;
  file.path = path;
  std::string playlist;  // the file's bytes while it may be an HLS playlist
  bool maybe_playlist = false;
  for (;;) {
    ssize_t n = ::read(fd, buf.data(), buf.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int err = errno;
      ::close(fd);
      return Error{"cannot read output " + path + ": " + std::strerror(err)};
    }
    if (n == 0) break;
    if (file.bytes == 0) maybe_playlist = std::string_view(buf.data(), n).starts_with("#EXTM3U");
    EVP_DigestUpdate(ctx.get(), buf.data(), static_cast<size_t>(n));
    file.bytes += n;
    maybe_playlist = maybe_playlist && file.bytes <= kMaxPlaylistBytes;
    if (maybe_playlist) playlist.append(buf.data(), static_cast<size_t>(n));
  }
  ::close(fd);
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_DigestFinal_ex(ctx.get(), digest, &len);
  file.sha256 = LowerHex(std::span<const uint8_t>(digest, len));
  if (maybe_playlist) {
    if (auto list = ParseHlsPlaylist(playlist)) file.hls = SummarizeHls(*list, path);
  }
  return file;
}

}  // namespace ffpod

namespace ffpod {

PublishedOutputs HashBeforePublishing(const std::map<std::string, std::string>& temporaries,
                                      const std::vector<std::string>& outputs) {
  PublishedOutputs p;
  for (const auto& path : outputs) {
    auto temp = temporaries.find(path);
    const std::string& written = temp == temporaries.end() ? path : temp->second;
    if (temp != temporaries.end() && ::access(written.c_str(), F_OK) != 0) {
      p.status = NotWritten(path);
      break;
    }
    auto h = HashOutput(written);
    if (!h.ok()) {
      p.status = h.error();
      break;
    }
    h->path = path;
    p.files.push_back(std::move(h).value());
  }
  return p;
}

}  // namespace ffpod
