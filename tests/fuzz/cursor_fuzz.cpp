// Fuzz target: stored forms read back from disk — a sync cursor
// (sync::decode_cursor) and a folded case state (storage::decode_state) —
// each of which must also survive being written again and re-read.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "protocol/sync_codec.h"
#include "storage/case_fold.h"

using namespace liandong;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  if (auto c = sync::decode_cursor(bytes); c.ok()) {
    auto again = sync::decode_cursor(sync::encode_cursor(*c));
    if (!again.ok() || !(*again == *c)) __builtin_trap();
  }
  if (auto st = storage::decode_state(bytes); st.ok()) {
    auto again = storage::decode_state(storage::encode_state(*st));
    if (!again.ok() || !(*again == *st)) __builtin_trap();
    (void)storage::status_name(st->status);
    (void)storage::status_name_zh(st->prior);
  }
  return 0;
}
