#include "protocol/status.h"

namespace liandong {

const char* code_name(Code c) {
  switch (c) {
    case Code::ok:
      return "ok";
    case Code::invalid:
      return "invalid";
    case Code::corruption:
      return "corruption";
    case Code::overloaded:
      return "overloaded";
    case Code::disconnected:
      return "disconnected";
    case Code::not_found:
      return "not_found";
    case Code::no_space:
      return "no_space";
    case Code::internal:
      return "internal";
  }
  return "unknown";
}

std::string Status::to_string() const {
  if (is_ok()) return "ok";
  return std::string(code_name(code_)) + ": " + message_;
}

}  // namespace liandong
