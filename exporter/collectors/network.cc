// Network collectors: netdev (/proc/net/dev), netclass (/sys/class/net), netstat
// (/proc/net/{netstat,snmp,snmp6}), sockstat (/proc/net/sockstat{,6}).
#include <linux/if.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <optional>

#include <charconv>

#include "common/base/strings.h"
#include "exporter/collectors/collectors_internal.h"
#include "exporter/procfs/netlink.h"

namespace tocsin::exporter {

namespace {

class NetdevCollector : public Collector {
 public:
  NetdevCollector(const Paths& p, const std::string& exclude)
      : path_(p.Proc("net/dev")), sys_net_(p.Sys("class/net")), exclude_(CompilePattern(exclude)) {}
  Status Collect(expfmt::Writer* w) override {
    TOCSIN_RETURN_IF_ERROR(ReadAndParse(path_, &buf_, &devs_, procfs::ParseNetDev));
    static constexpr const char* kNames[16] = {
        "receive_bytes",  "receive_packets",  "receive_errs",       "receive_drop",
        "receive_fifo",   "receive_frame",    "receive_compressed", "receive_multicast",
        "transmit_bytes", "transmit_packets", "transmit_errs",      "transmit_drop",
        "transmit_fifo",  "transmit_colls",   "transmit_carrier",   "transmit_compressed"};
    // node_exporter writes families sorted by name; keep the same order for easy diffs.
    static constexpr int kOrder[16] = {0, 6, 3, 2, 4, 5, 7, 1, 8, 14, 13, 15, 11, 10, 12, 9};
    for (int k : kOrder) {
      AssignConcat(&name_, {"node_network_", kNames[k], "_total"});
      AssignConcat(&help_, {"Network device statistic ", kNames[k], "."});
      w->Family(name_, help_, MetricType::kCounter);
      for (const auto& d : devs_) {
        if (Matches(exclude_.get(), d.device)) continue;
        w->Sample(name_, {{"device", d.device}}, static_cast<double>(d.v[static_cast<size_t>(k)]));
      }
      if (k == 7) WriteNoHandler(w);  // sorts between receive_multicast and receive_packets
    }
    return Status::Ok();
  }

 private:
  // rx_nohandler is not in /proc/net/dev; node_exporter reads it over netlink, sysfs has it too.
  void WriteNoHandler(expfmt::Writer* w) {
    bool any = false;
    for (const auto& d : devs_) {
      uint64_t v;
      if (Matches(exclude_.get(), d.device) ||
          !ReadUint64File(sys_net_ + "/" + d.device + "/statistics/rx_nohandler", &v).ok())
        continue;
      if (!any)
        w->Family("node_network_receive_nohandler_total",
                  "Network device statistic receive_nohandler.", MetricType::kCounter);
      any = true;
      w->Sample("node_network_receive_nohandler_total", {{"device", d.device}},
                static_cast<double>(v));
    }
  }

  std::string path_, sys_net_, buf_, name_, help_;
  std::unique_ptr<RE2> exclude_;
  std::vector<procfs::NetDevStat> devs_;
};

// Sends RTM_GETLINK (dump) on a NETLINK_ROUTE socket and parses every reply.
Status DumpLinks(std::vector<procfs::LinkInfo>* links) {
  links->clear();
  int fd = ::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
  if (fd < 0) return Status::FromErrno("netlink socket", errno);
  struct timeval tv = {2, 0};  // a kernel that does not answer must not hang the scrape
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  struct {
    nlmsghdr h;
    ifinfomsg i;
  } req = {};
  req.h.nlmsg_len = sizeof req;
  req.h.nlmsg_type = RTM_GETLINK;
  req.h.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
  req.h.nlmsg_seq = 1;
  req.i.ifi_family = AF_UNSPEC;
  if (::send(fd, &req, sizeof req, 0) < 0) {
    int err = errno;
    ::close(fd);
    return Status::FromErrno("netlink send", err);
  }
  // Replies come in messages of at most a page or two; an uninitialised buffer keeps the pages
  // the kernel does not write out of the resident set.
  constexpr size_t kBufSize = 32 << 10;
  thread_local std::unique_ptr<char[]> buf(new char[kBufSize]);
  bool done = false;
  Status st;
  while (!done && st.ok()) {
    ssize_t n = ::recv(fd, buf.get(), kBufSize, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      st = Status::FromErrno("netlink recv", errno);
      break;
    }
    if (n == 0) break;
    st = procfs::ParseLinkDump(std::string_view(buf.get(), static_cast<size_t>(n)), links, &done);
  }
  ::close(fd);
  if (st.ok() && !done) st = Status::IoError("netlink dump ended without NLMSG_DONE");
  return st;
}

// node_network_* from /sys/class/net, as node_exporter reads them. When the sysfs root is the
// live /sys (so netlink sees the same network namespace), the attributes that rtnetlink carries
// come from one RTM_GETLINK dump instead of 17 files per interface; the rest (address and name
// assignment types, dev_id, speed, duplex) are still read from sysfs.
class NetclassCollector : public Collector {
 public:
  NetclassCollector(const Paths& p, bool netlink)
      : dir_(p.Sys("class/net")), netlink_(netlink && p.sysfs == "/sys") {}

