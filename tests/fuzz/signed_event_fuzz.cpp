// Fuzz target: one sealed event as it arrives from a peer or is read back
// from the log. EventView::parse; on success every getter validate_event
// reaches and the node reads (with the attachment refs of submitted,
// supplemented and decided, checked as the transfers rely on them), the
// sender's light route_info read, the case fold over a one-event set, and
// the fold's stored form read back.
#include <kj/exception.h>

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "protocol/event_codec.h"
#include "protocol/sync_codec.h"
#include "storage/case_fold.h"
#include "tests/fuzz/fuzz_walk.h"

using namespace liandong;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  fuzz::Sink s;
  // The sender reads its own log this way, without a full parse.
  auto info = sync::route_info(bytes);
  if (info.ok()) s.bytes += info->home.size() + info->id.origin.size();

  auto view = EventView::parse(bytes);
  if (!view.ok()) return 0;
  // A parsed view is valid by contract: nothing below may throw.
  if (!validate_event(view->event())) __builtin_trap();
  auto again = sync::route_info(view->sealed());
  if (!again.ok() || again->id != view->id()) __builtin_trap();
  fuzz::walk_view(s, *view);
  // What node/transfers.h relies on when it pulls a parsed event's files.
  for (auto a : attachments_of(view->event())) {
    if (a.getSha256().size() != 32 || a.getSize() == 0 || a.getSize() > kMaxAttachmentBytes ||
        a.getChunks().size() != chunk_count(a.getSize()))
      __builtin_trap();
    for (auto c : a.getChunks())
      if (c.size() != 32) __builtin_trap();
  }

  s.num(storage::check(nullptr, *view).is_ok());
  const storage::CaseState state = storage::fold({&*view});
  const auto key = storage::order_key(*view);
  s.num(key.hlc);
  s.num(static_cast<uint64_t>(state.status));
  s.bytes += std::string_view(storage::status_name(state.status)).size();
  s.bytes += std::string_view(storage::status_name_zh(state.status)).size();
  s.num(storage::check(&state, *view).is_ok());
  // The `cases` cache must give back exactly the state it was given.
  auto decoded = storage::decode_state(storage::encode_state(state));
  if (!decoded.ok() || !(*decoded == state)) __builtin_trap();
  return 0;
}
