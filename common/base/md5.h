#pragma once
// MD5 (RFC 1321), for Prometheus-compatible hashmod relabelling (not for security).
// Thread-safety: pure function.

#include <array>
#include <cstdint>
#include <string_view>

namespace tocsin {

std::array<uint8_t, 16> Md5(std::string_view data);

}  // namespace tocsin
