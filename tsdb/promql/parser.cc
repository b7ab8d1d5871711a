#include "tsdb/promql/parser.h"

#include <cctype>
#include <cmath>
#include <cstring>

#include "common/base/flags.h"
#include "common/base/strings.h"
#include "tsdb/promql/functions.h"
#include "tsdb/promql/selector.h"

namespace tocsin::promql {

namespace {

enum class Tok {
  kEof,
  kIdent,
  kNumber,
  kDuration,
  kString,
  kLParen,
  kRParen,
  kLBrace,
  kRBrace,
  kLBracket,
  kRBracket,
  kComma,
  kColon,
  kAt,
  kOp,
  kEqual,
  kNotEqual,
  kRegex,
  kNotRegex,
  kBad,
};

struct Token {
  Tok type = Tok::kEof;
  size_t pos = 0;
  std::string_view text;
  double number = 0;     // kNumber
  int64_t duration = 0;  // kDuration, ms
  std::string str;       // kString, decoded
  BinaryOp op = BinaryOp::kAdd;
};

bool IsIdentStart(char c) {
  return std::isalpha(static_cast<unsigned char>(c)) || c == '_' || c == ':';
}
bool IsIdentChar(char c) { return IsIdentStart(c) || std::isdigit(static_cast<unsigned char>(c)); }

bool Lower(std::string_view s, std::string_view want) {
  if (s.size() != want.size()) return false;
  for (size_t i = 0; i < s.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(s[i])) != want[i]) return false;
  return true;
}

struct AggName {
  std::string_view name;
  AggregateOp op;
};
constexpr AggName kAggregations[] = {
    {"sum", AggregateOp::kSum},           {"avg", AggregateOp::kAvg},
    {"min", AggregateOp::kMin},           {"max", AggregateOp::kMax},
    {"count", AggregateOp::kCount},       {"group", AggregateOp::kGroup},
    {"stddev", AggregateOp::kStddev},     {"stdvar", AggregateOp::kStdvar},
    {"topk", AggregateOp::kTopk},         {"bottomk", AggregateOp::kBottomk},
    {"quantile", AggregateOp::kQuantile}, {"count_values", AggregateOp::kCountValues},
};

// Binding power of binary operators (higher binds tighter), as in Prometheus's grammar.
int Precedence(BinaryOp op) {
  switch (op) {
    case BinaryOp::kOr:
      return 1;
    case BinaryOp::kAnd:
    case BinaryOp::kUnless:
      return 2;
    case BinaryOp::kEql:
    case BinaryOp::kNeq:
    case BinaryOp::kGtr:
    case BinaryOp::kLss:
    case BinaryOp::kGte:
    case BinaryOp::kLte:
      return 3;
    case BinaryOp::kAdd:
    case BinaryOp::kSub:
      return 4;
    case BinaryOp::kMul:
    case BinaryOp::kDiv:
    case BinaryOp::kMod:
    case BinaryOp::kAtan2:
      return 5;
    case BinaryOp::kPow:
      return 6;
  }
  return 0;
}

class Parser {
 public:
  explicit Parser(std::string_view in) : in_(in) {}

  Status Parse(NodePtr* out) {
    Advance();
    NodePtr e;
    TOCSIN_RETURN_IF_ERROR(Expr(0, &e));
    if (tok_.type != Tok::kEof) return Unexpected("");
    *out = std::move(e);
    return Status::Ok();
  }

 private:
  // --- lexer ------------------------------------------------------------------------------

  void SkipSpace() {
    while (pos_ < in_.size()) {
      char c = in_[pos_];
      if (std::isspace(static_cast<unsigned char>(c))) {
        ++pos_;
      } else if (c == '#') {
        while (pos_ < in_.size() && in_[pos_] != '\n') ++pos_;
      } else {
        break;
      }
    }
  }

