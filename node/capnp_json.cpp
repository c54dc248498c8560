#include "node/capnp_json.h"

#include <capnp/compat/json.h>
#include <capnp/message.h>

#include <cmath>
#include <string>

namespace liandong::node {

namespace {

// Integers reach JsonValue as doubles; below 2^53 they are exact.
constexpr double kExactIntegers = 9007199254740992.0;

Json from_json_value(capnp::JsonValue::Reader v) {
  switch (v.which()) {
    case capnp::JsonValue::NULL_:
      return nullptr;
    case capnp::JsonValue::BOOLEAN:
      return v.getBoolean();
    case capnp::JsonValue::NUMBER: {
      const double d = v.getNumber();
      if (std::trunc(d) == d && std::fabs(d) < kExactIntegers) return static_cast<int64_t>(d);
      return d;
    }
    case capnp::JsonValue::STRING: {
      auto s = v.getString();
      return std::string(s.begin(), s.end());
    }
    case capnp::JsonValue::ARRAY: {
      Json out = Json::array();
      for (auto e : v.getArray())
        out.push_back(from_json_value(e));
      return out;
    }
    case capnp::JsonValue::OBJECT: {
      Json out = Json::object();
      for (auto f : v.getObject()) {
        auto name = f.getName();
        out[std::string(name.begin(), name.end())] = from_json_value(f.getValue());
      }
      return out;
    }
    default:
      // CALL and anything newer: only handlers we never register make them.
      return nullptr;
  }
}

}  // namespace

Json capnp_json(capnp::DynamicStruct::Reader v) {
  capnp::MallocMessageBuilder message;
  auto root = message.initRoot<capnp::JsonValue>();
  capnp::JsonCodec codec;
  codec.encode(capnp::DynamicValue::Reader(v), v.getSchema(), root);
  return from_json_value(root.asReader());
}

}  // namespace liandong::node
