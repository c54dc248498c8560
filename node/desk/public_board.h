// The list behind the public page (办事结果公开, GET /api/public): the
// node's decided cases as node/app/public_results.h makes them, newest
// first, kept between requests. Anyone may ask for the public page, so a
// request never walks the store itself: the list is made again only when
// the store has changed and the last one is at least kRefreshMs old, and
// one request at a time makes it.
//
// Thread contract: any of the HTTP server's threads; rows() serialises the
// rebuilds and hands out an immutable list.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "node/app/public_results.h"
#include "protocol/status.h"
#include "storage/store.h"

namespace liandong::desk {

class PublicBoard {
 public:
  // The list is at most this old while the store changes.
  static constexpr uint64_t kRefreshMs = 5000;

  PublicBoard();

  struct Rows {
    std::vector<app::PublicCase> cases;  // newest first
    uint64_t made_ms = 0;                // when the list was made
  };
  // The list as of at most kRefreshMs ago (`now_ms`: the caller's clock).
  Result<std::shared_ptr<const Rows>> rows(const storage::Store& store, uint64_t now_ms);

 private:
  std::string key_;  // keys the rows' tags; random, made at start-up
  std::mutex mu_;
  std::shared_ptr<const Rows> rows_;
  uint64_t lsn_ = 0;
};

}  // namespace liandong::desk