  void Advance() {
    SkipSpace();
    tok_ = Token();
    tok_.pos = pos_;
    if (pos_ >= in_.size()) return;
    char c = in_[pos_];
    size_t start = pos_;
    auto one = [&](Tok t) {
      tok_.type = t;
      ++pos_;
      tok_.text = in_.substr(start, 1);
    };
    auto op = [&](BinaryOp o, size_t len) {
      tok_.type = Tok::kOp;
      tok_.op = o;
      pos_ += len;
      tok_.text = in_.substr(start, len);
    };
    auto next = [&](size_t k) { return pos_ + k < in_.size() ? in_[pos_ + k] : '\0'; };
    switch (c) {
      case '(':
        return one(Tok::kLParen);
      case ')':
        return one(Tok::kRParen);
      case '{':
        return one(Tok::kLBrace);
      case '}':
        return one(Tok::kRBrace);
      case '[':
        ++brackets_;
        return one(Tok::kLBracket);
      case ']':
        if (brackets_ > 0) --brackets_;
        return one(Tok::kRBracket);
      case ',':
        return one(Tok::kComma);
      case ':':
        // Inside brackets a colon separates a subquery's range and step.
        if (brackets_ > 0 || !IsIdentChar(next(1))) return one(Tok::kColon);
        break;
      case '@':
        return one(Tok::kAt);
      case '+':
        return op(BinaryOp::kAdd, 1);
      case '-':
        return op(BinaryOp::kSub, 1);
      case '*':
        return op(BinaryOp::kMul, 1);
      case '/':
        return op(BinaryOp::kDiv, 1);
      case '%':
        return op(BinaryOp::kMod, 1);
      case '^':
        return op(BinaryOp::kPow, 1);
      case '=':
        if (next(1) == '=') return op(BinaryOp::kEql, 2);
        if (next(1) == '~') {
          tok_.type = Tok::kRegex;
          pos_ += 2;
          tok_.text = in_.substr(start, 2);
          return;
        }
        return one(Tok::kEqual);
      case '!':
        if (next(1) == '=') {
          // "!=" is the comparison between expressions and the matcher inside braces.
          tok_.type = Tok::kNotEqual;
          tok_.op = BinaryOp::kNeq;
          pos_ += 2;
          tok_.text = in_.substr(start, 2);
          return;
        }
        if (next(1) == '~') {
          tok_.type = Tok::kNotRegex;
          pos_ += 2;
          tok_.text = in_.substr(start, 2);
          return;
        }
        break;
      case '>':
        if (next(1) == '=') return op(BinaryOp::kGte, 2);
        return op(BinaryOp::kGtr, 1);
      case '<':
        if (next(1) == '=') return op(BinaryOp::kLte, 2);
        return op(BinaryOp::kLss, 1);
      case '"':
      case '\'':
      case '`': {
        size_t consumed = 0, error_at = 0;
        Status st = UnquoteString(in_.substr(pos_), &tok_.str, &consumed, &error_at);
        if (!st.ok()) {
          tok_.type = Tok::kBad;
          tok_.pos = pos_ + error_at;
          bad_ = std::string(st.message());
          pos_ = in_.size();
          return;
        }
        tok_.type = Tok::kString;
        pos_ += consumed;
        tok_.text = in_.substr(start, consumed);
        return;
      }
      default:
        break;
    }
    if (std::isdigit(static_cast<unsigned char>(c)) ||
        (c == '.' && std::isdigit(static_cast<unsigned char>(next(1))))) {
      return Number();
    }
    if (IsIdentStart(c)) {
      while (pos_ < in_.size() && IsIdentChar(in_[pos_])) ++pos_;
      tok_.text = in_.substr(start, pos_ - start);
      tok_.type = Tok::kIdent;
      if (Lower(tok_.text, "inf") || Lower(tok_.text, "nan")) {
        tok_.type = Tok::kNumber;
        tok_.number = Lower(tok_.text, "inf") ? INFINITY : NAN;
      }
      return;
    }
    tok_.type = Tok::kBad;
    bad_ = "unexpected character: '" + std::string(1, c) + "'";
    pos_ = in_.size();
  }

