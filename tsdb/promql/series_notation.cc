#include "tsdb/promql/series_notation.h"

#include <bit>
#include <cstdlib>

#include "common/base/strings.h"
#include "tsdb/promql/selector.h"

namespace tocsin::promql {
namespace {

bool ParseValue(std::string_view s, double* v) {
  if (ToLower(s) == "stale") {
    *v = StaleMarker();
    return true;
  }
  if (ParseDouble(s, v)) return true;
  if (StartsWith(s, "0x") && s.size() > 2) {
    char* end = nullptr;
    std::string str(s);
    unsigned long long n = std::strtoull(str.c_str(), &end, 16);
    if (end != nullptr && *end == '\0') {
      *v = static_cast<double>(n);
      return true;
    }
  }
  return false;
}

Status Bad(std::string_view item) {
  return Status::InvalidArgument("invalid value \"" + std::string(item) +
                                 "\" in series values (expected a number, a+bxn, a-bxn, axn, _, "
                                 "_xn or stale)");
}

}  // namespace

double StaleMarker() { return std::bit_cast<double>(uint64_t{0x7ff0000000000002}); }

Status ExpandSeriesValues(std::string_view text, std::vector<std::optional<double>>* out) {
  std::vector<std::string_view> items;
  SplitFields(text, &items);
  for (std::string_view item : items) {
    if (item == "_") {
      out->push_back(std::nullopt);
      continue;
    }
    uint64_t n;
    if (StartsWith(item, "_x")) {
      if (!ParseUint64(item.substr(2), &n)) return Bad(item);
      out->insert(out->end(), n, std::nullopt);
      continue;
    }
    size_t x = item.find('x');
    // "0x10" is 0 repeated (the series notation), never hexadecimal, when an x is present.
    if (x == std::string_view::npos) {
      double v;
      if (!ParseValue(item, &v)) return Bad(item);
      out->push_back(v);
      continue;
    }
    if (!ParseUint64(item.substr(x + 1), &n)) return Bad(item);
    std::string_view head = item.substr(0, x);
    // a+b, a-b (a itself may be signed or have an exponent), or a alone.
    size_t op = std::string_view::npos;
    for (size_t i = 1; i < head.size(); ++i)
      if ((head[i] == '+' || head[i] == '-') && head[i - 1] != 'e' && head[i - 1] != 'E') op = i;
    double a, b = 0;
    if (op == std::string_view::npos) {
      if (!ParseValue(head, &a)) return Bad(item);
    } else {
      if (!ParseValue(head.substr(0, op), &a) || !ParseValue(head.substr(op + 1), &b))
        return Bad(item);
      if (head[op] == '-') b = -b;
    }
    for (uint64_t i = 0; i <= n; ++i) out->push_back(a + b * static_cast<double>(i));
  }
  return Status::Ok();
}

Status ParseSeriesLabels(std::string_view text, labels::Labels* out) {
  if (TrimSpace(text) == "{}") {
    *out = labels::Labels();
    return Status::Ok();
  }
  std::vector<labels::Matcher> ms;
  TOCSIN_RETURN_IF_ERROR(ParseSeriesSelector(text, &ms));
  std::vector<std::pair<std::string, std::string>> pairs;
  for (const auto& m : ms) {
    if (m.type() != labels::Matcher::Type::kEqual)
      return Status::InvalidArgument("series \"" + std::string(text) +
                                     "\": only = matchers name a series");
    pairs.emplace_back(m.name(), m.value());
  }
  return labels::Labels::FromPairs(pairs, out);
}

}  // namespace tocsin::promql
