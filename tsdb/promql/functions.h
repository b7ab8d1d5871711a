#pragma once
// The function table of PromQL 2.42: each function's argument types and return type, as the
// parser checks them. The engine binds the implementations by name.
// Thread-safety: immutable.

#include <string_view>
#include <vector>

#include "tsdb/promql/ast.h"

namespace tocsin::promql {

struct Function {
  std::string_view name;
  std::vector<ValueType> arg_types;
  // -1: exactly arg_types.size() arguments; 0: the last may appear any number of times, none
  // included (label_join's source labels); n > 0: up to
  // n of the trailing arguments may be left out.
  int variadic = -1;
  ValueType return_type = ValueType::kVector;
};

// nullptr when PromQL has no function of that name.
const Function* LookupFunction(std::string_view name);

}  // namespace tocsin::promql
