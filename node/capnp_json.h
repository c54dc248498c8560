// Cap'n Proto values as JSON values (for --json output): the encoding of
// capnp::JsonCodec's defaults, built as a Json value with no text in
// between, so it prints with json_text like the rest.
//
// Thread contract: pure functions.
#pragma once

#include <capnp/dynamic.h>

#include "node/json_text.h"

namespace liandong::node {

// `v` as capnp::JsonCodec encodes it by default: every primitive field,
// pointer fields when set, the union's active member, 64-bit integers as
// strings, other integers as numbers, enums by name, Data as an array of
// byte values, Void as null. Throws kj::Exception where JsonCodec does
// (a capability or AnyPointer field); `v` is assumed already checked.
Json capnp_json(capnp::DynamicStruct::Reader v);

}  // namespace liandong::node
