#include "exporter/procfs/netlink.h"

#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>

#include <cstring>

namespace tocsin::procfs {

namespace {

template <typename T>
T Load(const char* p) {
  T v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

std::string HexAddress(std::string_view b) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (size_t i = 0; i < b.size(); ++i) {
    if (i) out.push_back(':');
    auto c = static_cast<unsigned char>(b[i]);
    out.push_back(kHex[c >> 4]);
    out.push_back(kHex[c & 15]);
  }
  return out;
}

Status Truncated(size_t offset, std::string_view what) {
  return Status::InvalidArgument("netlink dump: truncated " + std::string(what) + " at byte " +
                                 std::to_string(offset));
}

}  // namespace

std::string_view OperStateName(uint8_t s) {
  static constexpr std::string_view kNames[] = {"unknown", "notpresent", "down", "lowerlayerdown",
                                                "testing", "dormant",    "up"};
  return s < std::size(kNames) ? kNames[s] : "unknown";
}

Status ParseLinkDump(std::string_view bytes, std::vector<LinkInfo>* out, bool* done) {
  *done = false;
  size_t off = 0;
  while (off < bytes.size()) {
    if (bytes.size() - off < sizeof(nlmsghdr)) return Truncated(off, "message header");
    auto h = Load<nlmsghdr>(bytes.data() + off);
    if (h.nlmsg_len < sizeof(nlmsghdr) || h.nlmsg_len > bytes.size() - off)
      return Truncated(off, "message");
    const char* body = bytes.data() + off + NLMSG_HDRLEN;
    size_t body_len = h.nlmsg_len - NLMSG_HDRLEN;
    if (h.nlmsg_type == NLMSG_DONE) {
      *done = true;
      return Status::Ok();
    }
    if (h.nlmsg_type == NLMSG_ERROR) {
      int err = body_len >= sizeof(int) ? -Load<int>(body) : 0;
      return Status::FromErrno("netlink RTM_GETLINK", err);
    }
    if (h.nlmsg_type == RTM_NEWLINK) {
      if (body_len < sizeof(ifinfomsg)) return Truncated(off, "ifinfomsg");
      auto ifi = Load<ifinfomsg>(body);
      LinkInfo l;
      l.index = ifi.ifi_index;
      l.type = ifi.ifi_type;
      l.flags = ifi.ifi_flags;
      size_t a = NLMSG_ALIGN(sizeof(ifinfomsg));
      while (a + sizeof(rtattr) <= body_len) {
        auto ra = Load<rtattr>(body + a);
        if (ra.rta_len < sizeof(rtattr) || ra.rta_len > body_len - a)
          return Truncated(off + NLMSG_HDRLEN + a, "attribute");
        std::string_view data(body + a + RTA_LENGTH(0), ra.rta_len - RTA_LENGTH(0));
        auto u32 = [&]() -> std::optional<uint32_t> {
          if (data.size() < 4) return std::nullopt;
          return Load<uint32_t>(data.data());
        };
        auto u8 = [&]() -> std::optional<uint8_t> {
          if (data.empty()) return std::nullopt;
          return static_cast<uint8_t>(data[0]);
        };
        auto str = [&]() { return std::string(data.substr(0, data.find('\0'))); };
        switch (ra.rta_type) {
          case IFLA_IFNAME:
            l.name = str();
            break;
          case IFLA_MTU:
            l.mtu = u32();
            break;
          case IFLA_TXQLEN:
            l.txqlen = u32();
            break;
          case IFLA_LINK:
            l.link = u32();
            break;
          case IFLA_GROUP:
            l.group = u32();
            break;
          case IFLA_CARRIER_CHANGES:
            l.carrier_changes = u32();
            break;
          case IFLA_CARRIER_UP_COUNT:
            l.carrier_up_count = u32();
            break;
          case IFLA_CARRIER_DOWN_COUNT:
            l.carrier_down_count = u32();
            break;
          case IFLA_OPERSTATE:
            l.operstate = u8();
            break;
          case IFLA_LINKMODE:
            l.link_mode = u8();
            break;
          case IFLA_CARRIER:
            l.carrier = u8();
            break;
          case IFLA_ADDRESS:
            l.address = HexAddress(data);
            break;
          case IFLA_BROADCAST:
            l.broadcast = HexAddress(data);
            break;
          case IFLA_IFALIAS:
            l.ifalias = str();
            break;
          case IFLA_STATS64: {
            constexpr size_t kOff = offsetof(rtnl_link_stats64, rx_nohandler);
            if (data.size() >= kOff + 8) l.rx_nohandler = Load<uint64_t>(data.data() + kOff);
            break;
          }
          default:
            break;
        }
        a += RTA_ALIGN(ra.rta_len);
      }
      if (l.name.empty())
        return Status::InvalidArgument("netlink dump: link " + std::to_string(l.index) +
                                       " has no name");
      out->push_back(std::move(l));
    }
    off += NLMSG_ALIGN(h.nlmsg_len);
  }
  return Status::Ok();
}

}  // namespace tocsin::procfs
