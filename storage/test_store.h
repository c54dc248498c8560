// A fresh store in a temporary directory for storage's unit tests, removed
// with the directory at scope exit.
//
// Thread contract: as Store; the test's thread owns it.
#pragma once

#include <catch2/catch.hpp>
#include <memory>
#include <string>

#include "storage/store.h"
#include "tests/support/temp_dir.h"

namespace liandong::test {

class TempStore {
 public:
  // Creates the store of node `code` in DIR/store; REQUIREs that it opens.
  explicit TempStore(const std::string& code, const std::string& prefix = "liandong-store-test")
      : dir_(prefix) {
    options_.dir = dir_.path() / "store";
    auto created = storage::Store::create(options_, code);
    if (!created.ok()) FAIL(created.status().to_string());
    store_ = std::move(created).value();
  }

  storage::Store& operator*() { return *store_; }
  storage::Store* operator->() { return store_.get(); }
  const storage::StoreOptions& options() const { return options_; }

 private:
  TempDir dir_;
  storage::StoreOptions options_;
  std::unique_ptr<storage::Store> store_;
};

}  // namespace liandong::test
