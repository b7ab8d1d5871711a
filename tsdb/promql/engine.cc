#include "tsdb/promql/engine.h"

#include <algorithm>
#include <bit>
#include <charconv>
#include <cmath>
#include <ctime>
#include <functional>
#include <iterator>
#include <limits>
#include <map>
#include <span>
#include <unordered_map>
#include <unordered_set>

#include "common/base/strings.h"
#include "common/expfmt/writer.h"
#include "common/labels/regex_expand.h"
#include "tsdb/promql/functions.h"

namespace tocsin::promql {

bool IsStaleNaN(double v) { return std::bit_cast<uint64_t>(v) == 0x7ff0000000000002ull; }

namespace {

using labels::Labels;

// Label sets inside one query are interned by the evaluator (Evaluator::Intern): equal sets
// share one address, so steps compare, hash and copy a pointer instead of the label bytes.
struct Elem {
  const Labels* l;
  double v;
};
using Vec = std::vector<Elem>;

// One series' samples inside a range window: a view of the loaded samples (matrix selectors)
// or of the window's own points (subqueries). Not copyable: the view may point into `owned`.
struct Window {
  const Labels* l = nullptr;  // interned
  std::vector<Point> owned;
  std::span<const Point> points;
  Window() = default;
  Window(const Labels* labels, std::span<const Point> view) : l(labels), points(view) {}
  const Labels& labels() const { return *l; }
  Window(Window&&) = default;
  Window& operator=(Window&&) = default;
  Window(const Window&) = delete;
  Window& operator=(const Window&) = delete;
};
using Mat = std::vector<Window>;

struct Loaded {
  const Labels* l;            // interned
  std::vector<Point> points;  // every sample, staleness markers included (instant selectors)
  // Without staleness markers (range windows): points itself unless it holds markers.
  const std::vector<Point>& live() const { return has_stale ? without_stale : points; }
  bool has_stale = false;
  std::vector<Point> without_stale;
};

// Label set edits.
Labels Build(std::vector<std::pair<std::string, std::string>> pairs) {
  Labels out;
  (void)Labels::FromPairs(std::move(pairs), &out);
  return out;
}
std::vector<std::pair<std::string, std::string>> Pairs(const Labels& l) {
  std::vector<std::pair<std::string, std::string>> p;
  l.ForEach([&](std::string_view n, std::string_view v) { p.emplace_back(n, v); });
  return p;
}
Labels DropName(const Labels& l) {
  return l.Filter([](std::string_view n, std::string_view) { return n != labels::kMetricName; });
}
Labels SetLabel(const Labels& l, const std::string& name, const std::string& value) {
  auto p = Pairs(l);
  std::erase_if(p, [&](const auto& kv) { return kv.first == name; });
  if (!value.empty()) p.emplace_back(name, value);
  return Build(std::move(p));
}
bool Contains(const std::vector<std::string>& v, std::string_view s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}
// The labels named (on) or all but those named and __name__ (ignoring / without).
std::string Signature(const Labels& l, const std::vector<std::string>& names, bool on) {
  std::string sig;
  l.ForEach([&](std::string_view n, std::string_view v) {
    bool listed = Contains(names, n);
    if (on ? listed : (!listed && n != labels::kMetricName)) {
      sig.append(n);
      sig.push_back('\xff');
      sig.append(v);
      sig.push_back('\xfe');
    }
  });
  return sig;
}
Labels Grouped(const Labels& l, const std::vector<std::string>& names, bool without) {
  return l.Filter([&](std::string_view n, std::string_view) {
    bool listed = Contains(names, n);
    return without ? !(listed || n == labels::kMetricName) : listed;
  });
}

std::string FormatValue(double v) {
  std::string s;
  expfmt::AppendDouble(&s, v);
  return s;
}

// The value of a string expression (a literal, possibly in parentheses).
std::string StringOf(const Node& n) {
  const Node* a = &n;
  while (a->kind == Node::Kind::kParen) a = a->expr.get();
  return a->kind == Node::Kind::kString ? a->str : std::string();
}

// Go's math.Max / math.Min: NaN when either is NaN.
double GoMax(double a, double b) { return std::isnan(a) || std::isnan(b) ? NAN : std::max(a, b); }
double GoMin(double a, double b) { return std::isnan(a) || std::isnan(b) ? NAN : std::min(a, b); }

// Prometheus's incremental mean (avg, avg_over_time), which keeps an infinite mean infinite.
struct Mean {
  double mean = 0, count = 0;
  void Add(double v) {
    count += 1;
    if (count == 1) {
      mean = v;
      return;
    }
    if (std::isinf(mean)) {
      if (std::isinf(v) && (mean > 0) == (v > 0)) return;
      if (!std::isinf(v) && !std::isnan(v)) return;
    }
    mean += v / count - mean / count;
  }
};

// strconv.FormatFloat(v, 'f', -1, 64): shortest digits, never an exponent.
std::string FormatFixed(double v) {
  std::string s;
  AppendGoFixed(&s, v);
  return s;
}

class Evaluator {
 public:
  Evaluator(const EngineOptions& o, tsdb::Storage* storage, int64_t start, int64_t end)
      : o_(o), storage_(storage), start_(start), end_(end) {
    deadline_ = std::chrono::steady_clock::now() + o.timeout;
  }

  // Loads every selector's samples for the evaluation times [lo, hi] of its subtree.
  Status Prepare(const Node& n, int64_t lo, int64_t hi) {
    switch (n.kind) {
      case Node::Kind::kVectorSelector:
        // Evaluated at one instant (an instant query, or @): only the newest sample counts.
        return Load(n, lo, hi, o_.lookback_delta_ms, At(n, lo) == At(n, hi));
      case Node::Kind::kMatrixSelector:
        return Load(*n.expr, lo, hi, n.range_ms);
      case Node::Kind::kSubquery: {
        int64_t a = At(n, lo) - n.offset_ms, b = At(n, hi) - n.offset_ms;
        return Prepare(*n.expr, a - n.range_ms, b);
      }
      case Node::Kind::kParen:
      case Node::Kind::kUnary:
        return Prepare(*n.expr, lo, hi);
      case Node::Kind::kBinary:
        TOCSIN_RETURN_IF_ERROR(Prepare(*n.lhs, lo, hi));
        return Prepare(*n.rhs, lo, hi);
      case Node::Kind::kAggregate:
        if (n.param) TOCSIN_RETURN_IF_ERROR(Prepare(*n.param, lo, hi));
        return Prepare(*n.expr, lo, hi);
      case Node::Kind::kCall:
        for (const auto& a : n.args) TOCSIN_RETURN_IF_ERROR(Prepare(*a, lo, hi));
        return Status::Ok();
      default:
        return Status::Ok();
    }
  }

  // --- values at one step -------------------------------------------------------------------

