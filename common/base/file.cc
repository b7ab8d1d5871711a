#include "common/base/file.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "common/base/strings.h"

namespace tocsin {

namespace {
Status ReadImpl(const std::string& path, std::string* out, size_t max_bytes,
                bool short_read_is_eof) {
  out->clear();
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Status::FromErrno("open " + path, errno);
  char buf[16384];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      int err = errno;
      ::close(fd);
      return Status::FromErrno("read " + path, err);
    }
    if (n == 0) break;
    if (out->size() + static_cast<size_t>(n) > max_bytes) {
      ::close(fd);
      return Status::ResourceExhausted("file " + path + " is larger than " +
                                       std::to_string(max_bytes) + " bytes");
    }
    out->append(buf, static_cast<size_t>(n));
    if (short_read_is_eof && static_cast<size_t>(n) < sizeof buf) break;
  }
  ::close(fd);
  return Status::Ok();
}
}  // namespace

Status ReadFile(const std::string& path, std::string* out, size_t max_bytes) {
  return ReadImpl(path, out, max_bytes, false);
}

Status ReadKernfsFile(const std::string& path, std::string* out, size_t max_bytes) {
  return ReadImpl(path, out, max_bytes, true);
}

Status ReadTrimmedFile(const std::string& path, std::string* out) {
  TOCSIN_RETURN_IF_ERROR(ReadKernfsFile(path, out, 1 << 20));
  std::string_view t = TrimSpace(*out);
  *out = std::string(t);
  return Status::Ok();
}

Status ReadUint64File(const std::string& path, uint64_t* v) {
  std::string s;
  TOCSIN_RETURN_IF_ERROR(ReadTrimmedFile(path, &s));
  if (!ParseUint64(s, v))
    return Status::InvalidArgument(path + ": not an unsigned integer: \"" + s + "\"");
  return Status::Ok();
}

Status ReadInt64File(const std::string& path, int64_t* v) {
  std::string s;
  TOCSIN_RETURN_IF_ERROR(ReadTrimmedFile(path, &s));
  if (!ParseInt64(s, v)) return Status::InvalidArgument(path + ": not an integer: \"" + s + "\"");
  return Status::Ok();
}

Status ListDir(const std::string& dir, std::vector<std::string>* names) {
  names->clear();
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return Status::FromErrno("opendir " + dir, errno);
  while (struct dirent* e = ::readdir(d)) {
    std::string_view n = e->d_name;
    if (n == "." || n == "..") continue;
    names->emplace_back(n);
  }
  ::closedir(d);
  std::sort(names->begin(), names->end());
  return Status::Ok();
}

Status ListSubdirs(const std::string& dir, std::vector<std::string>* names) {
  names->clear();
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return Status::FromErrno("opendir " + dir, errno);
  while (struct dirent* e = ::readdir(d)) {
    std::string_view n = e->d_name;
    if (n == "." || n == "..") continue;
    bool is_dir = e->d_type == DT_DIR;
    if (e->d_type == DT_UNKNOWN) is_dir = IsDirectory(dir + "/" + std::string(n));
    if (is_dir) names->emplace_back(n);
  }
  ::closedir(d);
  std::sort(names->begin(), names->end());
  return Status::Ok();
}

bool PathExists(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0;
}

bool IsDirectory(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

std::string JoinPath(std::string_view a, std::string_view b) {
  std::string out(a);
  while (!out.empty() && out.back() == '/') out.pop_back();
  while (!b.empty() && b.front() == '/') b.remove_prefix(1);
  out += '/';
  out += b;
  return out;
}

}  // namespace tocsin
