// Publishing a notice to the county's whole subtree: the working-day
// calendar (工作日历) or the service catalog (事项目录), as `publish
// calendar|catalog` does. Only a county publishes; a catalog's version must
// rise.
//
// Thread contract: as node/app/context.h.
#pragma once

#include <cstdint>
#include <string>

#include "node/app/actor.h"
#include "node/app/context.h"
#include "node/app/result.h"
#include "protocol/ids.h"

namespace liandong::app {

struct PublishRequest {
  std::string what;       // "calendar" or "catalog"
  uint32_t number = 0;    // the calendar's year, the catalog's version
  std::string file_name;  // what to call the document in errors
  std::string document;   // its bytes (TOML)
  Actor actor;
};

struct PublishResult {
  Id event;
  EventKind kind = EventKind::catalog_published;
  uint64_t lsn = 0;
  std::string code;  // the publishing county
};

// The document must be what it claims, with the number it claims (bad
// input); the node must be a county and the actor's role act there, and a
// catalog's version be higher than any this county published (refusals).
AppResult<PublishResult> publish(const Context& ctx, const PublishRequest& req);

}  // namespace liandong::app
