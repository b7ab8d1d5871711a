#include "tsdb/promql/selector.h"

#include <cctype>

namespace tocsin::promql {

namespace {

bool IsNameStart(char c) { return std::isalpha(static_cast<unsigned char>(c)) || c == '_'; }
bool IsNameChar(char c) { return IsNameStart(c) || std::isdigit(static_cast<unsigned char>(c)); }

void AppendUtf8(std::string* out, uint32_t cp) {
  if (cp < 0x80) {
    out->push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

class SelectorParser {
 public:
  explicit SelectorParser(std::string_view in) : in_(in) {}

  Status Parse(std::vector<labels::Matcher>* out) {
    out->clear();
    SkipSpace();
    std::string metric;
    if (pos_ < in_.size() && (IsNameStart(in_[pos_]) || in_[pos_] == ':')) {
      size_t start = pos_;
      while (pos_ < in_.size() && (IsNameChar(in_[pos_]) || in_[pos_] == ':')) ++pos_;
      metric = std::string(in_.substr(start, pos_ - start));
      labels::Matcher m;
      TOCSIN_RETURN_IF_ERROR(
          labels::Matcher::Make(labels::Matcher::Type::kEqual, "__name__", metric, &m));
      out->push_back(std::move(m));
      SkipSpace();
    }
    if (pos_ < in_.size() && in_[pos_] == '{') {
      ++pos_;
      TOCSIN_RETURN_IF_ERROR(Matchers(!metric.empty(), out));
      SkipSpace();
    } else if (metric.empty()) {
      return Error(pos_, pos_ < in_.size()
                             ? "unexpected character: '" + std::string(1, in_[pos_]) + "'"
                             : "unexpected end of input");
    }
    if (pos_ < in_.size()) {
      return Error(pos_,
                   "unexpected character after selector: '" + std::string(1, in_[pos_]) + "'");
    }
    bool any = false;
    for (const auto& m : *out) any = any || !m.MatchesEmpty();
    if (!any) return Error(0, "vector selector must contain at least one non-empty matcher");
    return Status::Ok();
  }

 private:
  Status Matchers(bool have_metric, std::vector<labels::Matcher>* out) {
    for (;;) {
      SkipSpace();
      if (pos_ >= in_.size()) return Error(pos_, "unexpected end of input inside braces");
      if (in_[pos_] == '}') {
        ++pos_;
        return Status::Ok();
      }
      if (!IsNameStart(in_[pos_])) {
        return Error(pos_,
                     "unexpected character inside braces: '" + std::string(1, in_[pos_]) + "'");
      }
      size_t start = pos_;
      while (pos_ < in_.size() && IsNameChar(in_[pos_])) ++pos_;
      std::string name(in_.substr(start, pos_ - start));
      SkipSpace();
      labels::Matcher::Type type;
      if (in_.substr(pos_, 2) == "=~") {
        type = labels::Matcher::Type::kRegexp;
        pos_ += 2;
      } else if (in_.substr(pos_, 2) == "!~") {
        type = labels::Matcher::Type::kNotRegexp;
        pos_ += 2;
      } else if (in_.substr(pos_, 2) == "!=") {
        type = labels::Matcher::Type::kNotEqual;
        pos_ += 2;
      } else if (in_.substr(pos_, 1) == "=") {
        type = labels::Matcher::Type::kEqual;
        pos_ += 1;
      } else {
        return Error(pos_, "unexpected " + Describe() +
                               " in label matching, expected label "
                               "matching operator");
      }
      SkipSpace();
      if (pos_ >= in_.size() || (in_[pos_] != '"' && in_[pos_] != '\'' && in_[pos_] != '`'))
        return Error(pos_, "unexpected " + Describe() + " in label matching, expected string");
      std::string value;
      size_t consumed = 0, error_at = 0;
      Status st = UnquoteString(in_.substr(pos_), &value, &consumed, &error_at);
      if (!st.ok()) return Error(pos_ + error_at, std::string(st.message()));
      pos_ += consumed;
      if (name == "__name__" && have_metric && type == labels::Matcher::Type::kEqual)
        return Error(start, "metric name must not be set twice: \"" + (*out)[0].value() +
                                "\" or \"" + value + "\"");
      labels::Matcher m;
      st = labels::Matcher::Make(type, name, value, &m);
      if (!st.ok()) return Error(start, std::string(st.message()));
      out->push_back(std::move(m));
      SkipSpace();
      if (pos_ < in_.size() && in_[pos_] == ',') {
        ++pos_;
        continue;
      }
      if (pos_ < in_.size() && in_[pos_] == '}') continue;
      return Error(pos_,
                   "unexpected " + Describe() + " in label matching, expected \",\" or \"}\"");
    }
  }

  std::string Describe() const {
    if (pos_ >= in_.size()) return "end of input";
    return "character '" + std::string(1, in_[pos_]) + "'";
  }
  void SkipSpace() {
    while (pos_ < in_.size()) {
      if (std::isspace(static_cast<unsigned char>(in_[pos_]))) {
        ++pos_;
      } else if (in_[pos_] == '#') {  // a comment runs to the end of the line
        while (pos_ < in_.size() && in_[pos_] != '\n') ++pos_;
      } else {
        break;
      }
    }
  }
  Status Error(size_t at, const std::string& what) const {
    return Status::InvalidArgument(PositionOf(in_, at) + ": parse error: " + what);
  }

  std::string_view in_;
  size_t pos_ = 0;
};

}  // namespace

std::string PositionOf(std::string_view input, size_t offset) {
  size_t line = 1, col = 1;
  for (size_t i = 0; i < offset && i < input.size(); ++i) {
    if (input[i] == '\n') {
      ++line;
      col = 1;
    } else {
      ++col;
    }
  }
  return std::to_string(line) + ":" + std::to_string(col);
}

Status UnquoteString(std::string_view in, std::string* out, size_t* consumed, size_t* error_at) {
  out->clear();
  *error_at = 0;
  if (in.empty()) return Status::InvalidArgument("expected a string");
  char q = in[0];
  size_t i = 1;
  if (q == '`') {
    size_t end = in.find('`', 1);
    if (end == std::string_view::npos) return Status::InvalidArgument("unterminated raw string");
    *out = std::string(in.substr(1, end - 1));
    *consumed = end + 1;
    return Status::Ok();
  }
  while (i < in.size()) {
    char c = in[i];
    if (c == q) {
      *consumed = i + 1;
      return Status::Ok();
    }
    if (c == '\n') {
      *error_at = i;
      return Status::InvalidArgument("unterminated quoted string");
    }
    if (c != '\\') {
      out->push_back(c);
      ++i;
      continue;
    }
    *error_at = i;
    if (++i >= in.size()) break;
    char e = in[i++];
    switch (e) {
      case 'a':
        out->push_back('\a');
        break;
      case 'b':
        out->push_back('\b');
        break;
      case 'f':
        out->push_back('\f');
        break;
      case 'n':
        out->push_back('\n');
        break;
      case 'r':
        out->push_back('\r');
        break;
      case 't':
        out->push_back('\t');
        break;
      case 'v':
        out->push_back('\v');
        break;
      case '\\':
        out->push_back('\\');
        break;
      case '\'':
      case '"':
        if (e != q) return Status::InvalidArgument("unknown escape sequence");
        out->push_back(e);
        break;
      case 'x':
      case 'u':
      case 'U': {
        int n = e == 'x' ? 2 : e == 'u' ? 4 : 8;
        uint32_t v = 0;
        for (int k = 0; k < n; ++k) {
          if (i >= in.size() || HexValue(in[i]) < 0)
            return Status::InvalidArgument("illegal character in escape sequence");
          v = v * 16 + static_cast<uint32_t>(HexValue(in[i++]));
        }
        if (e == 'x') {
          out->push_back(static_cast<char>(v));
        } else {
          if (v > 0x10FFFF || (v >= 0xD800 && v < 0xE000))
            return Status::InvalidArgument("escape sequence is an invalid Unicode code point");
          AppendUtf8(out, v);
        }
        break;
      }
      default:
        if (e >= '0' && e <= '7') {
          uint32_t v = static_cast<uint32_t>(e - '0');
          for (int k = 0; k < 2; ++k) {
            if (i >= in.size() || in[i] < '0' || in[i] > '7')
              return Status::InvalidArgument("illegal character in escape sequence");
            v = v * 8 + static_cast<uint32_t>(in[i++] - '0');
          }
          if (v > 255) return Status::InvalidArgument("octal escape value > 255");
          out->push_back(static_cast<char>(v));
          break;
        }
        return Status::InvalidArgument("unknown escape sequence");
    }
  }
  *error_at = 0;  // Prometheus points at the opening quote
  return Status::InvalidArgument("unterminated quoted string");
}

Status ParseSeriesSelector(std::string_view input, std::vector<labels::Matcher>* out) {
  return SelectorParser(input).Parse(out);
}

}  // namespace tocsin::promql
