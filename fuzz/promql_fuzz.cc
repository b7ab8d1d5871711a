// Parses arbitrary text as PromQL. Errors are fine; crashes are not, and whatever parses must
// print as a query that parses again to the same text (the canonical form is stable).
#include <cstdlib>
#include <string>

#include "tsdb/promql/parser.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  tocsin::promql::NodePtr n;
  if (!tocsin::promql::ParseExpr(in, &n).ok()) return 0;
  std::string printed = n->String();
  tocsin::promql::NodePtr again;
  if (!tocsin::promql::ParseExpr(printed, &again).ok() || again->String() != printed) std::abort();
  return 0;
}
