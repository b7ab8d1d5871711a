// textfile collector: *.prom files in --collector.textfile.directory, merged by family.
#include <sys/stat.h>

#include <map>

#include "common/base/log.h"
#include "common/base/strings.h"
#include "common/expfmt/parser.h"
#include "exporter/collectors/collectors_internal.h"

namespace tocsin::exporter {

namespace {

class TextfileCollector : public Collector {
 public:
  explicit TextfileCollector(std::string dir) : dir_(std::move(dir)) {}

  Status Collect(expfmt::Writer* w) override {
    bool error = false;
    std::map<std::string, Family> families;
    std::vector<std::pair<std::string, double>> mtimes;
    if (!dir_.empty()) {
      std::vector<std::string> names;
      Status st = ListDir(dir_, &names);
      if (!st.ok()) {
        log::Debug("textfile directory unreadable", {{"err", st.ToString()}});
        error = true;
      }
      for (const std::string& n : names) {
        if (!EndsWith(n, ".prom")) continue;
        std::string path = dir_ + "/" + n;
        struct stat sb;
        if (::stat(path.c_str(), &sb) != 0) continue;
        Status pst = ParseFile(path, n, &families);
        if (!pst.ok()) {
          log::Error("failed to read textfile collector file",
                     {{"file", path}, {"err", pst.ToString()}});
          error = true;
          continue;
        }
        mtimes.emplace_back(n, static_cast<double>(sb.st_mtim.tv_sec) +
                                   static_cast<double>(sb.st_mtim.tv_nsec) / 1e9);
      }
    }
    for (const auto& [name, f] : families) {
      w->Family(name, f.help.empty() ? "Metric read from " + f.source : f.help, f.type);
      w->buffer()->append(f.samples);
    }
    if (!mtimes.empty()) {
      w->Family("node_textfile_mtime_seconds", "Unixtime mtime of textfiles successfully read.",
                MetricType::kGauge);
      for (const auto& [file, t] : mtimes)
        w->Sample("node_textfile_mtime_seconds", {{"file", file}}, t);
    }
    w->Single("node_textfile_scrape_error",
              "1 if there was an error opening or reading a file, 0 otherwise", MetricType::kGauge,
              error ? 1 : 0);
    return Status::Ok();
  }

 private:
  struct Family {
    std::string help;
    MetricType type = MetricType::kUntyped;
    std::string samples;  // rendered sample lines
    std::string source;
  };

  // Parses the whole file first, so a broken file adds nothing.
  Status ParseFile(const std::string& path, const std::string& file_name,
                   std::map<std::string, Family>* out) {
    TOCSIN_RETURN_IF_ERROR(ReadFile(path, &buf_));
    std::map<std::string, Family> local;
    expfmt::Parser p(buf_);
    expfmt::Parser::Entry e;
    std::string current;
    MetricType current_type = MetricType::kUntyped;
    std::vector<expfmt::Label> labels;
    while (p.Next(&e)) {
      if (e != expfmt::Parser::Entry::kSample) {
        current = std::string(p.family_name());
        Family& f = local[current];
        f.source = file_name;
        if (e == expfmt::Parser::Entry::kHelp)
          f.help = p.help();
        else
          f.type = p.type();
        current_type = f.type;
        continue;
      }
      if (p.timestamp_ms())
        return Status::InvalidArgument(path + ": line " + std::to_string(p.line()) +
                                       ": textfile metrics must not have timestamps");
      std::string_view name = p.metric_name();
      std::string family(name);
      if (!current.empty() && name != current) {
        bool child =
            (current_type == MetricType::kHistogram || current_type == MetricType::kSummary) &&
            StartsWith(name, current) &&
            (name.substr(current.size()) == "_bucket" || name.substr(current.size()) == "_sum" ||
             name.substr(current.size()) == "_count");
        if (child) family = current;
      }
      if (family != current) current.clear();
      Family& f = local[family];
      f.source = file_name;
      labels.clear();
      for (size_t i = 0; i < p.label_count(); ++i)
        labels.push_back({p.label_name(i), p.label_value(i)});
      expfmt::Writer(&f.samples).Sample(name, labels, p.value());
    }
    if (!p.status().ok()) return p.status().WithContext(path);
    for (auto& [name, f] : local) {
      Family& dst = (*out)[name];
      if (!dst.samples.empty() && dst.type != f.type) {
        return Status::InvalidArgument(path + ": family " + name +
                                       " has a different type in another file");
      }
      if (dst.help.empty()) dst.help = f.help;
      dst.type = f.type;
      dst.source = f.source;
      dst.samples += f.samples;
    }
    return Status::Ok();
  }

  std::string dir_, buf_;
};

}  // namespace

std::unique_ptr<Collector> NewTextfileCollector(const CollectorOptions& o) {
  return std::make_unique<TextfileCollector>(o.textfile_directory);
}

}  // namespace tocsin::exporter
