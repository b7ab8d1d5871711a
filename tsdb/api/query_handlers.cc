#include "tsdb/api/query_handlers.h"

#include <charconv>
#include <chrono>
#include <cmath>

#include "common/base/strings.h"
#include "tsdb/api/api_util.h"
#include "tsdb/promql/parser.h"

namespace tocsin::tsdb::api {

void AppendTimestamp(std::string* out, int64_t ms) {
  // Seconds with up to three decimals, as Prometheus prints them (no allocation: hot path).
  char buf[32];
  char* p = buf;
  uint64_t u = ms < 0 ? 0 - static_cast<uint64_t>(ms) : static_cast<uint64_t>(ms);
  if (ms < 0) *p++ = '-';
  p = std::to_chars(p, buf + sizeof buf, u / 1000).ptr;
  if (unsigned frac = static_cast<unsigned>(u % 1000); frac != 0) {
    *p++ = '.';
    *p++ = static_cast<char>('0' + frac / 100);
    *p++ = static_cast<char>('0' + frac / 10 % 10);
    *p++ = static_cast<char>('0' + frac % 10);
  }
  out->append(buf, p);
}

void AppendSampleValue(std::string* out, double v) {
  out->push_back('"');
  AppendGoFixed(out, v);
  out->push_back('"');
}

namespace {

void AppendPoint(std::string* out, const promql::Point& p) {
  out->push_back('[');
  AppendTimestamp(out, p.t);
  out->push_back(',');
  AppendSampleValue(out, p.v);
  out->push_back(']');
}

// A range result's points fall on the query's steps: each step's timestamp is formatted once
// and copied into every series (other timestamps are formatted where they appear).
class StepTimestamps {
 public:
  StepTimestamps(int64_t start, int64_t end, int64_t step) : start_(start), step_(step) {
    if (step > 0 && end >= start) text_.resize(static_cast<size_t>((end - start) / step) + 1);
  }
  // [<timestamp>,"<value>"], composed on the stack and appended at once (the hot path of
  // large results).
  void AppendPoint(std::string* out, const promql::Point& p) {
    int64_t k = step_ > 0 ? (p.t - start_) / step_ : -1;
    if (k >= 0 && static_cast<size_t>(k) < text_.size() && start_ + k * step_ == p.t) {
      std::string& t = text_[static_cast<size_t>(k)];
      if (t.empty()) {
        t = "[";
        AppendTimestamp(&t, p.t);
        t += ",\"";
      }
      out->append(t);
    } else {
      out->push_back('[');
      AppendTimestamp(out, p.t);
      out->append(",\"");
    }
    char buf[kGoFixedMax + 2];
    char* e = WriteGoFixed(buf, p.v);
    *e++ = '"';
    *e++ = ']';
    out->append(buf, e);
  }