  Status Scalar(const Node& n, int64_t ts, double* out) {
    switch (n.kind) {
      case Node::Kind::kNumber:
        *out = n.number;
        return Status::Ok();
      case Node::Kind::kParen:
        return Scalar(*n.expr, ts, out);
      case Node::Kind::kUnary: {
        TOCSIN_RETURN_IF_ERROR(Scalar(*n.expr, ts, out));
        if (n.negate) *out = -*out;
        return Status::Ok();
      }
      case Node::Kind::kBinary: {
        double a, b;
        TOCSIN_RETURN_IF_ERROR(Scalar(*n.lhs, ts, &a));
        TOCSIN_RETURN_IF_ERROR(Scalar(*n.rhs, ts, &b));
        bool keep;
        *out = Arith(n.op, a, b, &keep);
        if (IsComparison(n.op)) *out = keep ? 1 : 0;
        return Status::Ok();
      }
      case Node::Kind::kCall: {
        std::string_view f = n.func->name;
        if (f == "time") {
          *out = static_cast<double>(ts) / 1000;
        } else if (f == "pi") {
          *out = M_PI;
        } else if (f == "scalar") {
          Vec v;
          TOCSIN_RETURN_IF_ERROR(Vector(*n.args[0], ts, &v));
          *out = v.size() == 1 ? v[0].v : std::numeric_limits<double>::quiet_NaN();
        } else {
          return Status::Internal("not a scalar function: " + std::string(f));
        }
        return Status::Ok();
      }
      default:
        return Status::Internal("not a scalar expression: " + n.String());
    }
  }

  Status Vector(const Node& n, int64_t ts, Vec* out) {
    out->clear();
    if (std::chrono::steady_clock::now() > deadline_)
      return Status::Timeout("expression evaluation");
    switch (n.kind) {
      case Node::Kind::kVectorSelector:
        return Select(n, ts, out);
      case Node::Kind::kParen:
        return Vector(*n.expr, ts, out);
      case Node::Kind::kUnary: {
        TOCSIN_RETURN_IF_ERROR(Vector(*n.expr, ts, out));
        if (n.negate) {
          for (auto& e : *out) {
            e.v = -e.v;
            e.l = Dropped(e.l);
          }
        }
        return Status::Ok();
      }
      case Node::Kind::kBinary:
        return Binary(n, ts, out);
      case Node::Kind::kAggregate:
        return Aggregate(n, ts, out);
      case Node::Kind::kCall:
        return Call(n, ts, out);
      default:
        return Status::Internal("not a vector expression: " + n.String());
    }
  }

  // A range vector at one step: a matrix selector's windows or a subquery's points.
  Status Range(const Node& n, int64_t ts, Mat* out) {
    out->clear();
    if (n.kind == Node::Kind::kMatrixSelector) {
      const Node& vs = *n.expr;
      int64_t t = At(vs, ts) - vs.offset_ms, from = t - n.range_ms;
      const std::vector<Loaded>& series = loaded_[&vs];
      // Windows [from, t]. Steps mostly move forward: each series' window bounds then advance
      // from where the last step left them; other moves (a subquery starting over) search.
      Cursor& c = cursors_[&n];
      bool forward = c.first.size() == series.size() && t >= c.t;
      if (!forward) {
        c.first.assign(series.size(), 0);
        c.last.assign(series.size(), 0);
      }
      c.t = t;
      out->reserve(series.size());
      for (size_t i = 0; i < series.size(); ++i) {
        const std::vector<Point>& live = series[i].live();
        size_t a, b;
        if (forward) {
          a = c.first[i];
          while (a < live.size() && live[a].t < from) ++a;
          b = std::max(c.last[i], a);
          while (b < live.size() && live[b].t <= t) ++b;
        } else {
          a = static_cast<size_t>(
              std::lower_bound(live.begin(), live.end(), from,
                               [](const Point& p, int64_t x) { return p.t < x; }) -
              live.begin());
          b = static_cast<size_t>(
              std::upper_bound(live.begin() + static_cast<ptrdiff_t>(a), live.end(), t,
                               [](int64_t x, const Point& p) { return x < p.t; }) -
              live.begin());
        }
        c.first[i] = a;
        c.last[i] = b;
        if (a == b) continue;
        out->emplace_back(series[i].l, std::span<const Point>(&live[a], b - a));
      }
      return Status::Ok();
    }
    if (n.kind == Node::Kind::kSubquery) {
      int64_t step = n.step_ms ? n.step_ms : o_.default_subquery_step_ms;
      int64_t t = At(n, ts) - n.offset_ms;
      int64_t from = t - n.range_ms;
      // Steps at absolute multiples of the step, from the window's start (inclusive).
      int64_t first = step * (from / step);
      if (first < from) first += step;
      std::unordered_map<const Labels*, size_t> index;
      Vec v;
      for (int64_t s = first; s <= t; s += step) {
        TOCSIN_RETURN_IF_ERROR(Vector(*n.expr, s, &v));
        for (auto& e : v) {
          auto [it, inserted] = index.try_emplace(e.l, out->size());
          if (inserted) out->emplace_back(e.l, std::span<const Point>());
          (*out)[it->second].owned.push_back({s, e.v});
        }
        if (n.expr->Type() == ValueType::kScalar) {
          double x;
          TOCSIN_RETURN_IF_ERROR(Scalar(*n.expr, s, &x));
          auto [it, inserted] = index.try_emplace(Intern(Labels()), out->size());
          if (inserted) out->emplace_back(Intern(Labels()), std::span<const Point>());
          (*out)[it->second].owned.push_back({s, x});
        }
      }
      for (Window& w : *out) w.points = w.owned;
      return Status::Ok();
    }
    if (n.kind == Node::Kind::kParen) return Range(*n.expr, ts, out);
    return Status::Internal("not a range expression: " + n.String());
  }

  const std::vector<std::string>& warnings() const { return warnings_; }

  // The query's one copy of a label set: equal sets get the same address, alive for the query.
  // Every label set an Elem, Window or Loaded points to comes from here.
  const Labels* Intern(Labels l) { return &*interned_.emplace(std::move(l)).first; }
  // DropName, remembered with the interned set: steps repeat the same series.
  const Labels* Dropped(const Labels* l) {
    const auto* i = static_cast<const InternedLabels*>(l);
    if (i->dropped == nullptr) i->dropped = Intern(DropName(*l));
    return i->dropped;
  }
  // A per-query slot kept with the interned set (Run: the index of its output series).
  static size_t& Slot(const Labels* l) { return static_cast<const InternedLabels*>(l)->slot; }
  // Grouped, remembered per node and label set.
  const Labels* GroupedCached(const Node& n, const Labels* l, const std::vector<std::string>& names,
                              bool without) {
    auto& m = grouped_[&n];
    auto it = m.find(l);
    if (it == m.end()) it = m.emplace(l, Intern(Grouped(*l, names, without))).first;
    return it->second;
  }
  // A binary operation's matching signature of a label set, remembered per node.
  std::string_view SignatureCached(const Node& n, const Labels* l) {
    auto& m = signatures_[&n];
    auto it = m.find(l);
    if (it == m.end()) it = m.emplace(l, Signature(*l, n.matching->labels, n.matching->on)).first;
    return it->second;
  }

