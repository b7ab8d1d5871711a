// filesystem collector: mounts from <procfs>/1/mountinfo, sizes from statfs() with a bounded wait.
#include <sys/statvfs.h>

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "common/base/log.h"
#include "common/base/strings.h"
#include "exporter/collectors/collectors_internal.h"

namespace tocsin::exporter {

Status RealStatFs(const std::string& path, FsStats* out) {
  struct statvfs s;
  if (::statvfs(path.c_str(), &s) != 0) return Status::FromErrno("statfs " + path, errno);
  double bs = static_cast<double>(s.f_frsize ? s.f_frsize : s.f_bsize);
  out->size_bytes = static_cast<double>(s.f_blocks) * bs;
  out->free_bytes = static_cast<double>(s.f_bfree) * bs;
  out->avail_bytes = static_cast<double>(s.f_bavail) * bs;
  out->files = static_cast<double>(s.f_files);
  out->files_free = static_cast<double>(s.f_ffree);
  return Status::Ok();
}

namespace {

// Runs statfs() calls on a long-lived worker thread so the scrape can stop waiting. A call that
// does not return in time (a dead NFS server) leaves its worker behind: that worker is retired,
// finishes by itself whenever the kernel returns, and a fresh worker serves the next calls. The
// mount stays "stuck" (skipped, device_error 1) until its call has returned.
class BoundedStatFs {
 public:
  explicit BoundedStatFs(StatFsFunc fn) : fn_(std::move(fn)) {}
  ~BoundedStatFs() { Retire(); }

  Status Stat(const std::string& key, const std::string& path, std::chrono::milliseconds timeout,
              FsStats* out) {
    if (auto it = stuck_.find(key); it != stuck_.end()) {
      std::lock_guard<std::mutex> lock(it->second.worker->mu);
      if (!it->second.job->done)
        return Status::Timeout("statfs " + path + " still has not returned");
      log::Info("mount point responds again", {{"mountpoint", key}});
      stuck_.erase(it);
    }
    if (!worker_) StartWorker();
    auto job = std::make_shared<Job>();
    job->path = path;
    std::shared_ptr<Worker> w = worker_;
    std::unique_lock<std::mutex> lock(w->mu);
    w->queue.push_back(job);
    w->cv.notify_all();
    if (!w->cv.wait_for(lock, timeout, [&] { return job->done; })) {
      lock.unlock();
      log::Warn("mount point timed out, skipping it until statfs returns",
                {{"mountpoint", key}, {"timeout", std::to_string(timeout.count()) + "ms"}});
      stuck_[key] = {w, job};
      Retire();
      return Status::Timeout("statfs " + path + " did not return within " +
                             std::to_string(timeout.count()) + "ms");
    }
    *out = job->out;
    return job->st;
  }

 private:
  struct Job {
    std::string path;
    Status st;
    FsStats out;
    bool done = false;  // GUARDED_BY(Worker::mu)
  };
  struct Worker {
    std::mutex mu;
    std::condition_variable cv;
    std::deque<std::shared_ptr<Job>> queue;  // GUARDED_BY(mu)
    bool retired = false;                    // GUARDED_BY(mu)
  };
  struct Stuck {
    std::shared_ptr<Worker> worker;
    std::shared_ptr<Job> job;
  };

  void StartWorker() {
    worker_ = std::make_shared<Worker>();
    std::thread([w = worker_, fn = fn_] {
      std::unique_lock<std::mutex> lock(w->mu);
      for (;;) {
        w->cv.wait(lock, [&] { return w->retired || !w->queue.empty(); });
        if (w->queue.empty()) return;
        auto job = w->queue.front();
        w->queue.pop_front();
        lock.unlock();
        FsStats out;
        Status st = fn(job->path, &out);
        lock.lock();
        job->out = out;
        job->st = std::move(st);
        job->done = true;
        w->cv.notify_all();
      }
    }).detach();
  }

  void Retire() {
    if (!worker_) return;
    {
      std::lock_guard<std::mutex> lock(worker_->mu);
      worker_->retired = true;
      worker_->queue.clear();
    }
    worker_->cv.notify_all();
    worker_.reset();
  }

  StatFsFunc fn_;
  std::shared_ptr<Worker> worker_;
  std::map<std::string, Stuck> stuck_;
};

// Local filesystems answer statfs() from counters kept in memory, so the call cannot hang on a
// dead server; those are stat-ed directly, sparing a thread hand-off (two context switches) per
// mount. Everything else (NFS, CIFS, FUSE, Ceph, 9p, ...) goes through the bounded worker.
bool IsLocalFs(std::string_view type) {
  static constexpr std::string_view kLocal[] = {
      "ext2", "ext3",  "ext4",     "xfs",   "btrfs", "tmpfs", "vfat", "exfat",
      "f2fs", "ramfs", "devtmpfs", "erofs", "ntfs3", "jfs",   "zfs",  "bcachefs"};
  return std::find(std::begin(kLocal), std::end(kLocal), type) != std::end(kLocal);
}

bool HasOption(std::string_view options, std::string_view opt) {
  for (std::string_view o : Split(options, ',')) {
    if (o == opt) return true;
  }
  return false;
}

class FilesystemCollector : public Collector {
 public:
  explicit FilesystemCollector(const CollectorOptions& o)
      : paths_(o.paths),
        mount_exclude_(CompilePattern(o.filesystem_mount_points_exclude)),
        type_exclude_(CompilePattern(o.filesystem_fs_types_exclude)),
        timeout_(o.filesystem_mount_timeout),
        statfs_(o.statfs),
        stat_(o.statfs) {}

