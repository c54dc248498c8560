// The checks `liandong submit` makes of one application before anything is
// stored, as a function that writes nothing, so a ledger of thousands of
// rows (node/ledger_import.h) can be checked row by row and only the good
// rows stored: the applicant's ID number and phone (protocol/resident_id.h),
// the home code, who may register here (storage/authority.h) and the item
// and its materials against the catalog held here (storage/intake.h: a
// missing material recorded MISSING and the application a 补办件, every one
// named at once; a missing 容缺 material recorded LATER).
//
// Thread contract: one SubmissionChecker per command, on one thread; it
// reads the store (catalogs) and never writes.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "protocol/records.capnp.h"
#include "protocol/status.h"
#include "storage/catalog.h"
#include "storage/store.h"

namespace liandong::node {

// Which part of the application a problem is about, so a ledger can name
// the column.
enum class SubmissionPart : uint8_t { whole, item, id_number, phone, materials, home, role };

struct SubmissionProblem {
  SubmissionPart part = SubmissionPart::whole;
  std::string message;  // one line, Chinese first
};

class SubmissionChecker {
 public:
  // `today`: China day of the check (days since 1970-01-01); nullopt when
  // the clock is outside the stamp range (birth dates are then not judged,
  // and the store refuses to stamp anyway). `role`: the actor's role.
  SubmissionChecker(const storage::Store& store, std::optional<int64_t> today, proto::Role role)
      : store_(store), today_(today), role_(role) {}

  // Checks `sub` (for the case home `home`, empty: this node) and completes
  // it as submit does: ID number normalised, catalog version, item name and
  // fee from the catalog, materials marked MISSING (补办件) or LATER
  // (容缺) as storage/intake.h says. nullopt when it may
  // be stored; else the first problem (then `sub` may be half completed).
  std::optional<SubmissionProblem> check(proto::Submitted::Builder sub, const std::string& home);

 private:
  // The catalog for `version` as submit chooses it; read and parsed once
  // per version (the reference lives as long as the checker).
  const Result<std::optional<storage::Catalog>>& catalog(uint32_t version);

  const storage::Store& store_;
  std::optional<int64_t> today_;
  proto::Role role_;
  std::map<uint32_t, Result<std::optional<storage::Catalog>>> catalogs_;
};

}  // namespace liandong::node