  Status Collect(expfmt::Writer* w) override {
    devices_.clear();
    TOCSIN_RETURN_IF_ERROR(netlink_ ? ReadNetlink() : ReadSysfs());
    // Families in node_exporter's (alphabetical) order.
    for (size_t i = 0; i < kAttrs.size(); ++i) {
      const Attr& a = kAttrs[i];
      if (a.metric == std::string_view("info")) {
        w->Family("node_network_info",
                  "Non-numeric data from /sys/class/net/<iface>, value is always 1.",
                  MetricType::kGauge);
        for (const Device& d : devices_) {
          w->Sample("node_network_info",
                    {{"address", d.info[0]},
                     {"broadcast", d.info[1]},
                     {"device", d.name},
                     {"duplex", d.info[2]},
                     {"ifalias", d.info[3]},
                     {"operstate", d.info[4]}},
                    1);
        }
        continue;
      }
      if (a.metric == std::string_view("up")) {
        w->Family("node_network_up", "Value is 1 if operstate is 'up', 0 otherwise.",
                  MetricType::kGauge);
        for (const Device& d : devices_)
          w->Sample("node_network_up", {{"device", d.name}}, d.info[4] == "up" ? 1 : 0);
        continue;
      }
      AssignConcat(&name_, {"node_network_", a.metric});
      AssignConcat(&help_, {"Network device property: ", a.metric});
      bool any = false;
      for (const Device& d : devices_) {
        double v;
        if (!d.present[i] || !ParseValue(d.values[i], a.scale, &v)) continue;
        if (!any) {
          w->Family(name_, help_, a.counter ? MetricType::kCounter : MetricType::kGauge);
          any = true;
        }
        w->Sample(name_, {{"device", d.name}}, v);
      }
    }
    return Status::Ok();
  }

 private:
  struct Attr {
    const char* metric;
    const char* file;
    double scale;
    bool counter;
  };
  // Sorted by metric name; "info" and "up" are placeholders for the non-numeric families.
  static constexpr std::array<Attr, 19> kAttrs = {{
      {"address_assign_type", "addr_assign_type", 1, false},
      {"carrier", "carrier", 1, false},
      {"carrier_changes_total", "carrier_changes", 1, true},
      {"carrier_down_changes_total", "carrier_down_count", 1, true},
      {"carrier_up_changes_total", "carrier_up_count", 1, true},
      {"device_id", "dev_id", 1, false},
      {"dormant", "dormant", 1, false},
      {"flags", "flags", 1, false},
      {"iface_id", "ifindex", 1, false},
      {"iface_link", "iflink", 1, false},
      {"iface_link_mode", "link_mode", 1, false},
      {"info", nullptr, 1, false},
      {"mtu_bytes", "mtu", 1, false},
      {"name_assign_type", "name_assign_type", 1, false},
      {"net_dev_group", "netdev_group", 1, false},
      {"protocol_type", "type", 1, false},
      {"speed_bytes", "speed", 125000, false},  // Mbit/s to bytes/s
      {"transmit_queue_length", "tx_queue_len", 1, false},
      {"up", nullptr, 1, false},
  }};
  static constexpr std::array<const char*, 5> kInfo = {"address", "broadcast", "duplex", "ifalias",
                                                       "operstate"};

  struct Device {
    std::string name;
    std::array<std::string, kAttrs.size()> values;
    std::array<bool, kAttrs.size()> present{};
    std::array<std::string, kInfo.size()> info;
  };

