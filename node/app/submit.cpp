#include "node/app/submit.h"

#include <algorithm>

#include "node/app/materials.h"
#include "node/input_checks.h"
#include "node/render.h"
#include "node/report.h"
#include "protocol/hlc.h"
#include "protocol/resident_id.h"
#include "protocol/submission_json.h"
#include "storage/authority.h"
#include "storage/catalog.h"
#include "storage/intake.h"

namespace liandong::app {

namespace {

// The first segment of an application's message: room for a typical one
// (a ledger keeps a thousand of them alive until its batch is stored); a
// larger one grows into further segments.
constexpr unsigned kFirstSegmentWords = 256;

}  // namespace

CheckedSubmission::CheckedSubmission()
    : message_(std::make_unique<capnp::MallocMessageBuilder>(kFirstSegmentWords)) {
  message_->initRoot<proto::Submitted>();
}

proto::Submitted::Reader CheckedSubmission::submitted() const {
  return message_->getRoot<proto::Submitted>().asReader();
}

proto::Submitted::Builder CheckedSubmission::builder() {
  return message_->getRoot<proto::Submitted>();
}

namespace {

// The materials an application names, as storage/intake.h takes them.
std::vector<storage::GivenMaterial> given_materials(proto::Submitted::Builder sub) {
  std::vector<storage::GivenMaterial> given;
  for (auto m : sub.getMaterials().asReader())
    given.push_back({std::string(m.getName().cStr()), m.getOriginal(), m.getCount(), m.getState()});
  return given;
}

}  // namespace

AppResult<SubmissionChecker> SubmissionChecker::open(const Context& ctx, const Actor& actor,
                                                     const std::string& subject) {
  // Who may register here: the roster first (storage/roster.h).
  auto person = checked_person(ctx, actor, EventKind::submitted, subject);
  if (!person.ok()) {
    AppError e = person.error();
    e.part = RequestPart::role;
    return e;
  }
  return SubmissionChecker(ctx, std::move(person).value());
}

AppResult<CheckedSubmission> SubmissionChecker::check(const SubmitRequest& req) {
  try {
    return checked(req);
  } catch (AppError& e) {
    return std::move(e);
  }
}

const Result<std::optional<storage::Catalog>>& SubmissionChecker::catalog(uint32_t version) {
  if (auto it = catalogs_.find(version); it != catalogs_.end()) return it->second;
  auto held = storage::held_catalog(ctx_.store, version);
  if (!held.ok() && held.status().code() == Code::not_found) {
    // No catalog held at all: the form's version is taken as given.
    auto newest = storage::held_catalog(ctx_.store);
    if (newest.ok() && !*newest) held = std::optional<storage::Catalog>();
  }
  return catalogs_.emplace(version, std::move(held)).first->second;
}

// The rules, in the order a clerk meets them; fails by throwing AppError.
CheckedSubmission SubmissionChecker::checked(const SubmitRequest& a) {
  const Context& ctx = ctx_;
  CheckedSubmission out;
  const Actor& actor = actor_;
  out.actor = actor;
  out.home = a.home;
  auto sub = out.builder();
  if (!a.json_name.empty() || !a.json_text.empty()) {
    if (auto s = decode_submission_json(a.json_text, sub); !s)
      fail(Status::invalid(a.json_name.empty() ? s.message() : a.json_name + ": " + s.message()));
  } else {
    if (a.item.empty() || a.applicant.empty())
      fail(Status::invalid("submit needs --item and --applicant (or --json FILE)"));
    sub.setItemCode(a.item);
    sub.setItemName(a.item_name);
    auto ap = sub.initApplicant();
    ap.setName(a.applicant);
    ap.setIdNumber(a.id_number);
    ap.setPhone(a.phone);
    ap.setAddress(a.address);
    sub.setSummary(a.summary);
    sub.setCatalogVersion(a.catalog_version);
    auto fields = sub.initFields(static_cast<unsigned>(a.fields.size()));
    for (unsigned i = 0; i < a.fields.size(); ++i) {
      const auto eq = a.fields[i].find('=');
      if (eq == std::string::npos || eq == 0)
        fail(Status::invalid("form field '" + a.fields[i] + "' is not NAME=VALUE"));
      fields[i].setKey(a.fields[i].substr(0, eq));
      fields[i].setValue(a.fields[i].substr(eq + 1));
    }
    try {
      fill_materials(sub.initMaterials(static_cast<unsigned>(a.materials.size())), a.materials,
                     proto::MaterialState::PROVIDED);
    } catch (AppError& e) {
      e.part = RequestPart::materials;
      throw;
    }
    if (!a.fee_due.empty()) {
      auto fen = node::parse_yuan(a.fee_due);
      if (!fen) fail(Status::invalid("fee '" + a.fee_due + "' is not an amount in yuan"));
      sub.setFeeDue(*fen);
    }
  }
  // The applicant's ID number and phone (protocol/resident_id.h), checked
  // here where the application is made, never on receipt. A clock outside
  // the stamp range has no "today" to judge a birth date by: the store
  // refuses to stamp the event then, saying why (本机时钟不正确).
  if (const uint64_t wall = ctx.now(); stamp_in_range(wall)) {
    const int64_t today = node::china_day(wall);
    auto ap = sub.getApplicant();
    if (auto s = check_applicant(ap, today); !s) {
      // The ID number is checked first: the part is the phone only when
      // the ID number passes.
      const auto id = ap.getIdNumber();
      const bool id_bad =
          id.size() > 0 && resident_id_problem(std::string_view(id.begin(), id.size()), today);
      fail(s, id_bad ? RequestPart::id_number : RequestPart::phone);
    }
  }
  if (!a.home.empty() && !node::plausible_code(a.home))
    fail(Status::invalid("所属地 '" + a.home + "' 不是行政区划代码 (home '" + a.home +
                         "' is not a division code)"),
         RequestPart::home);
  // Who may register here (storage/authority.h), before anything else.
  {
    storage::ActContext act;
    act.node = ctx.store.code();
    act.role = actor_role(actor, act.node);
    act.kind = EventKind::submitted;
    act.home = a.home;
    if (auto s = storage::may_act(act); !s)
      throw AppError{s, true, RoleRefusal{actor.name, act.role, act.kind, sub.getItemCode().cStr()},
                     RequestPart::role};
  }
  // Checked against the catalog held here (or the version the form names):
  // the item must be in it; a missing material that may follow later is
  // recorded as LATER (容缺); any other is recorded MISSING.
  std::optional<storage::IntakeCheck> check;
  {
    const auto& held = catalog(sub.getCatalogVersion());
    if (!held.ok()) refuse(held.status());
    if (*held) {
      const storage::Catalog& cat = **held;
      const std::string item_code(sub.getItemCode().cStr());
      const storage::CatalogItem* item = cat.find(item_code);
      if (item == nullptr)
        refuse(Status::invalid("事项 '" + item_code + "' 不在事项目录（第 " +
                               std::to_string(cat.version) + " 版）中 (item '" + item_code +
                               "' is not in the service catalog (version " +
                               std::to_string(cat.version) + "))"),
               RequestPart::item);
      sub.setCatalogVersion(cat.version);
      if (sub.getItemName().size() == 0) sub.setItemName(item->name);
      if (sub.getFeeDue() == 0) sub.setFeeDue(item->fee_fen);
      check = storage::check_intake(item, given_materials(sub));
      for (const auto& m : item->materials)
        if (m.original_scan) out.original_scan.push_back(m.name);
    }
  }
  // 补办件, not refusal (storage/intake.h): an application whose required
  // materials are missing is registered, waiting (待补正) for all of them,
  // told at once (一次性告知).
  if (!check) check = storage::check_intake(nullptr, given_materials(sub));
  {
    auto mats = sub.initMaterials(static_cast<unsigned>(check->materials.size()));
    for (unsigned i = 0; i < mats.size(); ++i) {
      mats[i].setName(check->materials[i].name);
      mats[i].setOriginal(check->materials[i].original);
      mats[i].setCount(check->materials[i].count);
      mats[i].setState(check->materials[i].state);
    }
    sub.setSupplementCase(check->supplement_case());
    out.missing = check->missing;
  }
  return out;
}

AppResult<CheckedSubmission> check_submission(const Context& ctx, const SubmitRequest& req) {
  auto checker = SubmissionChecker::open(ctx, req.actor, req.item);
  if (!checker.ok()) return checker.error();
  return checker->check(req);
}

AppResult<SubmitResult> submit(const Context& ctx, const SubmitRequest& req) {
  auto sub = check_submission(ctx, req);
  if (!sub.ok()) return recorded(ctx, sub.error());
  if (!req.files.empty()) {
    std::vector<std::string> materials;
    for (auto m : sub->submitted().getMaterials())
      materials.emplace_back(m.getName().cStr());
    auto b = sub->builder();
    auto attached = attach_files(ctx, req.files, materials, sub->original_scan,
                                 [&](unsigned n) { return b.initAttachments(n); });
    if (!attached.ok()) {
      AppError e = attached.error();
      e.part = RequestPart::materials;
      return e;
    }
  }
  storage::LocalDraft draft;
  draft.home = sub->home;
  const std::string code = ctx.store.code();
  auto reader = sub->submitted();
  draft.fill = [&](proto::Event::Builder ev) {
    fill_actor(ev.initActor(), sub->actor, code);
    ev.getBody().setSubmitted(reader);
  };
  auto stored = ctx.store.append_local(draft, ctx.signer);
  if (!stored.ok()) return AppError{stored.status()};
  return SubmitResult{stored->view.id(), stored->lsn, sub->missing,
                      static_cast<uint32_t>(req.files.size())};
}

}  // namespace liandong::app