 private:
  int64_t At(const Node& n, int64_t ts) const {
    switch (n.at.kind) {
      case AtModifier::Kind::kTimestamp:
        return n.at.timestamp_ms;
      case AtModifier::Kind::kStart:
        return start_;
      case AtModifier::Kind::kEnd:
        return end_;
      case AtModifier::Kind::kNone:
        break;
    }
    return ts;
  }

  Status Load(const Node& vs, int64_t lo, int64_t hi, int64_t back, bool latest_only = false) {
    int64_t a = At(vs, lo) - vs.offset_ms - back, b = At(vs, hi) - vs.offset_ms;
    auto& dst = loaded_[&vs];
    auto q = storage_->NewQuerier();
    std::unique_ptr<tsdb::SeriesSet> set;
    TOCSIN_RETURN_IF_ERROR(latest_only ? q->SelectLatest(a, b, vs.matchers, &set)
                                       : q->Select(a, b, vs.matchers, &set));
    while (set->Next()) {
      if (std::chrono::steady_clock::now() > deadline_)
        return Status::Timeout("expression evaluation");
      Loaded s;
      s.l = Intern(set->labels());
      auto it = set->Iterator();
      constexpr size_t kBatch = 256;
      int64_t tb[kBatch];
      double vb[kBatch];
      while (size_t k = it->NextBatch(tb, vb, kBatch)) {
        for (size_t i = 0; i < k; ++i) {
          s.points.push_back({tb[i], vb[i]});
          s.has_stale |= IsStaleNaN(vb[i]);
        }
      }
      if (s.has_stale)
        std::copy_if(s.points.begin(), s.points.end(), std::back_inserter(s.without_stale),
                     [](const Point& p) { return !IsStaleNaN(p.v); });
      TOCSIN_RETURN_IF_ERROR(it->status());
      samples_ += s.points.size();
      if (samples_ > o_.max_samples)
        return Status::ResourceExhausted(
            "query processing would load too many samples into memory in query execution");
      dst.push_back(std::move(s));
    }
    return set->status();
  }

  Status Select(const Node& vs, int64_t ts, Vec* out) {
    int64_t t = At(vs, ts) - vs.offset_ms;
    for (const Loaded& s : loaded_[&vs]) {
      auto it = std::upper_bound(s.points.begin(), s.points.end(), t,
                                 [](int64_t x, const Point& p) { return x < p.t; });
      if (it == s.points.begin()) continue;
      --it;
      if (it->t < t - o_.lookback_delta_ms || IsStaleNaN(it->v)) continue;
      out->push_back({s.l, it->v});
    }
    return Status::Ok();
  }

  // --- operators -----------------------------------------------------------------------------

  // Arithmetic and bool comparisons drop the metric name; filters and (in Prometheus 2.42)
  // atan2 keep it.
  static bool DropsName(const Node& n) {
    if (n.op == BinaryOp::kAtan2) return false;
    return !IsComparison(n.op) || n.return_bool;
  }

  static double Arith(BinaryOp op, double a, double b, bool* keep) {
    *keep = true;
    switch (op) {
      case BinaryOp::kAdd:
        return a + b;
      case BinaryOp::kSub:
        return a - b;
      case BinaryOp::kMul:
        return a * b;
      case BinaryOp::kDiv:
        return a / b;
      case BinaryOp::kMod:
        return std::fmod(a, b);
      case BinaryOp::kPow:
        return std::pow(a, b);
      case BinaryOp::kAtan2:
        return std::atan2(a, b);
      case BinaryOp::kEql:
        *keep = a == b;
        return a;
      case BinaryOp::kNeq:
        *keep = a != b;
        return a;
      case BinaryOp::kGtr:
        *keep = a > b;
        return a;
      case BinaryOp::kLss:
        *keep = a < b;
        return a;
      case BinaryOp::kGte:
        *keep = a >= b;
        return a;
      case BinaryOp::kLte:
        *keep = a <= b;
        return a;
      default:
        return 0;
    }
  }

  Status Binary(const Node& n, int64_t ts, Vec* out) {
    ValueType lt = n.lhs->Type(), rt = n.rhs->Type();
    if (lt == ValueType::kScalar || rt == ValueType::kScalar) {
      // Vector and scalar: the operation applies to every element.
      bool scalar_left = lt == ValueType::kScalar;
      double s;
      Vec v;
      TOCSIN_RETURN_IF_ERROR(Scalar(scalar_left ? *n.lhs : *n.rhs, ts, &s));
      TOCSIN_RETURN_IF_ERROR(Vector(scalar_left ? *n.rhs : *n.lhs, ts, &v));
      for (auto& e : v) {
        double a = scalar_left ? s : e.v, b = scalar_left ? e.v : s;
        bool keep;
        double r = Arith(n.op, a, b, &keep);
        if (IsComparison(n.op)) {
          if (n.return_bool) {
            r = keep ? 1 : 0;
          } else if (!keep) {
            continue;
          } else {
            r = e.v;  // a filter keeps the vector's own value
          }
        }
        out->push_back({DropsName(n) ? Dropped(e.l) : e.l, r});
      }
      return Status::Ok();
    }
    Vec l, r;
    TOCSIN_RETURN_IF_ERROR(Vector(*n.lhs, ts, &l));
    TOCSIN_RETURN_IF_ERROR(Vector(*n.rhs, ts, &r));
    const VectorMatching& m = *n.matching;
    auto sig = [&](const Labels* x) { return SignatureCached(n, x); };
    if (n.op == BinaryOp::kAnd || n.op == BinaryOp::kUnless) {
      std::unordered_set<std::string_view> right;
      for (const auto& e : r) right.insert(sig(e.l));
      for (auto& e : l)
        if (right.count(sig(e.l)) == (n.op == BinaryOp::kAnd ? 1u : 0u))
          out->push_back(std::move(e));
      return Status::Ok();
    }
    if (n.op == BinaryOp::kOr) {
      std::unordered_set<std::string_view> left;
      for (auto& e : l) {
        left.insert(sig(e.l));
        out->push_back(e);
      }
      for (auto& e : r)
        if (!left.count(sig(e.l))) out->push_back(std::move(e));
      return Status::Ok();
    }
    // Arithmetic and comparisons: one-to-one, or many-to-one / one-to-many with group_*.
    bool right_one = m.card != VectorMatching::Card::kOneToMany;
    Vec& one = right_one ? r : l;
    Vec& many = right_one ? l : r;
    std::unordered_map<std::string_view, size_t> ones;
    for (size_t i = 0; i < one.size(); ++i) {
      auto [it, inserted] = ones.try_emplace(sig(one[i].l), i);
      if (!inserted) {
        return Status::InvalidArgument(
            std::string("found duplicate series for the match group ") + "on the " +
            (right_one ? "right" : "left") + " hand-side of the operation: [" +
            one[it->second].l->ToString() + ", " + one[i].l->ToString() +
            "];many-to-many matching not allowed: matching labels must be unique on one side");
      }
    }
    std::unordered_set<std::string_view> matched_many;  // one-to-one: a signature used once
    for (auto& e : many) {
      std::string_view s = sig(e.l);
      auto it = ones.find(s);
      if (it == ones.end()) continue;
      const Elem& o = one[it->second];
      if (m.card == VectorMatching::Card::kOneToOne) {
        if (!matched_many.insert(s).second) {
          return Status::InvalidArgument(
              "multiple matches for labels: many-to-one matching must be explicit "
              "(group_left/group_right)");
        }
      }
      double a = right_one ? e.v : o.v, b = right_one ? o.v : e.v;
      bool keep;
      double val = Arith(n.op, a, b, &keep);
      if (IsComparison(n.op)) {
        if (n.return_bool) {
          val = keep ? 1 : 0;
        } else if (!keep) {
          continue;
        } else {
          val = l.empty() ? val : a;  // the left-hand value passes the filter
        }
      }
      out->push_back({ResultLabels(n, e.l, o.l), val});
    }
    return CheckUnique(*out);
  }