 private:
  int64_t start_, step_;
  std::vector<std::string> text_;
};

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

http::Response QueryHandlers::Query(const http::Request& req) { return Run(req, false); }
http::Response QueryHandlers::QueryRange(const http::Request& req) { return Run(req, true); }

http::Response QueryHandlers::Run(const http::Request& req, bool range) {
  if (req.method != "GET" && req.method != "POST")
    return ApiError(405, kBadData, "method not allowed: use GET or POST");
  if (!req.FormValid()) return BadData("malformed form body: invalid percent escape");
  promql::EngineOptions eo = options_.engine;
  if (std::string_view t = req.Param("timeout"); !t.empty()) {
    int64_t ms;
    if (!ParseApiDuration(t, &ms) || ms <= 0)
      return BadData("invalid parameter \"timeout\": cannot parse \"" + std::string(t) +
                     "\" to a valid duration");
    eo.timeout = std::min(eo.timeout, std::chrono::milliseconds(ms));
  }
  int64_t start = 0, end = 0, step = 0;
  if (range) {
    if (!ParseApiTime(req.Param("start"), &start))
      return BadData("invalid parameter \"start\": cannot parse \"" +
                     std::string(req.Param("start")) + "\" to a valid timestamp");
    if (!ParseApiTime(req.Param("end"), &end))
      return BadData("invalid parameter \"end\": cannot parse \"" + std::string(req.Param("end")) +
                     "\" to a valid timestamp");
    if (end < start)
      return BadData("invalid parameter \"end\": end timestamp must not be before start time");
    if (!ParseApiDuration(req.Param("step"), &step))
      return BadData("invalid parameter \"step\": cannot parse \"" +
                     std::string(req.Param("step")) + "\" to a valid duration");
    if (step <= 0)
      return BadData(
          "invalid parameter \"step\": zero or negative query resolution step widths are not "
          "accepted. Try a positive integer");
    if ((end - start) / step > 11000)
      return BadData(
          "exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query "
          "resolution (?step=XX)");
  } else {
    std::string_view t = req.Param("time");
    start = NowMs();
    if (!t.empty() && !ParseApiTime(t, &start))
      return BadData("invalid parameter \"time\": cannot parse \"" + std::string(t) +
                     "\" to a valid timestamp");
    end = start;
  }
  promql::NodePtr expr;
  Status st = promql::ParseExpr(req.Param("query"), &expr);
  if (!st.ok()) {
    failures_.fetch_add(1);
    return BadData("invalid parameter \"query\": " + std::string(st.message()));
  }
  if (range && expr->Type() != promql::ValueType::kScalar &&
      expr->Type() != promql::ValueType::kVector) {
    failures_.fetch_add(1);
    return BadData("invalid parameter \"query\": invalid expression type \"" +
                   std::string(promql::ValueTypeName(expr->Type())) +
                   "\" for range query, must be Scalar or instant Vector");
  }
  {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [&] { return running_ < options_.max_concurrency; });
    ++running_;
  }
  auto began = std::chrono::steady_clock::now();
  promql::QueryResult r;
  promql::Engine engine(eo);
  st = range ? engine.Range(storage_, *expr, start, end, step, &r)
             : engine.Instant(storage_, *expr, start, &r);
  {
    std::lock_guard<std::mutex> lock(mu_);
    --running_;
  }
  cv_.notify_one();
  queries_.fetch_add(1);
  micros_.fetch_add(static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(
                                              std::chrono::steady_clock::now() - began)
                                              .count()));
  if (!st.ok()) {
    failures_.fetch_add(1);
    switch (st.code()) {
      case Status::Code::kInvalidArgument:
        return ApiError(422, kExecution, st.message());
      case Status::Code::kTimeout:
        return ApiError(503, kTimeout, "query timed out in " + std::string(st.message()));
      case Status::Code::kResourceExhausted:
        return ApiError(422, kExecution, st.message());
      default:
        return ApiError(422, kExecution, st.message());
    }
  }
  std::string data;
  switch (r.type) {
    case promql::ValueType::kScalar:
      if (range) {
        data = "{\"resultType\":\"matrix\",\"result\":[{\"metric\":{},\"values\":[";
        for (size_t i = 0; i < r.scalar.size(); ++i) {
          if (i) data += ',';
          AppendPoint(&data, r.scalar[i]);
        }
        data += "]}]}";
      } else {
        data = "{\"resultType\":\"scalar\",\"result\":";
        AppendPoint(&data, r.scalar[0]);
        data += '}';
      }
      break;
    case promql::ValueType::kString:
      data = "{\"resultType\":\"string\",\"result\":[";
      AppendTimestamp(&data, start);
      data += ',';
      AppendJsonString(&data, r.str);
      data += "]}";
      break;
    case promql::ValueType::kVector:
      data = "{\"resultType\":\"vector\",\"result\":[";
      for (size_t i = 0; i < r.series.size(); ++i) {
        if (i) data += ',';
        data += "{\"metric\":";
        AppendJsonLabels(&data, r.series[i].labels);
        data += ",\"value\":";
        AppendPoint(&data, r.series[i].points.back());
        data += '}';
      }
      data += "]}";
      break;
    case promql::ValueType::kMatrix:
    default: {
      size_t points = 0;
      for (const auto& s : r.series) points += s.points.size();
      data.reserve(points * 28 + r.series.size() * 160 + 64);  // avoids regrowing megabytes
      StepTimestamps steps(start, end, range ? step : 0);
      data = kSuccessPrefix;  // the response body itself, written in place
      data += "{\"resultType\":\"matrix\",\"result\":[";
      for (size_t i = 0; i < r.series.size(); ++i) {
        if (i) data += ',';
        data += "{\"metric\":";
        AppendJsonLabels(&data, r.series[i].labels);
        data += ",\"values\":[";
        for (size_t j = 0; j < r.series[i].points.size(); ++j) {
          if (j) data += ',';
          steps.AppendPoint(&data, r.series[i].points[j]);
        }
        data += "]}";
      }
      data += "]}";
      return ApiSuccessBody(std::move(data), r.warnings);
    }
  }
  return ApiSuccess(data, r.warnings);
}

}  // namespace tocsin::tsdb::api
