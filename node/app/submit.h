// Registering an application (申请登记): the rules an application meets
// before it is stored, and storing it.
//
// check_submission validates and completes a submission without writing
// anything: the applicant's ID number and phone, who may register here
// (role, level, roster), the item in the catalog held here, the catalog
// version, the item's name and fee due from the catalog, each required
// material provided or recorded as 容缺 (LATER) where the catalog allows.
// submit() checks the same way, then stores the application as a
// `submitted` event through the store's writer. SubmissionChecker applies
// the same rules to many applications of one person (a paper ledger,
// node/app/import.h), reading the roster and the catalogs once.
//
// Thread contract: as node/app/context.h.
#pragma once

#include <capnp/message.h>

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "node/app/actor.h"
#include "node/app/attachments.h"
#include "node/app/context.h"
#include "node/app/result.h"
#include "protocol/ids.h"
#include "protocol/records.capnp.h"
#include "storage/catalog.h"

namespace liandong::app {

// One application, as a person or a ledger gives it: either as JSON
// (protocol/submission_json.h) in `json_text`, or field by field.
struct SubmitRequest {
  // The application as JSON, and what to call it in errors (a file name).
  // Both empty: the application is the fields below.
  std::string json_text, json_name;
  std::string item, item_name, applicant, id_number, phone, address, summary;
  std::string fee_due;  // in yuan, "200" or "200.50"; empty: the catalog's
  // Form fields NAME=VALUE; materials NAME[:provided|missing|later[:original|copy]].
  std::vector<std::string> fields, materials;
  uint32_t catalog_version = 0;  // 0: the newest held
  std::string home;              // home code of the case (empty: this node)
  Actor actor;
  // Photos and scans of the materials (node/app/attachments.h): each names
  // one of the application's materials. Checked and reduced after the
  // application passes its checks, stored before the application is.
  std::vector<GivenFile> files{};
};

// A checked, completed application, ready to store.
class CheckedSubmission {
 public:
  CheckedSubmission();
  proto::Submitted::Reader submitted() const;
  proto::Submitted::Builder builder();
  Actor actor;       // with the role the roster gives, if one is held
  std::string home;  // home code (empty: this node)
  // 补办件 (storage/intake.h): registered with required materials missing,
  // every one of them named here at once (一次性告知).
  std::vector<std::string> missing;
  bool supplement_case() const { return !missing.empty(); }
  // The materials whose attached scan is kept as taken (the catalog's
  // original_scan).
  std::vector<std::string> original_scan;

 private:
  std::unique_ptr<capnp::MallocMessageBuilder> message_;
};

// Checks and completes `req` against the store's catalog and roster and the
// context's clock. Writes nothing (a role refusal comes back with its
// RoleRefusal, for the caller to record). An error names the part of the
// application it is about (AppError::part).
AppResult<CheckedSubmission> check_submission(const Context& ctx, const SubmitRequest& req);

// check_submission for many applications made by one person: the person is
// checked against the roster once (open), each catalog version is read and
// parsed once, and every application meets the same rules in the same
// order as check_submission's. Writes nothing.
//
// Thread contract: one per command, on the thread of its context; the
// context (its store) outlives it.
class SubmissionChecker {
 public:
  // The person checked against the roster held here (checked_person): a
  // refusal carries its RoleRefusal about `subject` (part `role`), for the
  // caller to record.
  static AppResult<SubmissionChecker> open(const Context& ctx, const Actor& actor,
                                           const std::string& subject);

  // check_submission(ctx, req), by the person opened with (`req.actor` is
  // not looked at).
  AppResult<CheckedSubmission> check(const SubmitRequest& req);

  // The person, with the role the roster gives, if one is held.
  const Actor& actor() const { return actor_; }

 private:
  SubmissionChecker(const Context& ctx, Actor actor) : ctx_(ctx), actor_(std::move(actor)) {}
  CheckedSubmission checked(const SubmitRequest& req);
  // The catalog an application naming `version` (0: none) is checked
  // against, as submit chooses it: exactly that version when one is named
  // (not_found if it is not held), else the newest held; nullopt when no
  // catalog is held at all (the form's version is then taken as given).
  const Result<std::optional<storage::Catalog>>& catalog(uint32_t version);

  Context ctx_;
  Actor actor_;
  std::map<uint32_t, Result<std::optional<storage::Catalog>>> catalogs_;
};

struct SubmitResult {
  Id case_id;  // the new case's number (办件编号)
  uint64_t lsn = 0;
  std::vector<std::string> missing;  // a 补办件's missing materials (一次性告知)
  bool supplement_case() const { return !missing.empty(); }
  uint32_t files = 0;  // files attached
};

// check_submission, then stores the application. A role refusal is
// recorded in the audit log.
AppResult<SubmitResult> submit(const Context& ctx, const SubmitRequest& req);

}  // namespace liandong::app