  // A vector-vector operation's result labels: the "many" side's (the left for one-to-one),
  // trimmed to the matching labels for one-to-one with on(), plus group_* include labels from
  // the "one" side. Remembered per node and pair of label sets.
  const Labels* ResultLabels(const Node& n, const Labels* many, const Labels* one) {
    auto& cache = result_labels_[&n];
    auto key = std::make_pair(many, one);
    auto it = cache.find(key);
    if (it != cache.end()) return it->second;
    const VectorMatching& m = *n.matching;
    Labels res = *many;
    if (m.card == VectorMatching::Card::kOneToOne)
      res = res.Filter([&](std::string_view name, std::string_view) {
        return Contains(m.labels, name) == m.on;
      });
    if (DropsName(n)) res = DropName(res);
    for (const std::string& name : m.include)
      res = SetLabel(res, name, std::string(one->Get(name)));
    const Labels* r = Intern(std::move(res));
    cache.emplace(key, r);
    return r;
  }

  Status Aggregate(const Node& n, int64_t ts, Vec* out) {
    Vec in;
    TOCSIN_RETURN_IF_ERROR(Vector(*n.expr, ts, &in));
    double param = 0;
    std::string label;
    if (n.param) {
      if (n.agg == AggregateOp::kCountValues) {
        label = StringOf(*n.param);
        if (!expfmt::IsValidLabelName(label))
          return Status::InvalidArgument("invalid label name \"" + label + "\"");
      } else {
        TOCSIN_RETURN_IF_ERROR(Scalar(*n.param, ts, &param));
      }
    }
    struct Group {
      const Labels* l;
      std::vector<const Elem*> members;
    };
    std::unordered_map<const Labels*, size_t> index;
    std::vector<Group> groups;  // in order of first appearance
    std::vector<std::string> grouping = n.grouping;
    Vec relabeled;
    if (n.agg == AggregateOp::kCountValues) {
      // The value becomes a label of each series before grouping, as in Prometheus.
      for (const auto& e : in)
        relabeled.push_back({Intern(SetLabel(*e.l, label, FormatFixed(e.v))), e.v});
      in.swap(relabeled);
      if (!n.without) grouping.push_back(label);
    }
    for (const auto& e : in) {
      const Labels* g = GroupedCached(n, e.l, grouping, n.without);
      auto [it, inserted] = index.try_emplace(g, groups.size());
      if (inserted) groups.push_back({g, {}});
      groups[it->second].members.push_back(&e);
    }
    for (Group& g : groups) {
      const auto& ms = g.members;
      switch (n.agg) {
        case AggregateOp::kSum: {
          double s = 0;
          for (auto* e : ms) s += e->v;
          out->push_back({g.l, s});
          break;
        }
        case AggregateOp::kAvg: {
          Mean m;
          for (auto* e : ms) m.Add(e->v);
          out->push_back({g.l, m.mean});
          break;
        }
        case AggregateOp::kCount:
          out->push_back({g.l, static_cast<double>(ms.size())});
          break;
        case AggregateOp::kGroup:
          out->push_back({g.l, 1});
          break;
        case AggregateOp::kMin:
        case AggregateOp::kMax: {
          double r = ms[0]->v;
          for (auto* e : ms) {
            bool better = n.agg == AggregateOp::kMin ? e->v < r : e->v > r;
            if (better || std::isnan(r)) r = e->v;
          }
          out->push_back({g.l, r});
          break;
        }
        case AggregateOp::kStddev:
        case AggregateOp::kStdvar: {
          double count = 0, mean = 0, m2 = 0;
          for (auto* e : ms) {
            count += 1;
            double delta = e->v - mean;
            mean += delta / count;
            m2 += delta * (e->v - mean);
          }
          double var = m2 / count;
          out->push_back({g.l, n.agg == AggregateOp::kStdvar ? var : std::sqrt(var)});
          break;
        }
        case AggregateOp::kTopk:
        case AggregateOp::kBottomk: {
          if (!(param >= 1)) break;
          size_t k =
              param >= static_cast<double>(ms.size()) ? ms.size() : static_cast<size_t>(param);
          std::vector<const Elem*> sorted = ms;
          bool top = n.agg == AggregateOp::kTopk;
          std::stable_sort(sorted.begin(), sorted.end(), [&](const Elem* a, const Elem* b) {
            if (std::isnan(a->v)) return false;
            if (std::isnan(b->v)) return true;
            return top ? a->v > b->v : a->v < b->v;
          });
          for (size_t i = 0; i < k; ++i) out->push_back(*sorted[i]);
          break;
        }
        case AggregateOp::kQuantile: {
          std::vector<double> vs;
          for (auto* e : ms) vs.push_back(e->v);
          out->push_back({g.l, Quantile(param, vs)});
          break;
        }
        case AggregateOp::kCountValues:
          out->push_back({g.l, static_cast<double>(ms.size())});
          break;
      }
    }
    return Status::Ok();
  }

  static double Quantile(double q, std::vector<double> vs) {
    if (vs.empty() || std::isnan(q)) return std::numeric_limits<double>::quiet_NaN();
    if (q < 0) return -std::numeric_limits<double>::infinity();
    if (q > 1) return std::numeric_limits<double>::infinity();
    std::sort(vs.begin(), vs.end());
    double n = static_cast<double>(vs.size());
    double rank = q * (n - 1);
    size_t lower = static_cast<size_t>(std::max(0.0, std::floor(rank)));
    size_t upper = std::min(vs.size() - 1, lower + 1);
    double weight = rank - std::floor(rank);
    return vs[lower] * (1 - weight) + vs[upper] * weight;
  }

