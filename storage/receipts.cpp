#include "storage/receipts.h"

#include "protocol/ids.h"

namespace liandong::storage {

std::optional<Id> receipt_owed(std::string_view node, const EventView& ev) {
  const auto text = [](capnp::Text::Reader t) { return std::string_view(t.begin(), t.size()); };
  if (ev.id().origin == node) return std::nullopt;
  switch (ev.kind()) {
    case EventKind::escalated:
      if (text(ev.event().getBody().getEscalated().getTo()) == node) return ev.id();
      return std::nullopt;
    case EventKind::decided:
    case EventKind::replied:
      // At the case's home, and at a level between it and the decider
      // (the township a county decision passes through).
      if (within(text(ev.event().getHome()), node) && !within(ev.id().origin, node)) return ev.id();
      return std::nullopt;
    default:
      return std::nullopt;
  }
}

}  // namespace liandong::storage