  Status Collect(expfmt::Writer* w) override {
    Status st = ReadAndParse(paths_.Proc("1/mountinfo"), &buf_, &mounts_, procfs::ParseMountinfo);
    if (st.code() == Status::Code::kNotFound) {
      st = ReadAndParse(paths_.Proc("self/mountinfo"), &buf_, &mounts_, procfs::ParseMountinfo);
    }
    TOCSIN_RETURN_IF_ERROR(st);
    std::string root = paths_.rootfs;
    while (root.size() > 1 && root.back() == '/') root.pop_back();
    rows_.clear();
    std::set<std::tuple<std::string, std::string, std::string>> seen;
    for (const auto& m : mounts_) {
      // As node_exporter: a mount point seen under --path.rootfs loses that prefix; the
      // statfs() path is always the rootfs-relative one.
      std::string mp = m.mount_point;
      if (root != "/" && StartsWith(mp, root) &&
          (mp.size() == root.size() || mp[root.size()] == '/')) {
        mp = mp.substr(root.size());
        if (mp.empty()) mp = "/";
      }
      if (Matches(mount_exclude_.get(), mp) || Matches(type_exclude_.get(), m.fs_type)) continue;
      if (!seen.insert({m.device, mp, m.fs_type}).second) continue;
      Row r;
      r.device = m.device;
      r.mount_point = mp;
      r.fs_type = m.fs_type;
      r.readonly = HasOption(m.options, "ro");
      std::string path = root == "/" ? mp : root + mp;
      r.error = !(IsLocalFs(m.fs_type) ? statfs_(path, &r.stats)
                                       : stat_.Stat(mp, path, timeout_, &r.stats))
                     .ok();
      rows_.push_back(std::move(r));
    }
    struct F {
      const char* name;
      const char* help;
      double FsStats::*field;
    };
    static constexpr F kFamilies[] = {
        {"node_filesystem_avail_bytes", "Filesystem space available to non-root users in bytes.",
         &FsStats::avail_bytes},
        {nullptr, nullptr, nullptr},
        {"node_filesystem_files", "Filesystem total file nodes.", &FsStats::files},
        {"node_filesystem_files_free", "Filesystem total free file nodes.", &FsStats::files_free},
        {"node_filesystem_free_bytes", "Filesystem free space in bytes.", &FsStats::free_bytes},
        {nullptr, nullptr, nullptr},
        {"node_filesystem_size_bytes", "Filesystem size in bytes.", &FsStats::size_bytes},
    };
    bool wrote_error = false;
    for (const F& f : kFamilies) {
      if (f.name == nullptr) {
        const char* name =
            wrote_error ? "node_filesystem_readonly" : "node_filesystem_device_error";
        w->Family(name,
                  wrote_error
                      ? "Filesystem read-only status."
                      : "Whether an error occurred while getting statistics for the given device.",
                  MetricType::kGauge);
        for (const Row& r : rows_) {
          w->Sample(name,
                    {{"device", r.device}, {"fstype", r.fs_type}, {"mountpoint", r.mount_point}},
                    wrote_error ? (r.readonly ? 1 : 0) : (r.error ? 1 : 0));
        }
        wrote_error = true;
        continue;
      }
      w->Family(f.name, f.help, MetricType::kGauge);
      for (const Row& r : rows_) {
        if (r.error) continue;
        w->Sample(f.name,
                  {{"device", r.device}, {"fstype", r.fs_type}, {"mountpoint", r.mount_point}},
                  r.stats.*f.field);
      }
    }
    return Status::Ok();
  }

 private:
  struct Row {
    std::string device, mount_point, fs_type;
    bool readonly = false;
    bool error = false;
    FsStats stats;
  };
  Paths paths_;
  std::unique_ptr<RE2> mount_exclude_, type_exclude_;
  std::chrono::milliseconds timeout_;
  StatFsFunc statfs_;
  BoundedStatFs stat_;
  std::string buf_;
  std::vector<procfs::Mount> mounts_;
  std::vector<Row> rows_;
};

}  // namespace

std::unique_ptr<Collector> NewFilesystemCollector(const CollectorOptions& o) {
  return std::make_unique<FilesystemCollector>(o);
}

}  // namespace tocsin::exporter
