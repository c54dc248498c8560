// Fuzz target: an application as `liandong submit --json FILE` reads it
// (protocol/submission_json.h), then what the node does with one that
// decodes: the `submitted` event sealed, parsed back as a peer would, field
// rules checked, and folded into a case.
#include <capnp/message.h>

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "protocol/crypto.h"
#include "protocol/event_codec.h"
#include "protocol/submission_json.h"
#include "storage/case_fold.h"

using namespace liandong;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const SigningKey key = generate_signing_key();
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  capnp::MallocMessageBuilder msg;
  auto ev = msg.initRoot<proto::Event>();
  auto s = decode_submission_json(text, ev.initBody().initSubmitted());
  if (!s) {
    if (s.message().empty()) __builtin_trap();
    return 0;
  }
  write_id(ev.initId(), Id{"360723101007", 1});
  write_id(ev.initCase(), Id{"360723101007", 1});
  ev.setHome("360723101007");
  ev.setHlc(uint64_t{1795000000000} << 16);
  ev.initActor().setName("刘建国");
  // Too large or breaking a field rule: refused here, as at the CLI.
  const std::string sealed = seal(msg, key);
  auto view = EventView::parse(sealed);
  if (!view.ok()) {
    if (view.status().message().empty()) __builtin_trap();
    return 0;
  }
  if (!check_signature(*view, key.pub)) __builtin_trap();
  const storage::CaseState st = storage::fold({&*view});
  if (st.status != storage::CaseStatus::submitted) __builtin_trap();
  auto back = storage::decode_state(storage::encode_state(st));
  if (!back.ok() || !(*back == st)) __builtin_trap();
  return 0;
}
