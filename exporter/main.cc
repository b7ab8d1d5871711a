// tocsin-exporter: node_exporter- and cAdvisor-compatible metrics, plus blackbox-style probes.
#include <malloc.h>

#include <algorithm>
#include <cstdio>
#include <deque>
#include <map>
#include <thread>

#include <re2/re2.h>

#include "common/base/flags.h"
#include "common/base/log.h"
#include "common/base/signals.h"
#include "common/http/server.h"
#include "exporter/exporter.h"
#include "exporter/probe/probe.h"

using namespace tocsin;

int main(int argc, char** argv) {
  // Scrapes are short and few threads allocate: one malloc arena keeps the resident set small
  // (glibc would otherwise give each worker thread its own).
  mallopt(M_ARENA_MAX, 1);
  SignalWaiter signals;
  exporter::ExporterOptions opts;
  exporter::CollectorOptions& c = opts.collectors;
  http::ServerOptions web;
  web.listen_address = ":9100";
  std::string telemetry_path = "/metrics";
  int64_t max_requests = 40;
  std::string probe_config;
  std::string log_level = "info";
  std::deque<bool> enabled_storage;

  FlagSet flags(
      "tocsin-exporter",
      "Exports host metrics (node_exporter names), container metrics (cAdvisor names) and\n"
      "blackbox-style HTTP/TCP probes for Prometheus-compatible scrapers.");
  flags.String("web.listen-address", &web.listen_address,
               "Address on which to expose metrics and probes.");
  flags.String("web.telemetry-path", &telemetry_path, "Path under which to expose metrics.");
  flags.Int("web.max-requests", &max_requests,
            "Maximum number of parallel scrape requests. 0 disables the limit.");
  flags.String("path.procfs", &c.paths.procfs, "procfs mountpoint.");
  flags.String("path.sysfs", &c.paths.sysfs, "sysfs mountpoint.");
  flags.String("path.rootfs", &c.paths.rootfs, "rootfs mountpoint.");
  flags.String("path.udev.data", &c.paths.udev_data, "udev data path.");
  flags.String("path.cgroupfs", &c.cgroupfs,
               "cgroup filesystem root (default: <path.sysfs>/fs/cgroup).");
  flags.Bool("collector.disable-defaults", &opts.disable_defaults,
             "Set all collectors to disabled by default.");
  for (const auto& def : exporter::AllCollectors()) {
    enabled_storage.push_back(def.default_enabled);
    flags.Bool(std::string("collector.") + def.name, &enabled_storage.back(),
               std::string("Enable the ") + def.name + " collector: " + def.help + ".");
  }
  flags.String("collector.filesystem.mount-points-exclude", &c.filesystem_mount_points_exclude,
               "Regexp of mount points to exclude for filesystem collector.");
  flags.String("collector.filesystem.fs-types-exclude", &c.filesystem_fs_types_exclude,
               "Regexp of filesystem types to exclude for filesystem collector.");
  flags.Duration("collector.filesystem.mount-timeout", &c.filesystem_mount_timeout,
                 "How long to wait for a mount to respond before marking it as stale.");
  flags.String("collector.diskstats.device-exclude", &c.diskstats_device_exclude,
               "Regexp of diskstats devices to exclude.");
  flags.String("collector.netdev.device-exclude", &c.netdev_device_exclude,
               "Regexp of net devices to exclude.");
  flags.String("collector.netstat.fields", &c.netstat_fields,
               "Regexp of fields to return for netstat collector.");
  flags.String("collector.vmstat.fields", &c.vmstat_fields,
               "Regexp of fields to return for vmstat collector.");
  flags.String("collector.textfile.directory", &c.textfile_directory,
               "Directory to read text files with metrics from.");
  flags.String("collector.container.docker-socket", &c.docker_socket,
               "Docker Engine socket used to name containers (optional; read-only use).");
  flags.String("collector.container.label-allow", &c.container_label_allow,
               "Regexp of Docker label names exported as container_label_<name>.");
  flags.String(
      "config.probe-file", &probe_config,
      "blackbox_exporter-style modules file for /probe (built-in: http_2xx, tcp_connect).");
  flags.String("log.level", &log_level,
               "Only log messages with the given severity or above: debug, info, warn, error.");

  if (int rc = flags.ParseCommandLine(argc, argv, exporter::kVersion); rc >= 0) return rc;
  Status st;
  log::Level level;
  if (!log::ParseLevel(log_level, &level)) {
    std::fprintf(stderr, "tocsin-exporter: invalid --log.level \"%s\"\n", log_level.c_str());
    return 2;
  }
  log::SetLevel(level);
  size_t i = 0;
  for (const auto& def : exporter::AllCollectors()) {
    std::string flag = std::string("collector.") + def.name;
    if (flags.WasSet(flag)) opts.enabled[def.name] = enabled_storage[i];
    ++i;
  }
  for (const std::string* re : {&c.filesystem_mount_points_exclude, &c.filesystem_fs_types_exclude,
                                &c.diskstats_device_exclude, &c.netdev_device_exclude,
                                &c.netstat_fields, &c.vmstat_fields, &c.container_label_allow}) {
    RE2 check(*re, RE2::Quiet);
    if (!re->empty() && !check.ok()) {
      std::fprintf(stderr, "tocsin-exporter: invalid regexp \"%s\": %s\n", re->c_str(),
                   check.error().c_str());
      return 2;
    }
  }
  auto modules = exporter::DefaultProbeModules();
  if (!probe_config.empty()) {
    st = exporter::LoadProbeModules(probe_config, &modules);
    if (!st.ok()) {
      std::fprintf(stderr, "tocsin-exporter: %s\n", std::string(st.message()).c_str());
      return 2;
    }
  }

  // Collectors of one scrape run on up to two threads: most of their time is the kernel
  // producing /proc and /sys text, which a second core halves.
  opts.parallelism =
      std::min(2, std::max(1, static_cast<int>(std::thread::hardware_concurrency())));
  log::Info("Starting tocsin-exporter", {{"version", exporter::kVersion}});
  exporter::Exporter exp(opts);
  std::string names;
  for (const auto& n : exp.enabled()) names += (names.empty() ? "" : ",") + n;
  log::Info("Enabled collectors", {{"collectors", names}});
  exporter::Prober prober(std::move(modules));

  web.max_concurrent_requests = static_cast<int>(max_requests);
  web.worker_threads = 4;  // probes wait on the network; scrapes are short
  http::Server server(web);
  server.router().Handle(telemetry_path,
                         [&](const http::Request& r) { return exp.HandleMetrics(r); });
  server.router().Handle("/probe", [&](const http::Request& r) { return prober.Handle(r); });
  server.router().HandleHealth();
  server.router().Handle("/", [&](const http::Request&) {
    http::Response r;
    r.content_type = "text/html; charset=utf-8";
    r.body =
        "<html><head><title>tocsin-exporter</title></head><body><h1>tocsin-exporter</h1>"
        "<p><a href=\"" +
        telemetry_path +
        "\">Metrics</a></p>"
        "<p><a href=\"/probe?target=http://127.0.0.1:9100/-/healthy\">Probe "
        "example</a></p></body></html>\n";
    return r;
  });
  st = server.Start();
  if (!st.ok()) {
    log::Error("Failed to start the web server", {{"err", st.ToString()}});
    return 1;
  }
  int sig = signals.Wait();
  log::Info("Shutting down", {{"signal", std::to_string(sig)}});
  server.Stop();
  return 0;
}
