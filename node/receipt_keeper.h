// Receipts (已接收, storage/receipts.h) at the node that receives a case:
// which events of a batch from a peer owe one, and making them once the
// batch is stored. A batch's owed receipts are marked pending
// (receipt_key) in the batch's own transaction, so a crash between storing
// a hand-over and making its receipt loses none: the first batch after a
// start also makes those a stopped run left pending. A receipt already
// held is never made again.
//
// Thread contract: none; owned by the daemon's loop thread (the store's
// single writer).
#pragma once

#include <cstddef>
#include <cstdlib>
#include <string>
#include <vector>

#include "node/identity.h"
#include "protocol/ids.h"
#include "storage/store.h"

namespace liandong::node {

struct OwedReceipt {
  std::size_t index = 0;  // in the batch
  Id handed, case_id;
};

class ReceiptKeeper {
 public:
  // `code`: this node's; receipts are signed with `key`.
  ReceiptKeeper(storage::Store& store, const SigningKey& key, std::string code)
      : store_(store), key_(key), code_(std::move(code)) {}

  // The receipts the (sealed, unverified) `events` of one batch may owe,
  // found before it is stored. The caller marks each pending
  // (receipt_key(handed) -> case id) in the batch's transaction.
  std::vector<OwedReceipt> owed(const std::vector<std::string>& events) const;
  // After the batch is stored with `results`: makes the receipts of the
  // hand-overs stored (or stored before a stop and seen again) and clears
  // their pending marks; the first call after a start also makes those
  // left pending. Failures are logged; a receipt that could not be made
  // stays pending for the next start.
  void record(const std::vector<OwedReceipt>& owed,
              const std::vector<storage::IngestResult>& results);

 private:
  bool held(const Id& case_id, const Id& handed) const;

  storage::Store& store_;
  const SigningKey& key_;
  std::string code_;
  bool swept_ = false;
  // Test-only (LIANDONG_TEST_EXIT_BEFORE_RECEIPTS set): the process exits
  // after storing a batch that owes receipts, before making them, as a
  // crash at that moment would.
  bool exit_before_ = std::getenv("LIANDONG_TEST_EXIT_BEFORE_RECEIPTS") != nullptr;
};

}  // namespace liandong::node
