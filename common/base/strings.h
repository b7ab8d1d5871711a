#pragma once
// Small string helpers for parsers: views into the caller's buffer, no allocation.
// Thread-safety: all functions are pure.

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

namespace tocsin {

std::string_view TrimSpace(std::string_view s);
// Splits on runs of ASCII whitespace; empty fields are dropped. Appends views into s.
void SplitFields(std::string_view s, std::vector<std::string_view>* out);
// Splits on every occurrence of sep (empty fields kept).
std::vector<std::string_view> Split(std::string_view s, char sep);
// Returns the next line (without '\n') and advances *s past it. Returns false at end of input.
bool NextLine(std::string_view* s, std::string_view* line);

// Strict number parsing: the whole of s must be the number.
bool ParseUint64(std::string_view s, uint64_t* v);
bool ParseInt64(std::string_view s, int64_t* v);
// Accepts Prometheus spellings too: NaN, +Inf, -Inf, Inf (any case).
bool ParseDouble(std::string_view s, double* v);

// Replaces *dst with the concatenation of parts, reusing its capacity (no allocation once warm).
void AssignConcat(std::string* dst, std::initializer_list<std::string_view> parts);

bool StartsWith(std::string_view s, std::string_view prefix);
bool EndsWith(std::string_view s, std::string_view suffix);
std::string ToLower(std::string_view s);
// Unix milliseconds as RFC 3339 in UTC with milliseconds: "2026-11-22T04:13:59.418Z".
std::string FormatRfc3339Millis(int64_t ms);
// Go's strconv.FormatFloat(v, 'f', -1, 64): the shortest fixed-point digits that read back as v
// ("0.1", "1234567", "NaN", "+Inf"), as Prometheus prints sample values in its API and in
// count_values labels.
void AppendGoFixed(std::string* out, double v);
// The same into buf, which must hold kGoFixedMax bytes; returns the end of what it wrote (the
// hot path of large API answers, which compose each point on the stack).
inline constexpr size_t kGoFixedMax = 400;
char* WriteGoFixed(char* buf, double v);
// Go's strconv.Quote for label values and PromQL strings: quotes, backslashes and control
// characters escaped.
std::string GoQuote(std::string_view s);
// Parses an RFC 3339 time ("2026-11-22T06:00:00Z", fractions and offsets allowed) into Unix
// milliseconds.
bool ParseRfc3339(std::string_view s, int64_t* out);

}  // namespace tocsin
