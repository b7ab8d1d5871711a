#pragma once
// Label sets and label matchers, as Prometheus defines them.
//
// A Labels value is a set of (name, value) pairs sorted by name and kept as one flat string
// ([u32 length][name][u32 length][value]...), so it hashes, compares and stores as bytes (the
// same bytes serve as a storage key). Empty values are dropped: in Prometheus a label with an
// empty value is the same as no label. Thread-safety: values; Matcher is immutable once made
// and may be used from any thread.

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/base/status.h"

namespace re2 {
class RE2;
}

namespace tocsin::labels {

inline constexpr std::string_view kMetricName = "__name__";

class Labels {
 public:
  Labels() = default;

  // Builds a set from pairs in any order. Errors name the offending label: an invalid name
  // ([a-zA-Z_][a-zA-Z0-9_]*), a name given twice, a value that is not UTF-8.
  static Status FromPairs(std::vector<std::pair<std::string, std::string>> pairs, Labels* out);
  // The same from views, reusing *out's storage (no allocation once warm): the hot path of
  // remote write, whose senders already sort labels. Unsorted input is sorted first.
  using View = std::pair<std::string_view, std::string_view>;
  static Status FromViews(std::span<const View> pairs, Labels* out);

  // The value of name, or "" when absent.
  std::string_view Get(std::string_view name) const;
  bool Has(std::string_view name) const { return !Get(name).empty(); }
  size_t size() const;
  bool empty() const { return data_.empty(); }

  // Calls f(name, value) in name order.
  template <typename F>
  void ForEach(F&& f) const {
    std::string_view rest = data_;
    std::string_view name, value;
    while (Next(&rest, &name, &value)) f(name, value);
  }

  // The pairs for which keep(name, value) is true, as a new set (no validation or sorting
  // needed: a subset of a set is one). The hot path of PromQL's label edits.
  template <typename F>
  Labels Filter(F&& keep) const {
    Labels out;
    std::string_view rest = data_;
    std::string_view name, value;
    while (Next(&rest, &name, &value))
      if (keep(name, value)) out.data_.append(name.data() - 4, value.data() + value.size());
    return out;
  }

  // The flat encoding (stable: used as a storage key).
  const std::string& bytes() const { return data_; }
  static Status FromBytes(std::string_view bytes, Labels* out);
  uint64_t Hash() const;
  // Prometheus's text form: name{a="b",c="d"} (or {..} without a __name__).
  std::string ToString() const;

  bool operator==(const Labels& o) const { return data_ == o.data_; }
  bool operator<(const Labels& o) const;  // by name, then value, pairwise (Prometheus's order)

 private:
  // The next pair of the encoding (inline: every label walk runs through it).
  static bool Next(std::string_view* rest, std::string_view* name, std::string_view* value) {
    uint32_t n;
    if (!NextU32(rest, &n)) return false;
    *name = rest->substr(0, n);
    rest->remove_prefix(n);
    if (!NextU32(rest, &n)) return false;
    *value = rest->substr(0, n);
    rest->remove_prefix(n);
    return true;
  }
  // A little-endian length that fits in what follows it.
  static bool NextU32(std::string_view* s, uint32_t* v) {
    if (s->size() < 4) return false;
    auto b = reinterpret_cast<const unsigned char*>(s->data());
    *v = b[0] | (b[1] << 8) | (b[2] << 16) | (static_cast<uint32_t>(b[3]) << 24);
    s->remove_prefix(4);
    return s->size() >= *v;
  }
  std::string data_;
};

class Matcher {
 public:
  enum class Type { kEqual, kNotEqual, kRegexp, kNotRegexp };

  // Regexps are RE2 syntax, fully anchored as in Prometheus. An invalid regexp is an error
  // naming it.
  static Status Make(Type type, std::string name, std::string value, Matcher* out);

  bool Matches(std::string_view value) const;
  // True when the matcher accepts the empty string (i.e. series without the label).
  bool MatchesEmpty() const { return matches_empty_; }
  Type type() const { return type_; }
  const std::string& name() const { return name_; }
  const std::string& value() const { return value_; }
  // e.g. job=~"api|web"
  std::string ToString() const;

 private:
  Type type_ = Type::kEqual;
  std::string name_, value_;
  std::shared_ptr<const re2::RE2> re_;
  bool matches_empty_ = false;
};

}  // namespace tocsin::labels