  Status ReadSysfs() {
    std::vector<std::string> names;
    TOCSIN_RETURN_IF_ERROR(ListDir(dir_, &names));
    for (const std::string& n : names) {
      Device d;
      d.name = n;
      std::string base = dir_ + "/" + n + "/";
      for (size_t i = 0; i < kAttrs.size(); ++i) ReadAttr(base, i, &d);
      for (size_t i = 0; i < kInfo.size(); ++i) {
        if (!ReadTrimmedFile(base + kInfo[i], &d.info[i]).ok()) d.info[i].clear();
      }
      devices_.push_back(std::move(d));
    }
    return Status::Ok();
  }

  Status ReadNetlink() {
    TOCSIN_RETURN_IF_ERROR(DumpLinks(&links_));
    std::sort(links_.begin(), links_.end(),
              [](const auto& a, const auto& b) { return a.name < b.name; });
    for (const procfs::LinkInfo& l : links_) {
      Device d;
      d.name = l.name;
      std::string base = dir_ + "/" + l.name + "/";
      // sysfs refuses carrier and dormant while the interface is down; so does this.
      bool running = (l.flags & IFF_UP) != 0;
      constexpr uint32_t kComputed = IFF_RUNNING | IFF_LOWER_UP | IFF_DORMANT;  // not in dev->flags
      for (size_t i = 0; i < kAttrs.size(); ++i) {
        std::string_view f = kAttrs[i].file ? kAttrs[i].file : "";
        std::optional<int64_t> v;
        if (f == "carrier") {
          if (running && l.carrier) v = *l.carrier;
        } else if (f == "carrier_changes") {
          if (l.carrier_changes) v = *l.carrier_changes;
        } else if (f == "carrier_down_count") {
          if (l.carrier_down_count) v = *l.carrier_down_count;
        } else if (f == "carrier_up_count") {
          if (l.carrier_up_count) v = *l.carrier_up_count;
        } else if (f == "dormant") {
          if (running) v = (l.flags & IFF_DORMANT) ? 1 : 0;
        } else if (f == "flags") {
          v = l.flags & ~kComputed;
        } else if (f == "ifindex") {
          v = l.index;
        } else if (f == "iflink") {
          v = l.link ? static_cast<int64_t>(*l.link) : l.index;
        } else if (f == "link_mode") {
          if (l.link_mode) v = *l.link_mode;
        } else if (f == "mtu") {
          if (l.mtu) v = *l.mtu;
        } else if (f == "netdev_group") {
          if (l.group) v = *l.group;
        } else if (f == "type") {
          v = l.type;
        } else if (f == "tx_queue_len") {
          if (l.txqlen) v = *l.txqlen;
        } else {
          ReadAttr(base, i, &d);  // not carried by rtnetlink
          continue;
        }
        if (v) {
          d.values[i] = std::to_string(*v);
          d.present[i] = true;
        }
      }
      d.info[0] = l.address;
      d.info[1] = l.broadcast;
      if (!ReadTrimmedFile(base + "duplex", &d.info[2]).ok()) d.info[2].clear();
      d.info[3] = l.ifalias;
      d.info[4] = l.operstate ? std::string(procfs::OperStateName(*l.operstate)) : "unknown";
      devices_.push_back(std::move(d));
    }
    return Status::Ok();
  }

  void ReadAttr(const std::string& base, size_t i, Device* d) {
    if (kAttrs[i].file == nullptr) return;  // info and up come from kInfo
    if (ReadTrimmedFile(base + kAttrs[i].file, &d->values[i]).ok()) d->present[i] = true;
  }

  static bool ParseValue(const std::string& s, double scale, double* v) {
    int64_t i;
    uint64_t u;
    if (StartsWith(s, "0x")) {
      auto [ptr, ec] = std::from_chars(s.data() + 2, s.data() + s.size(), u, 16);
      if (ec != std::errc() || ptr != s.data() + s.size() || s.size() == 2) return false;
      *v = static_cast<double>(u) * scale;
      return true;
    }
    if (ParseInt64(s, &i)) {
      *v = static_cast<double>(i) * scale;
      return true;
    }
    return false;
  }

