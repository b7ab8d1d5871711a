#include "tsdb/storage/wal.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <vector>

#include "common/base/file.h"
#include "common/base/strings.h"

namespace tocsin::tsdb {

namespace {

constexpr size_t kHeader = 8;

std::string SegmentName(uint32_t index) {
  char b[16];
  std::snprintf(b, sizeof b, "%08u", index);
  return b;
}

uint32_t Crc(std::string_view p) {
  return static_cast<uint32_t>(
      crc32(0, reinterpret_cast<const Bytef*>(p.data()), static_cast<uInt>(p.size())));
}

void PutU32(char* dst, uint32_t v) {
  for (int i = 0; i < 4; ++i) dst[i] = static_cast<char>(v >> (8 * i));
}

uint32_t GetU32(const char* p) {
  auto b = reinterpret_cast<const unsigned char*>(p);
  return b[0] | (b[1] << 8) | (b[2] << 16) | (static_cast<uint32_t>(b[3]) << 24);
}

}  // namespace

Status Wal::ListSegments(const std::string& dir, std::vector<uint32_t>* out) {
  out->clear();
  std::vector<std::string> names;
  Status st = ListDir(dir, &names);
  if (st.code() == Status::Code::kNotFound) return Status::Ok();
  TOCSIN_RETURN_IF_ERROR(st);
  for (const std::string& n : names) {
    uint64_t i;
    if (n.size() == 8 && ParseUint64(n, &i) && i > 0 && i < UINT32_MAX)
      out->push_back(static_cast<uint32_t>(i));
  }
  std::sort(out->begin(), out->end());
  return Status::Ok();
}

namespace {
Status Segments(const std::string& dir, std::vector<uint32_t>* out) {
  return Wal::ListSegments(dir, out);
}
}  // namespace

Status Wal::Open(const std::string& dir, WalOptions options, std::unique_ptr<Wal>* out) {
  if (::mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST)
    return Status::FromErrno("mkdir " + dir, errno);
  std::vector<uint32_t> segs;
  TOCSIN_RETURN_IF_ERROR(Segments(dir, &segs));
  std::unique_ptr<Wal> w(new Wal(dir, options));
  uint64_t existing = 0;
  for (uint32_t seg : segs) {
    struct stat sb;
    if (::stat((dir + "/" + SegmentName(seg)).c_str(), &sb) == 0)
      existing += static_cast<uint64_t>(sb.st_size);
  }
  w->size_.store(existing);
  // Always start a fresh segment: the last one may end in a torn record.
  TOCSIN_RETURN_IF_ERROR(w->OpenSegment(segs.empty() ? 1 : segs.back() + 1));
  *out = std::move(w);
  return Status::Ok();
}

Wal::~Wal() {
  if (fd_ >= 0) ::close(fd_);
}

Status Wal::OpenSegment(uint32_t index) {
  if (fd_ >= 0) ::close(fd_);
  std::string path = dir_ + "/" + SegmentName(index);
  fd_ = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd_ < 0) return Status::FromErrno("open " + path, errno);
  // Make the new file's name durable too.
  int dfd = ::open(dir_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
  segment_ = index;
  segment_size_ = 0;
  return Status::Ok();
}

Status Wal::Append(std::string_view payload) {
  std::lock_guard<std::mutex> lock(mu_);
  if (segment_size_ > 0 && segment_size_ + kHeader + payload.size() > options_.segment_bytes) {
    if (options_.fsync_every_commit) Sync();
    TOCSIN_RETURN_IF_ERROR(OpenSegment(segment_ + 1));
  }
  buf_.resize(kHeader);
  PutU32(buf_.data(), static_cast<uint32_t>(payload.size()));
  PutU32(buf_.data() + 4, Crc(payload));
  buf_.append(payload);
  size_t done = 0;
  while (done < buf_.size()) {
    ssize_t n = ::write(fd_, buf_.data() + done, buf_.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Status::FromErrno("write WAL segment " + SegmentName(segment_), errno);
    }
    done += static_cast<size_t>(n);
  }
  if (options_.fsync_every_commit && Sync() != 0) {
    return Status::FromErrno("fdatasync WAL segment " + SegmentName(segment_), errno);
  }
  segment_size_ += buf_.size();
  bytes_ += buf_.size();
  size_.fetch_add(buf_.size(), std::memory_order_relaxed);
  return Status::Ok();
}

int Wal::Sync() {
  auto start = std::chrono::steady_clock::now();
  int rc = ::fdatasync(fd_);
  fsyncs_.fetch_add(1, std::memory_order_relaxed);
  fsync_ns_.fetch_add(static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                                std::chrono::steady_clock::now() - start)
                                                .count()),
                      std::memory_order_relaxed);
  return rc;
}

Status Wal::Cut(uint32_t* segment) {
  std::lock_guard<std::mutex> lock(mu_);
  if (options_.fsync_every_commit) Sync();
  TOCSIN_RETURN_IF_ERROR(OpenSegment(segment_ + 1));
  *segment = segment_;
  return Status::Ok();
}