  // --- functions -----------------------------------------------------------------------------

  Status Call(const Node& n, int64_t ts, Vec* out);

  // absent()'s labels: those of the selector's equality matchers (a name given twice: none).
  static Labels AbsentLabels(const Node& arg) {  // (interned by the caller)
    const Node* a = &arg;
    while (a->kind == Node::Kind::kParen) a = a->expr.get();
    if (a->kind == Node::Kind::kMatrixSelector) a = a->expr.get();
    if (a->kind != Node::Kind::kVectorSelector) return Labels();
    std::map<std::string, std::string> eq;
    std::map<std::string, int> seen;
    for (const auto& m : a->matchers) {
      if (m.name() == labels::kMetricName) continue;
      ++seen[m.name()];
      if (m.type() == labels::Matcher::Type::kEqual) eq[m.name()] = m.value();
    }
    std::vector<std::pair<std::string, std::string>> p;
    for (const auto& [n, v] : eq)
      if (seen[n] == 1) p.emplace_back(n, v);
    return Build(std::move(p));
  }

  bool ReplaceAnchored(const std::string& pattern, const std::string& value,
                       const std::string& tmpl, std::string* out) {
    auto it = regexps_.find(pattern);
    if (it == regexps_.end())
      it = regexps_
               .emplace(pattern,
                        std::make_unique<re2::RE2>("^(?:" + pattern + ")$", re2::RE2::Quiet))
               .first;
    std::vector<re2::StringPiece> groups;
    if (!labels::FullMatch(*it->second, value, &groups)) return false;
    labels::ExpandTemplate(*it->second, tmpl, groups, out);
    return true;
  }

  static Status CheckUnique(const Vec& v) {
    std::unordered_set<const Labels*> seen;
    for (const auto& e : v)
      if (!seen.insert(e.l).second)
        return Status::InvalidArgument("vector cannot contain metrics with the same labelset");
    return Status::Ok();
  }

  std::unordered_map<std::string, std::unique_ptr<re2::RE2>> regexps_;