  void Number() {
    size_t start = pos_;
    if (in_.substr(start, 2) == "0x" || in_.substr(start, 2) == "0X") {
      size_t q = start + 2;
      while (q < in_.size() && std::isxdigit(static_cast<unsigned char>(in_[q]))) ++q;
      tok_.type = Tok::kNumber;
      tok_.text = in_.substr(start, q - start);
      tok_.number = static_cast<double>(std::strtoull(std::string(tok_.text).c_str(), nullptr, 16));
      pos_ = q;
      return;
    }
    // A duration: digits followed by a unit, possibly several ("1h30m").
    size_t p = pos_;
    while (p < in_.size() && std::isdigit(static_cast<unsigned char>(in_[p]))) ++p;
    if (p < in_.size() && std::strchr("smhdwy", in_[p]) != nullptr) {
      size_t q = p;
      while (q < in_.size() && std::isalnum(static_cast<unsigned char>(in_[q]))) ++q;
      std::chrono::milliseconds d;
      if (ParseDuration(in_.substr(start, q - start), &d)) {
        tok_.type = Tok::kDuration;
        tok_.duration = d.count();
        tok_.text = in_.substr(start, q - start);
        pos_ = q;
        return;
      }
    }
    size_t q = start;
    while (q < in_.size() && std::isdigit(static_cast<unsigned char>(in_[q]))) ++q;
    if (q < in_.size() && in_[q] == '.') {
      ++q;
      while (q < in_.size() && std::isdigit(static_cast<unsigned char>(in_[q]))) ++q;
    }
    if (q < in_.size() && (in_[q] == 'e' || in_[q] == 'E')) {
      size_t e = q + 1;
      if (e < in_.size() && (in_[e] == '+' || in_[e] == '-')) ++e;
      if (e < in_.size() && std::isdigit(static_cast<unsigned char>(in_[e]))) {
        while (e < in_.size() && std::isdigit(static_cast<unsigned char>(in_[e]))) ++e;
        q = e;
      }
    }
    tok_.text = in_.substr(start, q - start);
    pos_ = q;
    if (pos_ < in_.size() && IsIdentChar(in_[pos_])) {
      tok_.type = Tok::kBad;
      bad_ = "bad number or duration syntax: \"" +
             std::string(in_.substr(start, pos_ + 1 - start)) + "\"";
      pos_ = in_.size();
      return;
    }
    tok_.type = Tok::kNumber;
    tok_.number = std::strtod(std::string(tok_.text).c_str(), nullptr);
  }

  // Keywords are case-insensitive in PromQL (SUM BY (x) ...); function names are not.
  bool Kw(std::string_view word) const {
    return tok_.type == Tok::kIdent && Lower(tok_.text, word);
  }

  // --- errors -----------------------------------------------------------------------------

  Status Error(size_t pos, const std::string& what) const {
    return Status::InvalidArgument(PositionOf(in_, pos) + ": parse error: " + what);
  }
  std::string Describe(const Token& t) const {
    switch (t.type) {
      case Tok::kEof:
        return "end of input";
      case Tok::kIdent:
        return "identifier \"" + std::string(t.text) + "\"";
      case Tok::kNumber:
        return "number \"" + std::string(t.text) + "\"";
      case Tok::kDuration:
        return "duration \"" + std::string(t.text) + "\"";
      case Tok::kString:
        return "string " + std::string(t.text);
      default:
        return "\"" + std::string(t.text) + "\"";
    }
  }
  Status Unexpected(const std::string& context) {
    if (tok_.type == Tok::kBad) return Error(tok_.pos, bad_);
    return Error(tok_.pos, "unexpected " + Describe(tok_) + context);
  }
  Status Expect(Tok t, const char* what, const std::string& context) {
    if (tok_.type != t) return Unexpected(context + ", expected " + what);
    Advance();
    return Status::Ok();
  }

  // --- expressions ------------------------------------------------------------------------

