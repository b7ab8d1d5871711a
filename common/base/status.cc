#include "common/base/status.h"

#include <cerrno>
#include <cstring>

namespace tocsin {

namespace {
const char* CodeName(Status::Code code) {
  switch (code) {
    case Status::Code::kOk:
      return "OK";
    case Status::Code::kNotFound:
      return "not found";
    case Status::Code::kInvalidArgument:
      return "invalid argument";
    case Status::Code::kIoError:
      return "I/O error";
    case Status::Code::kCorruption:
      return "corruption";
    case Status::Code::kResourceExhausted:
      return "resource exhausted";
    case Status::Code::kTimeout:
      return "timeout";
    case Status::Code::kUnavailable:
      return "unavailable";
    case Status::Code::kInternal:
      return "internal error";
  }
  return "unknown";
}
}  // namespace

Status Status::FromErrno(std::string_view msg, int err) {
  std::string m(msg);
  m += ": ";
  m += std::strerror(err);
  return Status(err == ENOENT ? Code::kNotFound : Code::kIoError, m);
}

std::string Status::ToString() const {
  if (ok()) return "OK";
  std::string s = CodeName(rep_->code);
  s += ": ";
  s += rep_->msg;
  return s;
}

Status Status::WithContext(std::string_view context) const {
  if (ok()) return Status();
  std::string m(context);
  m += ": ";
  m += rep_->msg;
  return Status(rep_->code, m);
}

}  // namespace tocsin
