#pragma once
// File helpers that report errors as Status naming the path. Thread-safety: all functions may be
// called from any thread.

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "common/base/status.h"

namespace tocsin {

// Files in /proc and /sys are small; anything larger than this is treated as an error rather than
// read into memory (a guard against a bogus or hostile fixture).
inline constexpr size_t kDefaultMaxFileBytes = 16 << 20;

// Replaces *out with the content of path, reading into *out's own storage (no copy, and no
// allocation once its capacity fits). A read shorter than asked is taken as the end of the file:
// true of regular files, and of procfs seq_files and kernfs attributes, which fill the buffer
// until their last record. This saves the extra read() returning 0 and, for files such as
// /proc/net/udp whose every read() walks a kernel hash table from the start, a second walk.
Status ReadFile(const std::string& path, std::string* out, size_t max_bytes = kDefaultMaxFileBytes);
// Reads a file holding a single integer (sysfs style), trimmed.
Status ReadUint64File(const std::string& path, uint64_t* v);
Status ReadInt64File(const std::string& path, int64_t* v);
// Reads a one-line file, trimmed of whitespace.
Status ReadTrimmedFile(const std::string& path, std::string* out);
// Replaces *names with the entries of dir (without "." and ".."), sorted.
Status ListDir(const std::string& dir, std::vector<std::string>* names);
// Like ListDir, but only subdirectories (from the directory entry's type, without a stat()).
Status ListSubdirs(const std::string& dir, std::vector<std::string>* names);
bool PathExists(const std::string& path);
bool IsDirectory(const std::string& path);
// Joins two path parts with exactly one '/'.
std::string JoinPath(std::string_view a, std::string_view b);

}  // namespace tocsin