  bool AtBinaryOp(BinaryOp* op) {
    if (tok_.type == Tok::kOp) {
      *op = tok_.op;
      return true;
    }
    if (tok_.type == Tok::kNotEqual) {
      *op = BinaryOp::kNeq;
      return true;
    }
    if (tok_.type == Tok::kIdent) {
      if (Kw("and")) {
        *op = BinaryOp::kAnd;
        return true;
      }
      if (Kw("or")) {
        *op = BinaryOp::kOr;
        return true;
      }
      if (Kw("unless")) {
        *op = BinaryOp::kUnless;
        return true;
      }
      if (Kw("atan2")) {
        *op = BinaryOp::kAtan2;
        return true;
      }
    }
    return false;
  }

  Status Expr(int min_prec, NodePtr* out) {
    NodePtr lhs;
    TOCSIN_RETURN_IF_ERROR(Unary(&lhs));
    BinaryOp op;
    while (AtBinaryOp(&op) && Precedence(op) >= min_prec) {
      size_t op_pos = tok_.pos;
      Advance();
      auto node = std::make_unique<Node>();
      node->kind = Node::Kind::kBinary;
      node->pos = op_pos;
      node->op = op;
      if (tok_.type == Tok::kIdent && Kw("bool")) {
        if (!IsComparison(op))
          return Error(tok_.pos, "bool modifier can only be used on comparison operators");
        node->return_bool = true;
        Advance();
      }
      VectorMatching vm;
      bool have_matching = false;
      if (tok_.type == Tok::kIdent && (Kw("on") || Kw("ignoring"))) {
        vm.on = Kw("on");
        vm.explicit_matching = true;
        have_matching = true;
        Advance();
        TOCSIN_RETURN_IF_ERROR(LabelList(&vm.labels));
        if (tok_.type == Tok::kIdent && (Kw("group_left") || Kw("group_right"))) {
          if (IsSetOperator(op))
            return Error(tok_.pos, "no grouping allowed for \"" + std::string(BinaryOpName(op)) +
                                       "\" operation");
          vm.card = Kw("group_left") ? VectorMatching::Card::kManyToOne
                                     : VectorMatching::Card::kOneToMany;
          Advance();
          if (tok_.type == Tok::kLParen) TOCSIN_RETURN_IF_ERROR(LabelList(&vm.include));
        }
      } else if (tok_.type == Tok::kIdent && (Kw("group_left") || Kw("group_right"))) {
        return Unexpected(" in binary expression, group modifiers need on() or ignoring() first");
      }
      // ^ is right-associative; everything else left-associative.
      int next_min = op == BinaryOp::kPow ? Precedence(op) : Precedence(op) + 1;
      TOCSIN_RETURN_IF_ERROR(Expr(next_min, &node->rhs));
      node->lhs = std::move(lhs);
      TOCSIN_RETURN_IF_ERROR(CheckBinary(node.get(), have_matching ? &vm : nullptr));
      lhs = std::move(node);
    }
    *out = std::move(lhs);
    return Status::Ok();
  }

  Status CheckBinary(Node* n, VectorMatching* vm) {
    ValueType lt = n->lhs->Type(), rt = n->rhs->Type();
    auto ok_type = [](ValueType t) { return t == ValueType::kScalar || t == ValueType::kVector; };
    if (!ok_type(lt) || !ok_type(rt))
      return Error(n->pos, "binary expression must contain only scalar and instant vector types");
    bool both_vectors = lt == ValueType::kVector && rt == ValueType::kVector;
    if (IsSetOperator(n->op)) {
      if (lt == ValueType::kScalar || rt == ValueType::kScalar)
        return Error(n->pos, "set operator \"" + std::string(BinaryOpName(n->op)) +
                                 "\" not allowed in binary scalar expression");
    }
    if (IsComparison(n->op) && !n->return_bool && lt == ValueType::kScalar &&
        rt == ValueType::kScalar)
      return Error(n->pos, "comparisons between scalars must use BOOL modifier");
    if (vm != nullptr && !both_vectors)
      return Error(n->pos, "vector matching only allowed between instant vectors");
    if (both_vectors) {
      VectorMatching m = vm ? *vm : VectorMatching();
      if (IsSetOperator(n->op)) m.card = VectorMatching::Card::kManyToMany;
      if (m.card == VectorMatching::Card::kOneToOne ||
          m.card == VectorMatching::Card::kManyToMany) {
        // nothing more to check
      } else if (m.on) {
        for (const auto& l : m.include) {
          for (const auto& o : m.labels)
            if (l == o)
              return Error(n->pos,
                           "label \"" + l + "\" must not occur in ON and GROUP clause at once");
        }
      }
      n->matching = std::move(m);
    }
    return Status::Ok();
  }

