// Status and Result: how every fallible call in Liandong reports failure.
//
// A Status is ok or carries a category and a one-line message. The category
// picks the caller's policy (see STYLE.md): `invalid` rejects input and tells
// the sender, `corruption` means stored bytes are wrong, `overloaded` asks the
// caller to back off, `disconnected` to redial, `not_found` is an absent key,
// `no_space` a full disk or store, `internal` a bug or a library failure.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <variant>

namespace liandong {

enum class Code {
  ok,
  invalid,
  corruption,
  overloaded,
  disconnected,
  not_found,
  no_space,
  internal
};

const char* code_name(Code c);

class [[nodiscard]] Status {
 public:
  Status() = default;
  static Status ok() { return Status(); }
  static Status invalid(std::string m) { return Status(Code::invalid, std::move(m)); }
  static Status corruption(std::string m) { return Status(Code::corruption, std::move(m)); }
  static Status overloaded(std::string m) { return Status(Code::overloaded, std::move(m)); }
  static Status disconnected(std::string m) { return Status(Code::disconnected, std::move(m)); }
  static Status not_found(std::string m) { return Status(Code::not_found, std::move(m)); }
  static Status no_space(std::string m) { return Status(Code::no_space, std::move(m)); }
  static Status internal(std::string m) { return Status(Code::internal, std::move(m)); }

  bool is_ok() const { return code_ == Code::ok; }
  explicit operator bool() const { return is_ok(); }
  Code code() const { return code_; }
  const std::string& message() const { return message_; }
  // "invalid: home 3607 is not a valid division code"
  std::string to_string() const;

 private:
  Status(Code c, std::string m) : code_(c), message_(std::move(m)) {}
  Code code_ = Code::ok;
  std::string message_;
};

// A value or a failed Status. Access value() only after checking ok().
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}  // NOLINT: implicit by design
  Result(Status s) : v_(std::move(s)) {}     // NOLINT: must not be ok
  bool ok() const { return std::holds_alternative<T>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  T& value() & { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  const T& operator*() const& { return value(); }
  T& operator*() & { return value(); }
  const T* operator->() const { return &value(); }
  T* operator->() { return &value(); }
  Status status() const { return ok() ? Status::ok() : std::get<Status>(v_); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace liandong