Status Wal::DeleteSegmentsBefore(uint32_t segment) {
  std::vector<uint32_t> segs;
  TOCSIN_RETURN_IF_ERROR(Segments(dir_, &segs));
  for (uint32_t seg : segs) {
    if (seg >= segment) break;
    std::string path = dir_ + "/" + SegmentName(seg);
    struct stat sb;
    uint64_t size = ::stat(path.c_str(), &sb) == 0 ? static_cast<uint64_t>(sb.st_size) : 0;
    if (::unlink(path.c_str()) != 0 && errno != ENOENT)
      return Status::FromErrno("remove WAL segment " + path, errno);
    size_.fetch_sub(std::min(size, size_.load()), std::memory_order_relaxed);
  }
  return Status::Ok();
}

Status Wal::Replay(const std::string& dir, uint32_t first,
                   const std::function<Status(std::string_view)>& fn, bool* torn) {
  *torn = false;
  std::vector<uint32_t> segs;
  TOCSIN_RETURN_IF_ERROR(Segments(dir, &segs));
  std::string data;
  for (size_t s = 0; s < segs.size(); ++s) {
    if (segs[s] < first) continue;
    std::string path = dir + "/" + SegmentName(segs[s]);
    TOCSIN_RETURN_IF_ERROR(ReadFile(path, &data, size_t{4} << 30));
    size_t off = 0;
    while (off < data.size()) {
      bool whole = data.size() - off >= kHeader;
      uint32_t len = whole ? GetU32(data.data() + off) : 0;
      whole = whole && data.size() - off - kHeader >= len;
      std::string_view payload =
          whole ? std::string_view(data).substr(off + kHeader, len) : std::string_view();
      if (!whole || Crc(payload) != GetU32(data.data() + off + 4)) {
        // Every segment but the newest was closed cleanly; the newest may end mid-record, and
        // an older one too when the process died just before rotating (a segment is only
        // replaced after a crash by opening a new one).
        *torn = true;
        break;
      }
      TOCSIN_RETURN_IF_ERROR(fn(payload).WithContext(path + " at byte " + std::to_string(off)));
      off += kHeader + len;
    }
  }
  return Status::Ok();
}

WalReader::~WalReader() {
  if (fd_ >= 0) ::close(fd_);
}

bool WalReader::Fill() {
  if (fd_ < 0 || fd_segment_ != segment_) {
    if (fd_ >= 0) ::close(fd_);
    std::string path = dir_ + "/" + SegmentName(segment_);
    fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    fd_segment_ = segment_;
    buf_.clear();
    buf_start_ = offset_;
    if (fd_ < 0) return false;
  }
  char chunk[1 << 16];
  bool any = false;
  for (;;) {
    ssize_t n = ::pread(fd_, chunk, sizeof chunk, static_cast<off_t>(buf_start_ + buf_.size()));
    if (n <= 0) break;
    buf_.append(chunk, static_cast<size_t>(n));
    any = true;
    if (buf_.size() > (size_t{64} << 20)) break;
  }
  return any;
}

bool WalReader::Next(std::string* record, uint64_t* skipped) {
  for (int attempt = 0; attempt < 3; ++attempt) {
    if (fd_ < 0 || fd_segment_ != segment_) Fill();
    size_t pos = static_cast<size_t>(offset_ - buf_start_);
    bool whole = false;
    if (buf_.size() - pos >= kHeader) {
      uint32_t len = GetU32(buf_.data() + pos);
      if (buf_.size() - pos - kHeader >= len) {
        std::string_view payload(buf_.data() + pos + kHeader, len);
        bool finished = false;
        if (Crc(payload) != GetU32(buf_.data() + pos + 4)) {
          // Only a finished segment (a newer one exists) can hold a corrupt record for good.
          std::vector<uint32_t> segs;
          if (Segments(dir_, &segs).ok() && !segs.empty() && segs.back() > segment_)
            finished = true;
          if (!finished) return false;
          ++*skipped;
          ++segment_;
          offset_ = 0;
          continue;
        }
        record->assign(payload);
        offset_ += kHeader + len;
        // Drop consumed bytes now and then.
        if (offset_ - buf_start_ > (size_t{8} << 20)) {
          buf_.erase(0, static_cast<size_t>(offset_ - buf_start_));
          buf_start_ = offset_;
        }
        return true;
      }
    }
    (void)whole;
    if (Fill()) continue;  // more bytes arrived
    // Nothing more here: move on when a newer segment exists (this one is finished).
    std::vector<uint32_t> segs;
    if (!Segments(dir_, &segs).ok()) return false;
    auto next = std::upper_bound(segs.begin(), segs.end(), segment_);
    if (next == segs.end()) return false;
    if (Fill()) continue;  // the last bytes may have landed just before the new segment
    if (buf_.size() - pos > 0) ++*skipped;  // a torn tail (a crash) in a finished segment
    segment_ = *next;
    offset_ = 0;
    attempt = -1;
  }
  return false;
}

}  // namespace tocsin::tsdb
