#pragma once
// Series selectors as the API's match[] parameters take them: `up`, `up{job="x"}`,
// `{__name__=~"node_.*", instance!="a"}` — the vector-selector part of PromQL, with its string
// literals ("...", '...' with Go escapes, `...` raw) and Prometheus's error words and positions
// ("1:5: parse error: unexpected ..."). The full PromQL parser builds on the same pieces.
// Thread-safety: pure functions.

#include <string>
#include <string_view>
#include <vector>

#include "common/base/status.h"
#include "common/labels/labels.h"

namespace tocsin::promql {

// Parses one selector. Errors are InvalidArgument, worded as Prometheus words them.
Status ParseSeriesSelector(std::string_view input, std::vector<labels::Matcher>* out);

// Decodes a PromQL string literal including its quotes. *consumed gets its length in input.
// Errors name the offset (relative to input) in *error_at.
Status UnquoteString(std::string_view input, std::string* out, size_t* consumed, size_t* error_at);

// "line:col" of a byte offset, 1-based, as PromQL errors print it.
std::string PositionOf(std::string_view input, size_t offset);

}  // namespace tocsin::promql
