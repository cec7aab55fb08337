// Result<T>: a value or one human-readable error sentence, for pure-core functions whose caller
// needs to know why something was rejected (a malformed job document, a bad flag value).
// Status: the same for an operation that has no value to give back: success (Status::Ok()) or an
// Error. Together they are how the core reports failures; std::optional is for answers where
// "nothing" is normal (an unknown line, an absent duration), not for "an error if set".
// Cheap to move; no exceptions. Thread-compatible.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <variant>

namespace ffpod {

struct Error {
  std::string message;  // one sentence that names what was wrong
};

class [[nodiscard]] Status {
 public:
  Status() = default;                                // success
  Status(Error error) : error_(std::move(error)) {}  // NOLINT: implicit by design
  static Status Ok() { return {}; }

  bool ok() const { return !error_.has_value(); }
  explicit operator bool() const { return ok(); }

  // Precondition: !ok().
  const Error& error() const { return *error_; }

 private:
  std::optional<Error> error_;
};

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}      // NOLINT: implicit by design
  Result(Error error) : v_(std::move(error)) {}  // NOLINT: implicit by design

  bool ok() const { return std::holds_alternative<T>(v_); }
  explicit operator bool() const { return ok(); }

  // Preconditions: ok() for value(), !ok() for error().
  T& value() & { return std::get<T>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  T* operator->() { return &std::get<T>(v_); }
  const T* operator->() const { return &std::get<T>(v_); }
  T& operator*() & { return std::get<T>(v_); }
  const T& operator*() const& { return std::get<T>(v_); }
  const Error& error() const { return std::get<Error>(v_); }
  // OK, or this error: for a caller that only needs to know whether it worked.
  Status status() const { return ok() ? Status::Ok() : Status(error()); }

 private:
  std::variant<T, Error> v_;
};

}  // namespace ffpod