  std::string dir_, name_, help_;
  bool netlink_;
  std::vector<Device> devices_;
  std::vector<procfs::LinkInfo> links_;
};

class NetstatCollector : public Collector {
 public:
  NetstatCollector(const Paths& p, const std::string& fields)
      : netstat_(p.Proc("net/netstat")),
        snmp_(p.Proc("net/snmp")),
        snmp6_(p.Proc("net/snmp6")),
        fields_(fields) {}
  Status Collect(expfmt::Writer* w) override {
    values_.clear();
    // values_ holds views into the three buffers.
    TOCSIN_RETURN_IF_ERROR(ReadAndParse(netstat_, &buf_[0], &values_, procfs::ParseNetstatPairs));
    TOCSIN_RETURN_IF_ERROR(ReadAndParse(snmp_, &buf_[1], &values_, procfs::ParseNetstatPairs));
    Status st6 = ReadAndParse(snmp6_, &buf_[2], &values_, procfs::ParseSnmp6);
    if (!st6.ok() && st6.code() != Status::Code::kNotFound) return st6;  // IPv6 may be disabled
    for (size_t i = 0; i < values_.size(); ++i) {
      const auto& v = values_[i];
      AssignConcat(&key_, {v.protocol, "_", v.name});
      if (!fields_.Selected(i, key_)) continue;
      AssignConcat(&name_, {"node_netstat_", key_});
      AssignConcat(&help_, {"Statistic ", v.protocol, v.name, "."});
      double d;
      if (!ParseDouble(v.value, &d)) continue;
      w->Single(name_, help_, MetricType::kUntyped, d);
    }
    return Status::Ok();
  }

 private:
  std::string netstat_, snmp_, snmp6_, key_, name_, help_;
  std::string buf_[3];
  FieldFilter fields_;
  std::vector<procfs::NetStatValue> values_;
};

class SockstatCollector : public Collector {
 public:
  explicit SockstatCollector(const Paths& p)
      : v4_(p.Proc("net/sockstat")), v6_(p.Proc("net/sockstat6")) {}
  Status Collect(expfmt::Writer* w) override {
    values_.clear();
    // values_ holds views into both buffers.
    TOCSIN_RETURN_IF_ERROR(ReadAndParse(v4_, &buf_[0], &values_, procfs::ParseSockstat));
    Status st6 = ReadAndParse(v6_, &buf_[1], &values_, procfs::ParseSockstat);
    if (!st6.ok() && st6.code() != Status::Code::kNotFound) return st6;
    static const double kPageSize = static_cast<double>(::sysconf(_SC_PAGESIZE));
    for (const auto& v : values_) {
      if (v.protocol == "sockets") {
        if (v.name == "used")
          w->Single("node_sockstat_sockets_used", "Number of IPv4 sockets in use.",
                    MetricType::kGauge, v.value);
        continue;
      }
      AssignConcat(&name_, {"node_sockstat_", v.protocol, "_", v.name});
      if (!expfmt::IsValidMetricName(name_)) continue;
      AssignConcat(&help_, {"Number of ", v.protocol, " sockets in state ", v.name, "."});
      w->Single(name_, help_, MetricType::kGauge, v.value);
      if (v.name == "mem") {  // pages; node_exporter adds the value in bytes
        name_ += "_bytes";
        AssignConcat(&help_, {"Number of ", v.protocol, " sockets in state mem_bytes."});
        w->Single(name_, help_, MetricType::kGauge, v.value * kPageSize);
      }
    }
    return Status::Ok();
  }

 private:
  std::string v4_, v6_, name_, help_;
  std::string buf_[2];
  std::vector<procfs::SockstatValue> values_;
};

}  // namespace

std::unique_ptr<Collector> NewNetdevCollector(const CollectorOptions& o) {
  return std::make_unique<NetdevCollector>(o.paths, o.netdev_device_exclude);
}
std::unique_ptr<Collector> NewNetclassCollector(const CollectorOptions& o) {
  return std::make_unique<NetclassCollector>(o.paths, o.netclass_netlink);
}
std::unique_ptr<Collector> NewNetstatCollector(const CollectorOptions& o) {
  return std::make_unique<NetstatCollector>(o.paths, o.netstat_fields);
}
std::unique_ptr<Collector> NewSockstatCollector(const CollectorOptions& o) {
  return std::make_unique<SockstatCollector>(o.paths);
}

}  // namespace tocsin::exporter
