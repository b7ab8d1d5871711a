#include "common/base/file.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "common/base/strings.h"

namespace tocsin {

Status ReadFile(const std::string& path, std::string* out, size_t max_bytes) {
  out->clear();
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Status::FromErrno("open " + path, errno);
  for (;;) {
    size_t used = out->size();
    // Most procfs and sysfs files fit a page; grow by doubling beyond that.
    if (out->capacity() - used < 512) out->reserve(std::max<size_t>(4096, 2 * out->capacity()));
    // Read straight into the string's spare capacity, one byte past the limit at most.
    size_t want = std::min(out->capacity() - used, max_bytes + 1 - used);
    out->resize(used + want);
    ssize_t n = ::read(fd, out->data() + used, want);
    if (n < 0) {
      out->resize(used);
      if (errno == EINTR) continue;
      int err = errno;
      ::close(fd);
      return Status::FromErrno("read " + path, err);
    }
    out->resize(used + static_cast<size_t>(n));
    if (out->size() > max_bytes) {
      ::close(fd);
      out->clear();
      return Status::ResourceExhausted("file " + path + " is larger than " +
                                       std::to_string(max_bytes) + " bytes");
    }
    if (static_cast<size_t>(n) < want) break;
  }
  ::close(fd);
  return Status::Ok();
}

Status ReadTrimmedFile(const std::string& path, std::string* out) {
  // Read into a per-thread scratch buffer so *out keeps only the (short) trimmed value.
  thread_local std::string scratch;
  TOCSIN_RETURN_IF_ERROR(ReadFile(path, &scratch, 1 << 20));
  out->assign(TrimSpace(scratch));
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

namespace {
Status ListDirImpl(const std::string& dir, bool dirs_only, std::vector<std::string>* names) {
  names->clear();
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return Status::FromErrno("opendir " + dir, errno);
  while (struct dirent* e = ::readdir(d)) {
    std::string_view n = e->d_name;
    if (n == "." || n == "..") continue;
    if (dirs_only) {
      bool is_dir = e->d_type == DT_DIR;
      if (e->d_type == DT_UNKNOWN) is_dir = IsDirectory(dir + "/" + std::string(n));
      if (!is_dir) continue;
    }
    names->emplace_back(n);
  }
  ::closedir(d);
  std::sort(names->begin(), names->end());
  return Status::Ok();
}
}  // namespace

Status ListDir(const std::string& dir, std::vector<std::string>* names) {
  return ListDirImpl(dir, false, names);
}

Status ListSubdirs(const std::string& dir, std::vector<std::string>* names) {
  return ListDirImpl(dir, true, names);
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