  const EngineOptions& o_;
  tsdb::Storage* storage_;
  int64_t start_, end_;
  std::chrono::steady_clock::time_point deadline_;
  std::unordered_map<const Node*, std::vector<Loaded>> loaded_;
  // Where a matrix selector's windows stood at the last step (Range).
  struct Cursor {
    int64_t t = 0;
    std::vector<size_t> first, last;
  };
  std::unordered_map<const Node*, Cursor> cursors_;
  std::unordered_map<const Node*, Mat> windows_;  // a function call's windows (Call)
  // An interned label set with what steps would otherwise look up in a map each time.
  struct InternedLabels : Labels {
    explicit InternedLabels(Labels l) : Labels(std::move(l)) {}
    mutable const Labels* dropped = nullptr;
    mutable size_t slot = SIZE_MAX;
  };
  struct LabelsHash {
    size_t operator()(const Labels& l) const { return std::hash<std::string>()(l.bytes()); }
  };
  struct PairHash {
    size_t operator()(const std::pair<const Labels*, const Labels*>& p) const {
      return std::hash<const void*>()(p.first) * 31 + std::hash<const void*>()(p.second);
    }
  };
  std::unordered_set<InternedLabels, LabelsHash> interned_;  // node-based: addresses stay put
  std::unordered_map<const Node*, std::unordered_map<const Labels*, const Labels*>> grouped_;
  std::unordered_map<const Node*, std::unordered_map<const Labels*, std::string>> signatures_;
  std::unordered_map<const Node*, std::unordered_map<std::pair<const Labels*, const Labels*>,
                                                     const Labels*, PairHash>>
      result_labels_;
  size_t samples_ = 0;
  std::vector<std::string> warnings_;
};

double ExtrapolatedRate(std::span<const Point> p, int64_t range_start, int64_t range_end,
                        double range_s, bool counter, bool rate) {
  double result = p.back().v - p.front().v;
  if (counter) {
    double last = 0;
    for (const Point& x : p) {
      if (x.v < last) result += last;
      last = x.v;
    }
  }
  double to_start = static_cast<double>(p.front().t - range_start) / 1000;
  double to_end = static_cast<double>(range_end - p.back().t) / 1000;
  double sampled = static_cast<double>(p.back().t - p.front().t) / 1000;
  double avg = sampled / static_cast<double>(p.size() - 1);
  if (counter && result > 0 && p.front().v >= 0) {
    double to_zero = sampled * (p.front().v / result);
    if (to_zero < to_start) to_start = to_zero;
  }
  double threshold = avg * 1.1;
  double interval = sampled;
  interval += to_start < threshold ? to_start : avg / 2;
  interval += to_end < threshold ? to_end : avg / 2;
  result = result * (interval / sampled);
  if (rate) result /= range_s;
  return result;
}

// Neumaier-compensated summation step, as Prometheus's kahanSumInc.
void KahanInc(double inc, double* sum, double* c) {
  double t = *sum + inc;
  if (std::fabs(*sum) >= std::fabs(inc)) {
    *c += (*sum - t) + inc;
  } else {
    *c += (inc - t) + *sum;
  }
  *sum = t;
}

// Least-squares slope and intercept at time t0, computed as Prometheus 2.42's
// linearRegression does (same operations, same order), so results agree to the bit.
void Regression(std::span<const Point> p, int64_t t0, double* slope, double* intercept) {
  double n = 0, sx = 0, cx = 0, sy = 0, cy = 0, sxy = 0, cxy = 0, sx2 = 0, cx2 = 0;
  double init_y = p.front().v;
  bool const_y = true;
  for (size_t i = 0; i < p.size(); ++i) {
    if (const_y && i > 0 && p[i].v != init_y) const_y = false;
    n += 1;
    double x = static_cast<double>(p[i].t - t0) / 1e3;
    KahanInc(x, &sx, &cx);
    KahanInc(p[i].v, &sy, &cy);
    KahanInc(x * p[i].v, &sxy, &cxy);
    KahanInc(x * x, &sx2, &cx2);
  }
  if (const_y) {
    if (std::isinf(init_y)) {
      *slope = *intercept = std::numeric_limits<double>::quiet_NaN();
      return;
    }
    *slope = 0;
    *intercept = init_y;
    return;
  }
  sx += cx;
  sy += cy;
  sxy += cxy;
  sx2 += cx2;
  double cov = sxy - sx * sy / n, var = sx2 - sx * sx / n;
  *slope = cov / var;
  *intercept = sy / n - *slope * sx / n;
}

double BucketQuantile(double q, std::vector<std::pair<double, double>> buckets) {
  // buckets: (upper bound, cumulative count), any order.
  if (std::isnan(q)) return std::numeric_limits<double>::quiet_NaN();
  if (q < 0) return -std::numeric_limits<double>::infinity();
  if (q > 1) return std::numeric_limits<double>::infinity();
  std::sort(buckets.begin(), buckets.end());
  if (buckets.size() < 2 || !std::isinf(buckets.back().first))
    return std::numeric_limits<double>::quiet_NaN();
  // Merge equal bounds, make counts monotonic.
  std::vector<std::pair<double, double>> b;
  for (auto& x : buckets) {
    if (!b.empty() && b.back().first == x.first) {
      b.back().second += x.second;
    } else {
      b.push_back(x);
    }
  }
  for (size_t i = 1; i < b.size(); ++i) b[i].second = std::max(b[i].second, b[i - 1].second);
  if (b.size() < 2) return std::numeric_limits<double>::quiet_NaN();
  double observations = b.back().second;
  if (observations == 0) return std::numeric_limits<double>::quiet_NaN();
  double rank = q * observations;
  size_t i = 0;
  while (i < b.size() - 1 && b[i].second < rank) ++i;
  if (i == b.size() - 1) return b[b.size() - 2].first;
  if (i == 0 && b[0].first <= 0) return b[0].first;
  double bucket_start = 0, bucket_end = b[i].first, count = b[i].second;
  if (i > 0) {
    bucket_start = b[i - 1].first;
    count -= b[i - 1].second;
    rank -= b[i - 1].second;
  }
  return bucket_start + (bucket_end - bucket_start) * (rank / count);
}

Status Evaluator::Call(const Node& n, int64_t ts, Vec* out) {
  std::string_view f = n.func->name;
  auto scalar_arg = [&](size_t i, double* v) { return Scalar(*n.args[i], ts, v); };
  auto string_arg = [&](size_t i) { return StringOf(*n.args[i]); };

  // Functions of a range vector.
  size_t matrix_arg = n.args.size();
  for (size_t i = 0; i < n.args.size(); ++i)
    if (n.args[i]->Type() == ValueType::kMatrix) matrix_arg = i;
  if (matrix_arg < n.args.size()) {
    Mat& m = windows_[&n];  // reused by every step (a node is never inside itself)
    TOCSIN_RETURN_IF_ERROR(Range(*n.args[matrix_arg], ts, &m));
    const Node* sel = n.args[matrix_arg].get();
    while (sel->kind == Node::Kind::kParen) sel = sel->expr.get();
    int64_t range = sel->range_ms;
    int64_t eval_t = sel->kind == Node::Kind::kMatrixSelector
                         ? At(*sel->expr, ts) - sel->expr->offset_ms
                         : At(*sel, ts) - sel->offset_ms;
    double extra = 0, extra2 = 0;
    if (f == "quantile_over_time") TOCSIN_RETURN_IF_ERROR(scalar_arg(0, &extra));
    if (f == "predict_linear") TOCSIN_RETURN_IF_ERROR(scalar_arg(1, &extra));
    if (f == "holt_winters") {
      TOCSIN_RETURN_IF_ERROR(scalar_arg(1, &extra));
      TOCSIN_RETURN_IF_ERROR(scalar_arg(2, &extra2));
      if (extra <= 0 || extra >= 1)
        return Status::InvalidArgument("invalid smoothing factor. Expected: 0 < sf < 1, got: " +
                                       FormatValue(extra));
      if (extra2 <= 0 || extra2 >= 1)
        return Status::InvalidArgument("invalid trend factor. Expected: 0 < tf < 1, got: " +
                                       FormatValue(extra2));
    }
    if (f == "absent_over_time") {
      if (m.empty()) {
        out->push_back({Intern(AbsentLabels(*n.args[matrix_arg])), 1});
      }
      return Status::Ok();
    }
    for (Window& w : m) {
      const auto& p = w.points;
      double v;
      bool have = true;
      if (f == "rate" || f == "increase" || f == "delta") {
        if (p.size() < 2) continue;
        v = ExtrapolatedRate(p, eval_t - range, eval_t, static_cast<double>(range) / 1000,
                             f != "delta", f == "rate");
      } else if (f == "irate" || f == "idelta") {
        if (p.size() < 2) continue;
        const Point& a = p[p.size() - 2];
        const Point& b = p.back();
        v = b.v - a.v;
        if (f == "irate") {
          if (b.v < a.v) v = b.v;
          v /= static_cast<double>(b.t - a.t) / 1000;
        }
      } else if (f == "deriv") {
        if (p.size() < 2) continue;
        double slope, icpt;
        Regression(p, p.front().t, &slope, &icpt);
        v = slope;
      } else if (f == "predict_linear") {
        if (p.size() < 2) continue;
        double slope, icpt;
        Regression(p, ts, &slope, &icpt);  // at the step's time, @ or not (as Prometheus 2.42)
        v = slope * extra + icpt;
      } else if (f == "changes" || f == "resets") {
        double c = 0;
        for (size_t i = 1; i < p.size(); ++i) {
          bool changed = f == "changes" ? (p[i].v != p[i - 1].v &&
                                           !(std::isnan(p[i].v) && std::isnan(p[i - 1].v)))
                                        : p[i].v < p[i - 1].v;
          if (changed) c += 1;
        }
        v = c;
      } else if (f == "avg_over_time") {
        Mean m;
        for (const Point& x : p) m.Add(x.v);
        v = m.mean;
      } else if (f == "sum_over_time") {
        v = 0;
        for (const Point& x : p) v += x.v;
      } else if (f == "count_over_time") {
        v = static_cast<double>(p.size());
      } else if (f == "min_over_time" || f == "max_over_time") {
        v = p.front().v;
        for (const Point& x : p) {
          bool better = f == "min_over_time" ? x.v < v : x.v > v;
          if (better || std::isnan(v)) v = x.v;
        }
      } else if (f == "last_over_time") {
        out->push_back({w.l, p.back().v});  // keeps the metric name
        continue;
      } else if (f == "present_over_time") {
        v = 1;
      } else if (f == "stddev_over_time" || f == "stdvar_over_time") {
        double count = 0, mean = 0, m2 = 0;
        for (const Point& x : p) {
          count += 1;
          double d = x.v - mean;
          mean += d / count;
          m2 += d * (x.v - mean);
        }
        v = m2 / count;
        if (f == "stddev_over_time") v = std::sqrt(v);
      } else if (f == "quantile_over_time") {
        std::vector<double> vs;
        for (const Point& x : p) vs.push_back(x.v);
        v = Quantile(extra, vs);
      } else if (f == "holt_winters") {
        if (p.size() < 2) continue;
        double s0 = 0, s1 = p[0].v, b = p[1].v - p[0].v;
        for (size_t i = 1; i < p.size(); ++i) {
          double x = extra * p[i].v;
          if (i > 1) b = extra2 * (s1 - s0) + (1 - extra2) * b;
          double y = (1 - extra) * (s1 + b);
          s0 = s1;
          s1 = x + y;
        }
        v = s1;
      } else {
        have = false;
        v = 0;
      }
      if (!have)
        return Status::Unavailable("function \"" + std::string(f) + "\" is not implemented yet");
      out->push_back({Dropped(w.l), v});
    }
    return Status::Ok();
  }

  if (f == "vector") {
    double v;
    TOCSIN_RETURN_IF_ERROR(scalar_arg(0, &v));
    out->push_back({Intern(Labels()), v});
    return Status::Ok();
  }
  if (f == "absent") {
    Vec v;
    TOCSIN_RETURN_IF_ERROR(Vector(*n.args[0], ts, &v));
    if (v.empty()) out->push_back({Intern(AbsentLabels(*n.args[0])), 1});
    return Status::Ok();
  }
  // Date functions: of the argument's values, or of the evaluation time without one.
  static const std::vector<std::string_view> kDate = {
      "days_in_month", "day_of_month", "day_of_week", "day_of_year",
      "hour",          "minute",       "month",       "year"};
  bool date = std::find(kDate.begin(), kDate.end(), f) != kDate.end();
  Vec in;
  if (date && n.args.empty()) {
    in.push_back({Intern(Labels()), static_cast<double>(ts) / 1000});
  } else if (!n.args.empty() && n.args[0]->Type() == ValueType::kVector) {
    TOCSIN_RETURN_IF_ERROR(Vector(*n.args[0], ts, &in));
  }
  if (date) {
    for (auto& e : in) {
      if (std::isnan(e.v) || std::isinf(e.v)) {
        out->push_back({Dropped(e.l), std::numeric_limits<double>::quiet_NaN()});
        continue;
      }
      std::time_t secs = static_cast<std::time_t>(std::floor(e.v));
      std::tm tm{};
      gmtime_r(&secs, &tm);
      double r = 0;
      if (f == "hour") r = tm.tm_hour;
      if (f == "minute") r = tm.tm_min;
      if (f == "month") r = tm.tm_mon + 1;
      if (f == "year") r = tm.tm_year + 1900;
      if (f == "day_of_month") r = tm.tm_mday;
      if (f == "day_of_week") r = tm.tm_wday;
      if (f == "day_of_year") r = tm.tm_yday + 1;
      if (f == "days_in_month") {
        static const int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
        int y = tm.tm_year + 1900;
        bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
        r = kDays[tm.tm_mon] + (tm.tm_mon == 1 && leap ? 1 : 0);
      }
      out->push_back({Dropped(e.l), r});
    }
    return Status::Ok();
  }
  if (f == "sort" || f == "sort_desc") {
    bool desc = f == "sort_desc";
    std::stable_sort(in.begin(), in.end(), [&](const Elem& a, const Elem& b) {
      if (std::isnan(a.v)) return false;
      if (std::isnan(b.v)) return true;
      return desc ? a.v > b.v : a.v < b.v;
    });
    *out = std::move(in);
    return Status::Ok();
  }
  if (f == "timestamp") {
    // The timestamp of each selected sample (the evaluation time for other expressions).
    const Node* a = n.args[0].get();
    while (a->kind == Node::Kind::kParen) a = a->expr.get();
    if (a->kind == Node::Kind::kVectorSelector) {
      int64_t t = At(*a, ts) - a->offset_ms;
      for (const Loaded& s : loaded_[a]) {
        auto it = std::upper_bound(s.points.begin(), s.points.end(), t,
                                   [](int64_t x, const Point& p) { return x < p.t; });
        if (it == s.points.begin()) continue;
        --it;
        if (it->t < t - o_.lookback_delta_ms || IsStaleNaN(it->v)) continue;
        out->push_back({Dropped(s.l), static_cast<double>(it->t) / 1000});
      }
      return Status::Ok();
    }
    for (auto& e : in) out->push_back({Dropped(e.l), static_cast<double>(ts) / 1000});
    return Status::Ok();
  }
  if (f == "label_replace") {
    std::string dst = string_arg(1), repl = string_arg(2), src = string_arg(3),
                re_text = string_arg(4);
    labels::Matcher check;
    Status st = labels::Matcher::Make(labels::Matcher::Type::kRegexp, "x", re_text, &check);
    if (!st.ok())
      return Status::InvalidArgument("invalid regular expression in label_replace(): " + re_text);
    if (!expfmt::IsValidLabelName(dst))
      return Status::InvalidArgument("invalid destination label name in label_replace(): " + dst);
    for (auto& e : in) {
      std::string value(e.l->Get(src));
      std::string result;
      if (ReplaceAnchored(re_text, value, repl, &result)) e.l = Intern(SetLabel(*e.l, dst, result));
      out->push_back(std::move(e));
    }
    return CheckUnique(*out);
  }
  if (f == "label_join") {
    std::string dst = string_arg(1), sep = string_arg(2);
    if (!expfmt::IsValidLabelName(dst))
      return Status::InvalidArgument("invalid destination label name in label_join(): " + dst);
    for (auto& e : in) {
      std::string joined;
      for (size_t i = 3; i < n.args.size(); ++i) {
        if (i > 3) joined += sep;
        joined += e.l->Get(string_arg(i));
      }
      e.l = Intern(SetLabel(*e.l, dst, joined));
      out->push_back(std::move(e));
    }
    return CheckUnique(*out);
  }
  if (f == "histogram_quantile") {
    double q;
    TOCSIN_RETURN_IF_ERROR(scalar_arg(0, &q));
    Vec v;
    TOCSIN_RETURN_IF_ERROR(Vector(*n.args[1], ts, &v));
    std::unordered_map<const Labels*, size_t> index;
    std::vector<std::pair<const Labels*, std::vector<std::pair<double, double>>>> groups;
    std::unordered_set<const Labels*> seen_series;
    for (auto& e : v) {
      std::string_view le = e.l->Get("le");
      double bound;
      if (le.empty()) continue;
      std::string les(le);
      char* endp = nullptr;
      bound = std::strtod(les.c_str(), &endp);
      if (les == "+Inf" || les == "Inf" || les == "inf")
        bound = std::numeric_limits<double>::infinity();
      else if (endp == les.c_str())
        continue;
      static const std::vector<std::string> kLe = {"le"};
      const Labels* g = GroupedCached(n, e.l, kLe, true);
      auto [it, inserted] = index.try_emplace(g, groups.size());
      if (inserted) groups.emplace_back(g, std::vector<std::pair<double, double>>());
      // Two histograms that differ only in their name collide once it is dropped.
      if (!seen_series.insert(Dropped(e.l)).second)
        return Status::InvalidArgument("vector cannot contain metrics with the same labelset");
      groups[it->second].second.emplace_back(bound, e.v);
    }
    for (auto& [l, b] : groups) out->push_back({l, BucketQuantile(q, b)});
    return Status::Ok();
  }
  if (f == "histogram_count" || f == "histogram_sum" || f == "histogram_fraction") {
    return Status::Unavailable("native histograms are not supported: " + std::string(f) +
                               "() has no float samples to work on");
  }
  // Element-wise math.
  double a1 = 0, a2 = 0;
  if (f == "clamp") {
    TOCSIN_RETURN_IF_ERROR(scalar_arg(1, &a1));
    TOCSIN_RETURN_IF_ERROR(scalar_arg(2, &a2));
    if (a1 > a2) return Status::Ok();  // Prometheus returns an empty vector
  }
  if (f == "clamp_min" || f == "clamp_max") TOCSIN_RETURN_IF_ERROR(scalar_arg(1, &a1));
  double to_nearest = 1;
  if (f == "round" && n.args.size() > 1) TOCSIN_RETURN_IF_ERROR(scalar_arg(1, &to_nearest));
  std::function<double(double)> fn;
  if (f == "abs")
    fn = [](double x) { return std::fabs(x); };
  else if (f == "ceil")
    fn = [](double x) { return std::ceil(x); };
  else if (f == "floor")
    fn = [](double x) { return std::floor(x); };
  else if (f == "exp")
    fn = [](double x) { return std::exp(x); };
  else if (f == "sqrt")
    fn = [](double x) { return std::sqrt(x); };
  else if (f == "ln")
    fn = [](double x) { return std::log(x); };
  else if (f == "log2")
    fn = [](double x) { return std::log2(x); };
  else if (f == "log10")
    fn = [](double x) { return std::log10(x); };
  else if (f == "sin")
    fn = [](double x) { return std::sin(x); };
  else if (f == "cos")
    fn = [](double x) { return std::cos(x); };
  else if (f == "tan")
    fn = [](double x) { return std::tan(x); };
  else if (f == "asin")
    fn = [](double x) { return std::asin(x); };
  else if (f == "acos")
    fn = [](double x) { return std::acos(x); };
  else if (f == "atan")
    fn = [](double x) { return std::atan(x); };
  else if (f == "sinh")
    fn = [](double x) { return std::sinh(x); };
  else if (f == "cosh")
    fn = [](double x) { return std::cosh(x); };
  else if (f == "tanh")
    fn = [](double x) { return std::tanh(x); };
  else if (f == "asinh")
    fn = [](double x) { return std::asinh(x); };
  else if (f == "acosh")
    fn = [](double x) { return std::acosh(x); };
  else if (f == "atanh")
    fn = [](double x) { return std::atanh(x); };
  else if (f == "deg")
    fn = [](double x) { return x * 180 / M_PI; };
  else if (f == "rad")
    fn = [](double x) { return x * M_PI / 180; };
  else if (f == "sgn")
    fn = [](double x) { return x > 0 ? 1.0 : x < 0 ? -1.0 : x; };
  else if (f == "clamp")
    fn = [&](double x) { return GoMax(a1, GoMin(a2, x)); };
  else if (f == "clamp_min")
    fn = [&](double x) { return GoMax(a1, x); };
  else if (f == "clamp_max")
    fn = [&](double x) { return GoMin(a1, x); };
  else if (f == "round")
    fn = [&](double x) {
      double inv = 1 / to_nearest;
      return std::floor(x * inv + 0.5) / inv;
    };
  if (!fn) return Status::Unavailable("function \"" + std::string(f) + "\" is not implemented yet");
  for (auto& e : in) out->push_back({Dropped(e.l), fn(e.v)});
  return Status::Ok();
}

}  // namespace

namespace {

Status Run(const EngineOptions& o, tsdb::Storage* storage, const Node& expr, int64_t start,
           int64_t end, int64_t step, bool instant, QueryResult* out) {
  *out = QueryResult();
  ValueType type = expr.Type();
  if (type == ValueType::kString) {
    if (!instant)
      return Status::InvalidArgument(
          "invalid expression type \"string\" for range query, must be Scalar or instant Vector");
    out->type = ValueType::kString;
    out->str = expr.kind == Node::Kind::kString ? expr.str : "";
    out->scalar.push_back({start, 0});
    return Status::Ok();
  }
  if (type == ValueType::kMatrix && !instant)
    return Status::InvalidArgument(
        "invalid expression type \"range vector\" for range query, must be Scalar or instant "
        "Vector");
  if (!instant && step <= 0)
    return Status::InvalidArgument(
        "zero or negative query resolution step widths are not accepted");
  Evaluator ev(o, storage, start, end);
  TOCSIN_RETURN_IF_ERROR(ev.Prepare(expr, start, end));
  if (type == ValueType::kMatrix) {
    Mat m;
    TOCSIN_RETURN_IF_ERROR(ev.Range(expr, start, &m));
    out->type = ValueType::kMatrix;
    for (auto& w : m)
      out->series.push_back({w.labels(), std::vector<Point>(w.points.begin(), w.points.end())});
    std::sort(out->series.begin(), out->series.end(),
              [](const auto& a, const auto& b) { return a.labels < b.labels; });
    return Status::Ok();
  }
  size_t produced = 0;
  Vec v;  // reused by every step
  for (int64_t t = start; t <= end; t += (instant ? 1 : step)) {
    if (type == ValueType::kScalar) {
      double x;
      TOCSIN_RETURN_IF_ERROR(ev.Scalar(expr, t, &x));
      out->scalar.push_back({t, x});
    } else {
      TOCSIN_RETURN_IF_ERROR(ev.Vector(expr, t, &v));
      for (auto& e : v) {
        size_t& slot = Evaluator::Slot(e.l);
        if (slot == SIZE_MAX) {
          slot = out->series.size();
          out->series.push_back({*e.l, {}});
        } else if (instant ||
                   (!out->series[slot].points.empty() && out->series[slot].points.back().t == t)) {
          return Status::InvalidArgument("vector cannot contain metrics with the same labelset");
        }
        out->series[slot].points.push_back({t, e.v});
        if (++produced > o.max_samples)
          return Status::ResourceExhausted(
              "query processing would load too many samples into memory in query execution");
      }
    }
    if (instant) break;
  }
  out->type = type == ValueType::kScalar ? ValueType::kScalar
                                         : (instant ? ValueType::kVector : ValueType::kMatrix);
  if (!instant) {
    std::sort(out->series.begin(), out->series.end(),
              [](const auto& a, const auto& b) { return a.labels < b.labels; });
  }
  out->warnings = ev.warnings();
  return Status::Ok();
}

}  // namespace

Status Engine::Instant(tsdb::Storage* storage, const Node& expr, int64_t t,
                       QueryResult* out) const {
  return Run(options_, storage, expr, t, t, 0, true, out);
}

Status Engine::Range(tsdb::Storage* storage, const Node& expr, int64_t start, int64_t end,
                     int64_t step, QueryResult* out) const {
  return Run(options_, storage, expr, start, end, step, false, out);
}

}  // namespace tocsin::promql
