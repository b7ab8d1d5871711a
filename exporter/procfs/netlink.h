#pragma once
// Pure parser of an rtnetlink RTM_NEWLINK dump (the reply to RTM_GETLINK with NLM_F_DUMP):
// bytes in, one LinkInfo per interface out. The socket exchange lives in the netclass collector.
// Thread-safety: pure function.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/base/status.h"

namespace tocsin::procfs {

struct LinkInfo {
  std::string name;
  int32_t index = 0;
  uint16_t type = 0;   // ARPHRD_*
  uint32_t flags = 0;  // ifi_flags (dev_get_flags(): includes IFF_RUNNING, IFF_LOWER_UP, ...)
  std::optional<uint32_t> mtu, txqlen, link, group, carrier_changes, carrier_up_count,
      carrier_down_count;
  std::optional<uint8_t> operstate, link_mode, carrier;
  std::optional<uint64_t> rx_nohandler;
  std::string address, broadcast, ifalias;  // addresses as sysfs prints them: hex bytes with ':'
};

// Parses concatenated netlink messages. NLMSG_DONE ends the dump; NLMSG_ERROR is an error; a
// truncated message or attribute is InvalidArgument naming the byte offset.
Status ParseLinkDump(std::string_view bytes, std::vector<LinkInfo>* out, bool* done);

// IF_OPER_* as sysfs' operstate spells it ("up", "down", "unknown", ...).
std::string_view OperStateName(uint8_t operstate);

}  // namespace tocsin::procfs