  Status LabelList(std::vector<std::string>* out) {
    TOCSIN_RETURN_IF_ERROR(Expect(Tok::kLParen, "\"(\"", " in grouping opts"));
    for (;;) {
      if (tok_.type == Tok::kRParen) {
        Advance();
        return Status::Ok();
      }
      if (tok_.type != Tok::kIdent || tok_.text.find(':') != std::string_view::npos)
        return Unexpected(" in grouping opts, expected label");
      out->emplace_back(tok_.text);
      Advance();
      if (tok_.type == Tok::kComma) {
        Advance();
        continue;
      }
      if (tok_.type != Tok::kRParen)
        return Unexpected(" in grouping opts, expected \")\" or \",\"");
    }
  }

  Status Unary(NodePtr* out) {
    if (tok_.type == Tok::kOp && (tok_.op == BinaryOp::kAdd || tok_.op == BinaryOp::kSub)) {
      bool negate = tok_.op == BinaryOp::kSub;
      size_t pos = tok_.pos;
      Advance();
      NodePtr operand;
      // Only ^ binds tighter than a unary sign: -2^2 is -(2^2).
      TOCSIN_RETURN_IF_ERROR(Expr(Precedence(BinaryOp::kPow), &operand));
      ValueType t = operand->Type();
      if (t != ValueType::kScalar && t != ValueType::kVector)
        return Error(pos,
                     "unary expression only allowed on expressions of type scalar or instant "
                     "vector, got \"" +
                         std::string(ValueTypeName(t)) + "\"");
      if (operand->kind == Node::Kind::kNumber) {  // folded, as Prometheus does
        if (negate) operand->number = -operand->number;
        *out = std::move(operand);
        return Status::Ok();
      }
      auto n = std::make_unique<Node>();
      n->kind = Node::Kind::kUnary;
      n->pos = pos;
      n->negate = negate;
      n->expr = std::move(operand);
      *out = std::move(n);
      return Status::Ok();
    }
    NodePtr e;
    TOCSIN_RETURN_IF_ERROR(Primary(&e));
    return Postfix(std::move(e), out);
  }

