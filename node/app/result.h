// What an application operation returns (node/app/): a value, or an
// AppError saying why the operation did nothing.
//
// An AppError is one of two kinds, which pick the exit code of the CLI and
// the answer of any other entry point:
//   - bad input (`refused` false, status invalid): the request is malformed
//     (exit 2);
//   - a refusal (`refused` true): the request is well formed but the node
//     will not take the action here and now (exit 1);
// any other status category (a store that fails, a missing case) is a
// failure of its own (exit 1).
//
// Thread contract: plain values.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <variant>

#include "protocol/event_codec.h"
#include "protocol/records.capnp.h"
#include "protocol/status.h"

namespace liandong::app {

// A person's action refused by the role rules (storage/authority.h) or the
// roster (storage/roster.h): what the audit log records about it
// (record_role_refusal, node/app/actor.h). Checks that do not write leave
// recording it to their caller.
struct RoleRefusal {
  std::string actor_name;
  proto::Role role = proto::Role::CLERK;
  EventKind kind = EventKind::comment;
  std::string subject;
  // How many such actions were refused for the same reason (the rows of a
  // ledger, node/app/import.h): recorded as one audit note.
  uint32_t count = 1;
};

// Which part of a request an error is about, so an entry point can point at
// it: the form field, or the column of a ledger row (node/ledger_import.h).
// The values travel between the CLI and the daemon (`import-rows`): add new
// ones at the end only.
enum class RequestPart : uint8_t { whole, item, id_number, phone, materials, home, role };
constexpr RequestPart kLastRequestPart = RequestPart::role;

struct AppError {
  Status status;
  bool refused = false;
  // Set when the refusal is a person's action refused by role or roster.
  std::optional<RoleRefusal> role_refusal{};
  RequestPart part = RequestPart::whole;
};

// The exit code of the CLI for an error: 2 for bad input, else 1.
inline int exit_code(const AppError& e) {
  if (e.refused) return 1;
  return e.status.code() == Code::invalid ? 2 : 1;
}

// A value or an AppError. Access value() only after checking ok().
template <typename T>
class [[nodiscard]] AppResult {
 public:
  AppResult(T value) : v_(std::move(value)) {}  // NOLINT: implicit by design
  AppResult(AppError e) : v_(std::move(e)) {}   // NOLINT: implicit by design
  bool ok() const { return std::holds_alternative<T>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  T& value() & { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  const T& operator*() const& { return value(); }
  T& operator*() & { return value(); }
  const T* operator->() const { return &value(); }
  T* operator->() { return &value(); }
  const AppError& error() const { return std::get<AppError>(v_); }

 private:
  std::variant<T, AppError> v_;
};

// Inside an operation's .cpp: the moved rules fail with these, and the
// operation's entry point turns the thrown AppError into its result. No
// exception leaves an operation.
[[noreturn]] inline void fail(Status s) {
  throw AppError{std::move(s)};
}
[[noreturn]] inline void refuse(Status s) {
  throw AppError{std::move(s), true};
}
// The same, about one part of the request.
[[noreturn]] inline void fail(Status s, RequestPart part) {
  throw AppError{std::move(s), false, std::nullopt, part};
}
[[noreturn]] inline void refuse(Status s, RequestPart part) {
  throw AppError{std::move(s), true, std::nullopt, part};
}

}  // namespace liandong::app
