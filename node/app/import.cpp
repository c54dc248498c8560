#include "node/app/import.h"

#include <map>

#include "node/app/submit.h"
#include "protocol/ids.h"
#include "storage/store.h"

namespace liandong::app {

namespace {

// What the audit log calls an import's actions.
constexpr const char* kImportSubject = "import";

}  // namespace

AppResult<std::vector<RowOutcome>> import_rows(const Context& ctx, const Actor& actor,
                                               const std::vector<ImportRow>& rows) {
  const std::string& code = ctx.store.code();
  // The person, once for the batch: a role that does not act at this level
  // (storage/authority.h, rule 2), then the roster.
  if (auto level = check_level(actor, code); !level.ok()) {
    AppError e = level.error();
    e.part = RequestPart::role;
    if (e.refused)
      e.role_refusal =
          RoleRefusal{actor.name, actor_role(actor, code), EventKind::submitted, kImportSubject};
    return recorded(ctx, std::move(e));
  }
  auto checker = SubmissionChecker::open(ctx, actor, kImportSubject);
  if (!checker.ok()) return recorded(ctx, checker.error());

  std::vector<RowOutcome> out(rows.size());
  std::vector<std::string> keys;
  keys.reserve(rows.size());
  for (const auto& r : rows)
    keys.push_back(r.key);
  auto had = ctx.store.imported(keys);
  if (!had.ok()) return AppError{had.status()};

  std::vector<CheckedSubmission> checked;
  std::vector<storage::LocalDraft> drafts;
  std::vector<std::size_t> draft_row;
  checked.reserve(rows.size());
  drafts.reserve(rows.size());
  // Rows refused by the role rules, by reason: one audit note each.
  std::map<std::string, RoleRefusal> role_refused;
  SubmitRequest req;
  for (std::size_t i = 0; i < rows.size(); ++i) {
    out[i].line = rows[i].line;
    if ((*had)[i]) {
      out[i].kind = RowOutcome::duplicate;
      out[i].case_number = *(*had)[i];
      continue;
    }
    req.json_text = rows[i].json;
    req.home = rows[i].home;
    auto sub = checker->check(req);
    if (!sub.ok()) {
      const AppError& e = sub.error();
      out[i].part = e.part;
      out[i].error = e.status;
      if (e.role_refusal) {
        auto [it, fresh] = role_refused.try_emplace(e.status.message(), *e.role_refusal);
        it->second.subject = kImportSubject;
        if (!fresh) ++it->second.count;
      }
      continue;
    }
    checked.push_back(std::move(sub).value());
    draft_row.push_back(i);
  }
  for (const auto& [why, refusal] : role_refused)
    record_role_refusal(ctx, refusal, Status::invalid(why));
  if (checked.empty()) return out;

  const Actor& person = checker->actor();
  for (std::size_t k = 0; k < checked.size(); ++k) {
    storage::LocalDraft d;
    d.home = rows[draft_row[k]].home;
    d.import_key = rows[draft_row[k]].key;
    d.fill = [reader = checked[k].submitted(), &person, &code](proto::Event::Builder ev) {
      fill_actor(ev.initActor(), person, code);
      ev.getBody().setSubmitted(reader);
    };
    drafts.push_back(std::move(d));
  }
  auto stored = ctx.store.append_local(drafts, ctx.signer);
  for (std::size_t k = 0; k < stored.size(); ++k) {
    RowOutcome& o = out[draft_row[k]];
    if (stored[k].ok()) {
      o.kind = RowOutcome::stored;
      o.case_number = format_id(stored[k]->view.id());
    } else if (stored[k].status().code() == Code::invalid) {
      o.error = stored[k].status();
    } else {
      // The store itself failed (full disk, ...): nothing of the batch is stored.
      return AppError{stored[k].status()};
    }
  }
  return out;
}

}  // namespace liandong::app