  Status Postfix(NodePtr e, NodePtr* out) {
    bool offset_set = false, at_set = false;
    for (;;) {
      if (tok_.type == Tok::kLBracket) {
        size_t pos = tok_.pos;
        Advance();
        if (tok_.type != Tok::kDuration)
          return Unexpected(" in subquery or range selector, expected duration");
        int64_t range = tok_.duration;
        Advance();
        if (tok_.type == Tok::kRBracket) {
          Advance();
          if (e->kind != Node::Kind::kVectorSelector)
            return Error(pos, "ranges only allowed for vector selectors");
          if (offset_set || at_set)
            return Error(pos, "no offset or @ modifiers allowed before range");
          auto m = std::make_unique<Node>();
          m->kind = Node::Kind::kMatrixSelector;
          m->pos = e->pos;
          m->range_ms = range;
          m->expr = std::move(e);
          e = std::move(m);
          continue;
        }
        if (tok_.type != Tok::kColon)
          return Unexpected(" in subquery or range selector, expected \":\" or \"]\"");
        Advance();
        int64_t step = 0;
        if (tok_.type == Tok::kDuration) {
          step = tok_.duration;
          Advance();
        }
        TOCSIN_RETURN_IF_ERROR(Expect(Tok::kRBracket, "\"]\"", " in subquery"));
        ValueType t = e->Type();
        if (t != ValueType::kVector)
          return Error(pos, "subquery is only allowed on instant vector, got " +
                                std::string(ValueTypeName(t)) + " instead");
        auto s = std::make_unique<Node>();
        s->kind = Node::Kind::kSubquery;
        s->pos = e->pos;
        s->range_ms = range;
        s->step_ms = step;
        s->expr = std::move(e);
        e = std::move(s);
        offset_set = at_set = false;
        continue;
      }
      if (tok_.type == Tok::kIdent && Kw("offset")) {
        size_t pos = tok_.pos;
        Advance();
        bool neg = false;
        if (tok_.type == Tok::kOp && (tok_.op == BinaryOp::kSub || tok_.op == BinaryOp::kAdd)) {
          neg = tok_.op == BinaryOp::kSub;
          Advance();
        }
        if (tok_.type != Tok::kDuration) return Unexpected(" in offset, expected duration");
        Node* target = ModifierTarget(e.get());
        if (target == nullptr)
          return Error(pos,
                       "offset modifier must be preceded by an instant vector selector or range "
                       "vector selector or a subquery");
        if (offset_set) return Error(pos, "offset may not be set multiple times");
        target->offset_ms = neg ? -tok_.duration : tok_.duration;
        offset_set = true;
        Advance();
        continue;
      }
      if (tok_.type == Tok::kAt) {
        size_t pos = tok_.pos;
        Advance();
        Node* target = ModifierTarget(e.get());
        if (target == nullptr)
          return Error(pos,
                       "@ modifier must be preceded by an instant vector selector or range vector "
                       "selector or a subquery");
        if (at_set) return Error(pos, "@ <timestamp> may not be set multiple times");
        AtModifier at;
        if (tok_.type == Tok::kIdent && (Kw("start") || Kw("end"))) {
          at.kind = Kw("start") ? AtModifier::Kind::kStart : AtModifier::Kind::kEnd;
          Advance();
          TOCSIN_RETURN_IF_ERROR(Expect(Tok::kLParen, "\"(\"", " in @"));
          TOCSIN_RETURN_IF_ERROR(Expect(Tok::kRParen, "\")\"", " in @"));
        } else {
          bool neg = false;
          if (tok_.type == Tok::kOp && (tok_.op == BinaryOp::kSub || tok_.op == BinaryOp::kAdd)) {
            neg = tok_.op == BinaryOp::kSub;
            Advance();
          }
          if (tok_.type != Tok::kNumber) return Unexpected(" in @, expected timestamp");
          double secs = neg ? -tok_.number : tok_.number;
          if (!std::isfinite(secs) || std::fabs(secs) > 9.2e15)
            return Error(tok_.pos,
                         "timestamp out of bounds for @ modifier: " + std::string(tok_.text));
          at.kind = AtModifier::Kind::kTimestamp;
          at.timestamp_ms = static_cast<int64_t>(std::llround(secs * 1000));
          Advance();
        }
        target->at = at;
        at_set = true;
        continue;
      }
      break;
    }
    *out = std::move(e);
    return Status::Ok();
  }

  // Where offset/@ go: the selector itself, a matrix selector's vector, or a subquery.
  static Node* ModifierTarget(Node* e) {
    if (e->kind == Node::Kind::kVectorSelector || e->kind == Node::Kind::kSubquery) return e;
    if (e->kind == Node::Kind::kMatrixSelector) return e->expr.get();
    return nullptr;
  }

