// The document in force among those a county published (事项目录, 人员名册,
// 行政区划表): the newest version from this node's own county that parses.
// One walk for catalog.cpp, roster.cpp and divisions.cpp.
//
// Thread contract: reads the store (one short read transaction per call);
// call from any thread that may read it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>

#include "protocol/status.h"
#include "storage/store.h"

namespace liandong::storage {

// Walks the notices of `kind` from the newest version down, keeping only
// those issued by this node's county (the first six digits of its code; any
// issuer when the node stands above a county), and returns the first that
// `parse(document, "WHAT vN")` accepts, with its version set to the event's.
// With `version` != 0 only that version counts: its parse error is
// returned, and not_found ("WHAT version N is not held here") when it is not
// held. nullopt when none is held. A read error of the store is returned as
// it is.
template <typename Doc, typename Parse>
Result<std::optional<Doc>> held_document(const Store& store, EventKind kind,
                                         const std::string& what, Parse parse,
                                         uint32_t version = 0) {
  auto notices = store.notices(kind);
  if (!notices.ok()) return notices.status();
  const std::string& code = store.code();
  const std::string county = code.size() >= 6 ? code.substr(0, 6) : std::string();
  // Notices come in (version, seq) order: walk from the newest.
  for (auto it = notices->rbegin(); it != notices->rend(); ++it) {
    if (!county.empty() && it->origin != county) continue;
    if (version != 0 && it->number != version) continue;
    Result<Doc> doc = parse(it->document, what + " v" + std::to_string(it->number));
    if (!doc.ok()) {
      if (version != 0) return doc.status();
      continue;
    }
    // The event's version is the one that counts.
    doc->version = static_cast<uint32_t>(it->number);
    return std::optional<Doc>(std::move(doc).value());
  }
  if (version != 0)
    return Status::not_found(what + " version " + std::to_string(version) + " is not held here");
  return std::optional<Doc>();
}

}  // namespace liandong::storage
