// What the public routes show (办事结果公开, GET /api/public and
// /api/public/items): the node's decided cases as node/app/public_results.h
// makes them, newest first, with the node's name and the held catalog, kept
// between requests. Anyone may ask for the public page, so a request never
// reads or parses the store itself: all of it is made again only when
// the store has changed and the last one is at least kRefreshMs old, and
// one request at a time makes it.
//
// Thread contract: any of the HTTP server's threads; rows() serialises the
// rebuilds and hands out an immutable list.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "node/app/public_results.h"
#include "protocol/status.h"
#include "storage/catalog.h"
#include "storage/store.h"

namespace liandong::desk {

class PublicBoard {
 public:
  // The list is at most this old while the store changes.
  static constexpr uint64_t kRefreshMs = 5000;

  PublicBoard();

  // What the public routes show, made at once from one state of the store.
  struct Rows {
    std::vector<app::PublicCase> cases;       // newest first
    std::string node_name;                    // this node's place name
    std::optional<storage::Catalog> catalog;  // the held catalog, if any
    uint64_t made_ms = 0;                     // when the list was made
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