  Status Primary(NodePtr* out) {
    auto n = std::make_unique<Node>();
    n->pos = tok_.pos;
    switch (tok_.type) {
      case Tok::kNumber:
        n->kind = Node::Kind::kNumber;
        n->number = tok_.number;
        Advance();
        *out = std::move(n);
        return Status::Ok();
      case Tok::kString:
        n->kind = Node::Kind::kString;
        n->str = tok_.str;
        Advance();
        *out = std::move(n);
        return Status::Ok();
      case Tok::kLParen: {
        Advance();
        n->kind = Node::Kind::kParen;
        TOCSIN_RETURN_IF_ERROR(Expr(0, &n->expr));
        TOCSIN_RETURN_IF_ERROR(Expect(Tok::kRParen, "\")\"", " in paren expression"));
        *out = std::move(n);
        return Status::Ok();
      }
      case Tok::kLBrace:
        return Selector("", out);
      case Tok::kIdent:
        break;
      default:
        return Unexpected("");
    }
    std::string_view name = tok_.text;
    size_t name_pos = tok_.pos;
    Advance();
    for (const auto& a : kAggregations) {
      if (Lower(name, a.name) &&
          (tok_.type == Tok::kLParen || (tok_.type == Tok::kIdent && (Kw("by") || Kw("without")))))
        return Aggregation(a.op, name_pos, out);
    }
    if (tok_.type == Tok::kLParen) {
      const Function* f = LookupFunction(name);
      if (f == nullptr)
        return Error(name_pos, "unknown function with name \"" + std::string(name) + "\"");
      return Call(f, name_pos, out);
    }
    static constexpr std::string_view kKeywords[] = {
        "by",   "without", "on",  "ignoring", "group_left", "group_right",
        "bool", "offset",  "and", "or",       "unless",     "atan2"};
    bool keyword = false;
    for (std::string_view k : kKeywords) keyword = keyword || Lower(name, k);
    if (keyword) return Error(name_pos, "unexpected keyword \"" + std::string(name) + "\"");
    return Selector(std::string(name), out, name_pos);
  }

  Status Selector(const std::string& metric, NodePtr* out, size_t pos = std::string::npos) {
    auto n = std::make_unique<Node>();
    n->kind = Node::Kind::kVectorSelector;
    n->pos = pos == std::string::npos ? tok_.pos : pos;
    n->metric_name = metric;
    if (!metric.empty()) {
      labels::Matcher m;
      TOCSIN_RETURN_IF_ERROR(
          labels::Matcher::Make(labels::Matcher::Type::kEqual, "__name__", metric, &m));
      n->matchers.push_back(std::move(m));
    }
    if (tok_.type == Tok::kLBrace) {
      Advance();
      for (;;) {
        if (tok_.type == Tok::kRBrace) {
          Advance();
          break;
        }
        if (tok_.type != Tok::kIdent || tok_.text.find(':') != std::string_view::npos)
          return Unexpected(" in label matching, expected label");
        std::string name(tok_.text);
        size_t lpos = tok_.pos;
        Advance();
        labels::Matcher::Type type;
        switch (tok_.type) {
          case Tok::kEqual:
            type = labels::Matcher::Type::kEqual;
            break;
          case Tok::kNotEqual:
            type = labels::Matcher::Type::kNotEqual;
            break;
          case Tok::kRegex:
            type = labels::Matcher::Type::kRegexp;
            break;
          case Tok::kNotRegex:
            type = labels::Matcher::Type::kNotRegexp;
            break;
          default:
            return Unexpected(" in label matching, expected label matching operator");
        }
        Advance();
        if (tok_.type != Tok::kString) return Unexpected(" in label matching, expected string");
        std::string value = tok_.str;
        Advance();
        if (name == "__name__" && !metric.empty() && type == labels::Matcher::Type::kEqual)
          return Error(
              lpos, "metric name must not be set twice: \"" + metric + "\" or \"" + value + "\"");
        labels::Matcher m;
        Status st = labels::Matcher::Make(type, name, value, &m);
        if (!st.ok()) return Error(lpos, std::string(st.message()));
        n->matchers.push_back(std::move(m));
        if (tok_.type == Tok::kComma) {
          Advance();
          continue;
        }
        if (tok_.type != Tok::kRBrace)
          return Unexpected(" in label matching, expected \",\" or \"}\"");
      }
    }
    bool any = false;
    for (const auto& m : n->matchers) any = any || !m.MatchesEmpty();
    if (!any) return Error(n->pos, "vector selector must contain at least one non-empty matcher");
    *out = std::move(n);
    return Status::Ok();
  }

