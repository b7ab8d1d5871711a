#pragma once
// Status: the result of an operation that can fail, as in leveldb. An OK status costs one null
// pointer. Thread-safety: a Status is a value; distinct objects may be used from distinct threads.

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace tocsin {

class [[nodiscard]] Status {
 public:
  // Values are stable: they are mapped to HTTP codes and printed in logs.
  enum class Code : uint8_t {
    kOk = 0,
    kNotFound = 1,
    kInvalidArgument = 2,
    kIoError = 3,
    kCorruption = 4,
    kResourceExhausted = 5,
    kTimeout = 6,
    kUnavailable = 7,
    kInternal = 8,
  };

  Status() noexcept = default;
  Status(const Status& other) : rep_(other.rep_ ? std::make_unique<Rep>(*other.rep_) : nullptr) {}
  Status& operator=(const Status& other) {
    if (this != &other) rep_ = other.rep_ ? std::make_unique<Rep>(*other.rep_) : nullptr;
    return *this;
  }
  Status(Status&&) noexcept = default;
  Status& operator=(Status&&) noexcept = default;

  static Status Ok() { return Status(); }
  static Status NotFound(std::string_view msg) { return Status(Code::kNotFound, msg); }
  static Status InvalidArgument(std::string_view msg) {
    return Status(Code::kInvalidArgument, msg);
  }
  static Status IoError(std::string_view msg) { return Status(Code::kIoError, msg); }
  static Status Corruption(std::string_view msg) { return Status(Code::kCorruption, msg); }
  static Status ResourceExhausted(std::string_view msg) {
    return Status(Code::kResourceExhausted, msg);
  }
  static Status Timeout(std::string_view msg) { return Status(Code::kTimeout, msg); }
  static Status Unavailable(std::string_view msg) { return Status(Code::kUnavailable, msg); }
  static Status Internal(std::string_view msg) { return Status(Code::kInternal, msg); }
  // IoError (NotFound for ENOENT) carrying strerror(err) after msg.
  static Status FromErrno(std::string_view msg, int err);

  bool ok() const { return rep_ == nullptr; }
  Code code() const { return rep_ ? rep_->code : Code::kOk; }
  std::string_view message() const { return rep_ ? std::string_view(rep_->msg) : ""; }
  // "OK" or "<code name>: <message>".
  std::string ToString() const;
  // Returns a status with the same code and "context: message".
  Status WithContext(std::string_view context) const;
  // Marks a deliberately ignored error.
  void IgnoreError() const {}

 private:
  struct Rep {
    Code code;
    std::string msg;
  };
  Status(Code code, std::string_view msg)
      : rep_(std::make_unique<Rep>(Rep{code, std::string(msg)})) {}
  std::unique_ptr<Rep> rep_;
};

#define TOCSIN_RETURN_IF_ERROR(expr) \
  do {                               \
    ::tocsin::Status _st = (expr);   \
    if (!_st.ok()) return _st;       \
  } while (0)

}  // namespace tocsin
