#include "common/labels/labels.h"

#include <re2/re2.h>

#include <algorithm>
#include <cstring>

#include "common/expfmt/writer.h"

namespace tocsin::labels {

namespace {

void PutU32(std::string* dst, uint32_t v) {
  char b[4] = {static_cast<char>(v), static_cast<char>(v >> 8), static_cast<char>(v >> 16),
               static_cast<char>(v >> 24)};
  dst->append(b, 4);
}

// Valid UTF-8 (RFC 3629): no overlong forms, no surrogates, nothing above U+10FFFF.
bool IsUtf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size() && static_cast<unsigned char>(s[i]) < 0x80) ++i;  // ASCII fast path
  while (i < s.size()) {
    auto c = static_cast<unsigned char>(s[i]);
    int n;
    uint32_t cp;
    if (c < 0x80) {
      ++i;
      continue;
    } else if ((c & 0xe0) == 0xc0) {
      n = 1;
      cp = c & 0x1f;
    } else if ((c & 0xf0) == 0xe0) {
      n = 2;
      cp = c & 0x0f;
    } else if ((c & 0xf8) == 0xf0) {
      n = 3;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (i + static_cast<size_t>(n) >= s.size()) return false;  // truncated sequence
    for (int k = 1; k <= n; ++k) {
      auto d = static_cast<unsigned char>(s[i + static_cast<size_t>(k)]);
      if ((d & 0xc0) != 0x80) return false;
      cp = (cp << 6) | (d & 0x3f);
    }
    if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) ||
        cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
      return false;
    i += static_cast<size_t>(n) + 1;
  }
  return true;
}

}  // namespace

Status Labels::FromPairs(std::vector<std::pair<std::string, std::string>> pairs, Labels* out) {
  std::vector<View> views(pairs.begin(), pairs.end());
  return FromViews(views, out);
}

Status Labels::FromViews(std::span<const View> pairs, Labels* out) {
  bool sorted = true;
  for (size_t i = 1; i < pairs.size(); ++i) {
    if (pairs[i].first < pairs[i - 1].first) {  // equal names are caught below as duplicates
      sorted = false;
      break;
    }
  }
  if (!sorted) {
    std::vector<View> copy(pairs.begin(), pairs.end());
    std::sort(copy.begin(), copy.end());
    return FromViews(copy, out);  // sorted now
  }
  out->data_.clear();
  for (size_t i = 0; i < pairs.size(); ++i) {
    const auto& [name, value] = pairs[i];
    if (!expfmt::IsValidLabelName(name)) {
      return Status::InvalidArgument("invalid label name \"" + std::string(name) + "\"");
    }
    if (i > 0 && pairs[i - 1].first == name) {
      return Status::InvalidArgument("label name \"" + std::string(name) +
                                     "\" given more than once");
    }
    if (!IsUtf8(value)) {
      return Status::InvalidArgument("label \"" + std::string(name) +
                                     "\" has a value that is not UTF-8");
    }
    if (value.empty()) continue;
    PutU32(&out->data_, static_cast<uint32_t>(name.size()));
    out->data_.append(name);
    PutU32(&out->data_, static_cast<uint32_t>(value.size()));
    out->data_.append(value);
  }
  return Status::Ok();
}

Status Labels::FromBytes(std::string_view bytes, Labels* out) {
  std::string_view rest = bytes, name, value, prev;
  bool first = true;
  while (!rest.empty()) {
    if (!Next(&rest, &name, &value)) return Status::Corruption("label set: truncated encoding");
    if (!first && name <= prev) return Status::Corruption("label set: names out of order");
    prev = name;
    first = false;
  }
  out->data_.assign(bytes);
  return Status::Ok();
}

std::string_view Labels::Get(std::string_view name) const {
  std::string_view rest = data_, n, v;
  while (Next(&rest, &n, &v)) {
    if (n == name) return v;
  }
  return {};
}

size_t Labels::size() const {
  size_t count = 0;
  ForEach([&](std::string_view, std::string_view) { ++count; });
  return count;
}

uint64_t Labels::Hash() const {
  // FNV-1a over the flat bytes: cheap and stable across runs (used in hashmod-style sharding
  // and map keys, never for security).
  uint64_t h = 1469598103934665603ULL;
  for (char c : data_) {
    h ^= static_cast<unsigned char>(c);
    h *= 1099511628211ULL;
  }
  return h;
}

std::string Labels::ToString() const {
  std::string out(Get(kMetricName));
  out += '{';
  bool first = true;
  ForEach([&](std::string_view n, std::string_view v) {
    if (n == kMetricName) return;
    if (!first) out += ", ";
    first = false;
    out.append(n);
    out += "=\"";
    expfmt::AppendEscapedLabelValue(&out, v);
    out += '"';
  });
  out += '}';
  return out;
}

bool Labels::operator<(const Labels& o) const {
  std::string_view a = data_, b = o.data_, an, av, bn, bv;
  for (;;) {
    bool ha = Next(&a, &an, &av), hb = Next(&b, &bn, &bv);
    if (!ha || !hb) return !ha && hb;
    if (an != bn) return an < bn;
    if (av != bv) return av < bv;
  }
}

Status Matcher::Make(Type type, std::string name, std::string value, Matcher* out) {
  out->type_ = type;
  out->re_.reset();
  if (type == Type::kRegexp || type == Type::kNotRegexp) {
    RE2::Options opts;
    opts.set_log_errors(false);
    opts.set_dot_nl(true);  // Prometheus compiles with (?s)
    auto re = std::make_shared<RE2>("^(?:" + value + ")$", opts);
    if (!re->ok()) {
      return Status::InvalidArgument("invalid regular expression \"" + value +
                                     "\": " + re->error());
    }
    out->re_ = std::move(re);
  }
  out->name_ = std::move(name);
  out->value_ = std::move(value);
  out->matches_empty_ = out->Matches("");
  return Status::Ok();
}

bool Matcher::Matches(std::string_view v) const {
  switch (type_) {
    case Type::kEqual:
      return v == value_;
    case Type::kNotEqual:
      return v != value_;
    case Type::kRegexp:
      return RE2::FullMatch(v, *re_);
    case Type::kNotRegexp:
      return !RE2::FullMatch(v, *re_);
  }
  return false;
}

std::string Matcher::ToString() const {
  static constexpr const char* kOps[] = {"=", "!=", "=~", "!~"};
  std::string out = name_ + kOps[static_cast<int>(type_)] + "\"";
  expfmt::AppendEscapedLabelValue(&out, value_);
  out += '"';
  return out;
}

}  // namespace tocsin::labels
