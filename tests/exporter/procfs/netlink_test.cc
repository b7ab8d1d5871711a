#include "exporter/procfs/netlink.h"

#include <gtest/gtest.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>

#include <cstring>

namespace tocsin::procfs {
namespace {

// Builds one RTM_NEWLINK message with the given attributes, as the kernel lays it out.
class LinkMessage {
 public:
  LinkMessage(int index, uint16_t type, uint32_t flags) {
    buf_.resize(NLMSG_HDRLEN + NLMSG_ALIGN(sizeof(ifinfomsg)));
    ifinfomsg ifi{};
    ifi.ifi_index = index;
    ifi.ifi_type = type;
    ifi.ifi_flags = flags;
    std::memcpy(buf_.data() + NLMSG_HDRLEN, &ifi, sizeof ifi);
  }
  LinkMessage& Attr(uint16_t type, const void* data, size_t len) {
    rtattr ra{static_cast<unsigned short>(RTA_LENGTH(len)), type};
    size_t at = buf_.size();
    buf_.resize(at + RTA_ALIGN(RTA_LENGTH(len)));
    std::memcpy(buf_.data() + at, &ra, sizeof ra);
    std::memcpy(buf_.data() + at + RTA_LENGTH(0), data, len);
    return *this;
  }
  LinkMessage& U32(uint16_t type, uint32_t v) { return Attr(type, &v, 4); }
  LinkMessage& Str(uint16_t type, const std::string& s) {
    return Attr(type, s.c_str(), s.size() + 1);
  }
  std::string Bytes(uint16_t msg_type = RTM_NEWLINK) const {
    std::string b = buf_;
    nlmsghdr h{static_cast<uint32_t>(b.size()), msg_type, NLM_F_MULTI, 1, 0};
    std::memcpy(b.data(), &h, sizeof h);
    return b;
  }

 private:
  std::string buf_;
};

std::string Done() {
  std::string b(NLMSG_LENGTH(sizeof(int)), '\0');
  nlmsghdr h{static_cast<uint32_t>(b.size()), NLMSG_DONE, NLM_F_MULTI, 1, 0};
  std::memcpy(b.data(), &h, sizeof h);
  return b;
}

TEST(ParseLinkDump, AttributesAsSysfsShowsThem) {
  uint8_t mac[6] = {0x02, 0xfc, 0, 0, 0, 1}, bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff},
          up = 6, carrier = 1;
  rtnl_link_stats64 stats{};
  stats.rx_nohandler = 42;
  std::string dump = LinkMessage(4, 1, 0x11043)
                         .Str(IFLA_IFNAME, "eth0")
                         .U32(IFLA_MTU, 1500)
                         .U32(IFLA_TXQLEN, 1000)
                         .U32(IFLA_CARRIER_CHANGES, 2)
                         .Attr(IFLA_OPERSTATE, &up, 1)
                         .Attr(IFLA_CARRIER, &carrier, 1)
                         .Attr(IFLA_ADDRESS, mac, 6)
                         .Attr(IFLA_BROADCAST, bcast, 6)
                         .Attr(IFLA_STATS64, &stats, sizeof stats)
                         .Bytes() +
                     Done();
  std::vector<LinkInfo> links;
  bool done;
  ASSERT_TRUE(ParseLinkDump(dump, &links, &done).ok());
  EXPECT_TRUE(done);
  ASSERT_EQ(links.size(), 1u);
  const LinkInfo& l = links[0];
  EXPECT_EQ(l.name, "eth0");
  EXPECT_EQ(l.index, 4);
  EXPECT_EQ(*l.mtu, 1500u);
  EXPECT_EQ(*l.carrier_changes, 2u);
  EXPECT_EQ(OperStateName(*l.operstate), "up");
  EXPECT_EQ(l.address, "02:fc:00:00:00:01");
  EXPECT_EQ(l.broadcast, "ff:ff:ff:ff:ff:ff");
  EXPECT_EQ(*l.rx_nohandler, 42u);
  EXPECT_FALSE(l.link.has_value());
}

TEST(ParseLinkDump, TruncatedAndErrorMessages) {
  std::string msg = LinkMessage(1, 772, 9).Str(IFLA_IFNAME, "lo").U32(IFLA_MTU, 65536).Bytes();
  std::vector<LinkInfo> links;
  bool done;
  for (size_t cut : {size_t{3}, size_t{NLMSG_HDRLEN + 4}, msg.size() - 2}) {
    std::string bad = msg.substr(0, cut);
    Status st = ParseLinkDump(bad, &links, &done);
    EXPECT_FALSE(st.ok()) << cut;
    EXPECT_NE(st.message().find("truncated"), std::string_view::npos) << st.ToString();
  }
  // A message whose attribute claims more bytes than there are.
  std::string lying = msg;
  rtattr ra{500, IFLA_MTU};
  std::memcpy(lying.data() + NLMSG_HDRLEN + NLMSG_ALIGN(sizeof(ifinfomsg)), &ra, sizeof ra);
  EXPECT_FALSE(ParseLinkDump(lying, &links, &done).ok());
  // The kernel's error reply.
  std::string err = LinkMessage(0, 0, 0).Bytes(NLMSG_ERROR);
  int code = -13;  // EACCES
  std::memcpy(err.data() + NLMSG_HDRLEN, &code, sizeof code);
  Status st = ParseLinkDump(err, &links, &done);
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.message().find("Permission denied"), std::string_view::npos) << st.ToString();
}

}  // namespace
}  // namespace tocsin::procfs