  Status Args(std::vector<NodePtr>* args, const std::string& context) {
    TOCSIN_RETURN_IF_ERROR(Expect(Tok::kLParen, "\"(\"", context));
    if (tok_.type == Tok::kRParen) {
      Advance();
      return Status::Ok();
    }
    for (;;) {
      NodePtr a;
      TOCSIN_RETURN_IF_ERROR(Expr(0, &a));
      args->push_back(std::move(a));
      if (tok_.type == Tok::kComma) {
        Advance();
        continue;
      }
      return Expect(Tok::kRParen, "\")\" or \",\"", context);
    }
  }

  Status Call(const Function* f, size_t pos, NodePtr* out) {
    auto n = std::make_unique<Node>();
    n->kind = Node::Kind::kCall;
    n->pos = pos;
    n->func = f;
    TOCSIN_RETURN_IF_ERROR(Args(&n->args, " in call to function \"" + std::string(f->name) + "\""));
    size_t want = f->arg_types.size(), got = n->args.size();
    bool count_ok = f->variadic == -1 ? got == want
                    : f->variadic == 0
                        ? got + 1 >= want
                        : got <= want && got + static_cast<size_t>(f->variadic) >= want;
    if (!count_ok) {
      return Error(pos, "expected " + std::to_string(want) + " argument(s) in call to \"" +
                            std::string(f->name) + "\", got " + std::to_string(got));
    }
    for (size_t i = 0; i < got; ++i) {
      ValueType expect = i < want ? f->arg_types[i] : f->arg_types.back();
      ValueType t = n->args[i]->Type();
      if (t != expect) {
        return Error(n->args[i]->pos, "expected type " + std::string(ValueTypeName(expect)) +
                                          " in call to function \"" + std::string(f->name) +
                                          "\", got " + std::string(ValueTypeName(t)));
      }
    }
    *out = std::move(n);
    return Status::Ok();
  }

  Status Aggregation(AggregateOp op, size_t pos, NodePtr* out) {
    auto n = std::make_unique<Node>();
    n->kind = Node::Kind::kAggregate;
    n->pos = pos;
    n->agg = op;
    auto grouping = [&]() -> Status {
      if (n->grouping_written) return Unexpected(" in aggregation, grouping given twice");
      n->without = Kw("without");
      n->grouping_written = true;
      Advance();
      return LabelList(&n->grouping);
    };
    if (tok_.type == Tok::kIdent && (Kw("by") || Kw("without"))) TOCSIN_RETURN_IF_ERROR(grouping());
    std::vector<NodePtr> args;
    TOCSIN_RETURN_IF_ERROR(Args(&args, " in aggregation"));
    if (tok_.type == Tok::kIdent && (Kw("by") || Kw("without"))) TOCSIN_RETURN_IF_ERROR(grouping());
    bool has_param = op == AggregateOp::kTopk || op == AggregateOp::kBottomk ||
                     op == AggregateOp::kQuantile || op == AggregateOp::kCountValues;
    size_t want = has_param ? 2 : 1;
    if (args.size() != want) {
      return Error(pos, "wrong number of arguments for aggregate expression provided, expected " +
                            std::to_string(want) + ", got " + std::to_string(args.size()));
    }
    if (has_param) {
      n->param = std::move(args[0]);
      ValueType want_param =
          op == AggregateOp::kCountValues ? ValueType::kString : ValueType::kScalar;
      if (n->param->Type() != want_param)
        return Error(n->param->pos, "expected type " + std::string(ValueTypeName(want_param)) +
                                        " in aggregation parameter, got " +
                                        std::string(ValueTypeName(n->param->Type())));
    }
    n->expr = std::move(args.back());
    if (n->expr->Type() != ValueType::kVector)
      return Error(n->expr->pos, "expected type instant vector in aggregation expression, got " +
                                     std::string(ValueTypeName(n->expr->Type())));
    *out = std::move(n);
    return Status::Ok();
  }

  std::string_view in_;
  size_t pos_ = 0;
  int brackets_ = 0;
  Token tok_;
  std::string bad_;
};

}  // namespace

Status ParseExpr(std::string_view input, NodePtr* out) { return Parser(input).Parse(out); }

}  // namespace tocsin::promql
