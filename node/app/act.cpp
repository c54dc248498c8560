#include "node/app/act.h"

#include <capnp/message.h>

#include <algorithm>

#include "node/app/materials.h"
#include "node/input_checks.h"
#include "node/render.h"
#include "node/report.h"
#include "storage/authority.h"
#include "storage/calendar.h"
#include "storage/catalog.h"
#include "storage/due_date.h"
#include "storage/fees.h"
#include "storage/intake.h"
#include "storage/supervision.h"

namespace liandong::app {

const std::vector<ActionName>& action_names() {
  static const std::vector<ActionName> kinds = {
      {"accept", EventKind::accepted},
      {"request-supplement", EventKind::supplement_requested},
      {"supplement", EventKind::supplemented},
      {"escalate", EventKind::escalated},
      {"assign", EventKind::assigned},
      {"opinion", EventKind::opinion},
      {"decide", EventKind::decided},
      {"reply", EventKind::replied},
      {"deliver", EventKind::delivered},
      {"rate", EventKind::rated},
      {"collect-fee", EventKind::fee_collected},
      {"close", EventKind::closed},
      {"withdraw", EventKind::withdrawn},
      {"not-accept", EventKind::not_accepted},
      {"comment", EventKind::comment},
      {"complain", EventKind::complaint},
      {"supervise", EventKind::supervised},
      {"answer", EventKind::answered},
  };
  return kinds;
}

std::optional<EventKind> action_kind(const std::string& name) {
  for (const auto& a : action_names()) {
    if (name == a.name) return a.kind;
  }
  return std::nullopt;
}

std::vector<std::string> original_scan_materials(const storage::Store& store,
                                                 const storage::CaseState& st) {
  uint32_t version = 0;
  auto events = store.case_events(st.case_id);
  if (events.ok()) {
    for (const auto& e : *events) {
      if (e.view.kind() == EventKind::submitted)
        version = e.view.event().getBody().getSubmitted().getCatalogVersion();
    }
  }
  auto held = storage::held_catalog(store, version);
  if (!held.ok() || !*held) held = storage::held_catalog(store);
  std::vector<std::string> out;
  if (!held.ok() || !*held) return out;
  if (const storage::CatalogItem* item = (*held)->find(st.item_code)) {
    for (const auto& m : item->materials)
      if (m.original_scan) out.push_back(m.name);
  }
  return out;
}

std::optional<storage::ItemRules> case_item_rules(const storage::Store& store,
                                                  const storage::CaseState& st) {
  uint32_t version = 0;
  auto events = store.case_events(st.case_id);
  if (events.ok()) {
    for (const auto& e : *events) {
      if (e.view.kind() == EventKind::submitted)
        version = e.view.event().getBody().getSubmitted().getCatalogVersion();
    }
  }
  auto held = storage::held_catalog(store, version);
  if (!held.ok() && version != 0) held = storage::held_catalog(store);
  if (!held.ok() || !*held) return std::nullopt;
  return storage::item_rules(**held, st.item_code);
}

namespace {

Id parse_case_id(const std::string& text) {
  auto id = parse_id(text);
  if (!id)
    fail(Status::invalid("'" + text +
                         "' 不是办件编号，应形如 360723101007-000042 (not a case number)"));
  return *id;
}

bool yes_no(const ActRequest& a, const char* what) {
  if (a.approve == a.reject)
    fail(Status::invalid(std::string(what) + " needs exactly one of --approve or --reject"));
  return a.approve;
}

// Builds the body for `action`; throws AppError on bad arguments.
// The promised date (承诺办结日期) of a case accepted now: the limits of its
// item in the catalog version it was submitted with, counted in the held
// working-day calendar (storage/due_date.h).
storage::DuePromise accept_promise(const Context& c, const storage::CaseState& st,
                                   const ActRequest& a) {
  auto events = c.store.case_events(st.case_id);
  if (!events.ok()) fail(events.status());
  storage::CatalogCache catalogs(c.store);
  auto catalog = catalogs.get(storage::submitted_catalog_version(*events));
  if (!catalog.ok()) fail(catalog.status());
  std::optional<uint32_t> days;
  if (*catalog != nullptr) {
    if (const auto* item = (*catalog)->find(st.item_code))
      days = storage::promised_days(*item, st.home);
  }
  auto calendar = storage::held_calendar(c.store);
  if (!calendar.ok()) fail(calendar.status());
  auto promise =
      storage::promise_due(storage::china_date(c.now()), days, a.due, a.extend_reason, *calendar);
  if (!promise.ok()) fail(promise.status());
  return std::move(promise).value();
}

void fill_body(const std::string& action, const ActRequest& a, const std::string& node_code,
               const storage::CaseState& st, const storage::DuePromise* promise,
               proto::Event::Body::Builder b) {
  if (action == "accept") {
    auto x = b.initAccepted();
    if (promise != nullptr) {
      x.setDueDate(promise->due);
      x.setLimitDate(promise->limit);
      x.setLimitDays(promise->limit_days);
      x.setExtendReason(promise->extend_reason);
    }
    x.setNote(a.note);
  } else if (action == "request-supplement") {
    if (a.missing.empty())
      fail(Status::invalid("request-supplement needs --missing (all of them at once)"));
    auto x = b.initSupplementRequested();
    fill_materials(x.initMissing(static_cast<unsigned>(a.missing.size())), a.missing,
                   proto::MaterialState::MISSING);
    x.setNote(a.note);
  } else if (action == "supplement") {
    if (a.provided.empty()) fail(Status::invalid("supplement needs --provided"));
    auto x = b.initSupplemented();
    fill_materials(x.initProvided(static_cast<unsigned>(a.provided.size())), a.provided,
                   proto::MaterialState::PROVIDED);
    x.setNote(a.note);
  } else if (action == "escalate") {
    std::string to = a.to.empty() ? parent_code(st.handler.empty() ? node_code : st.handler) : a.to;
    if (!node::plausible_code(to))
      fail(Status::invalid("escalate: '" + to + "' is not a division code"));
    auto x = b.initEscalated();
    x.setTo(to);
    x.setNote(a.note);
  } else if (action == "assign") {
    if (a.departments.empty()) fail(Status::invalid("assign needs --dept (one or more)"));
    auto x = b.initAssigned();
    auto d = x.initDepartments(static_cast<unsigned>(a.departments.size()));
    for (unsigned i = 0; i < a.departments.size(); ++i)
      d.set(i, a.departments[i]);
    x.setNote(a.note);
  } else if (action == "opinion") {
    if (a.department.empty()) fail(Status::invalid("opinion needs --dept"));
    auto x = b.initOpinion();
    x.setDepartment(a.department);
    x.setApprove(yes_no(a, "opinion"));
    x.setText(a.text);
  } else if (action == "decide") {
    auto x = b.initDecided();
    x.setApproved(yes_no(a, "decide"));
    if (!a.approve && a.reason.empty())
      fail(Status::invalid("a refusal needs --reason (and --basis, the legal basis)"));
    x.setReason(a.reason);
    x.setLegalBasis(a.basis);
    x.setCertificateNo(a.certificate);
  } else if (action == "reply") {
    if (a.text.empty()) fail(Status::invalid("reply needs --text"));
    b.initReplied().setText(a.text);
  } else if (action == "deliver") {
    auto x = b.initDelivered();
    x.setMethod(a.method);
    x.setNote(a.note);
  } else if (action == "rate") {
    if (a.score < 1 || a.score > 5) fail(Status::invalid("rate needs --score from 1 to 5"));
    if (a.score <= storage::kPoorRating && a.reasons.empty())
      fail(Status::invalid("评价为不满意或非常不满意时须选择原因 (--reason-item)"));
    if (!a.channel.empty() && a.channel != "evaluator" && a.channel != "agent")
      fail(Status::invalid("rate: --channel is evaluator (评价器) or agent"));
    auto x = b.initRated();
    x.setScore(static_cast<uint8_t>(a.score));
    x.setComment(a.comment);
    x.setChannel(a.channel);
    auto r = x.initReasons(static_cast<unsigned>(a.reasons.size()));
    for (unsigned i = 0; i < r.size(); ++i)
      r.set(i, a.reasons[i]);
  } else if (action == "collect-fee") {
    auto fen = node::parse_yuan(a.amount);
    if (!fen || *fen <= 0) fail(Status::invalid("collect-fee needs --amount in yuan, e.g. 200.00"));
    if (a.receipt.empty())
      fail(Status::invalid("collect-fee needs --receipt (the receipt number)"));
    auto x = b.initFeeCollected();
    x.setAmount(*fen);
    x.setReceiptNo(a.receipt);
    x.setReason(a.reason);
  } else if (action == "close") {
    b.initClosed().setNote(a.note);
  } else if (action == "withdraw") {
    b.initWithdrawn().setReason(a.reason);
  } else if (action == "not-accept") {
    if (a.reason.empty())
      fail(Status::invalid(
          "不予受理须写明理由 --reason（及法律依据 --basis） (not-accept needs --reason)"));
    auto x = b.initNotAccepted();
    x.setReason(a.reason);
    x.setLegalBasis(a.basis);
  } else if (action == "comment") {
    if (a.text.empty()) fail(Status::invalid("comment needs --text"));
    b.initComment().setText(a.text);
  } else if (action == "complain") {
    if (a.text.empty()) fail(Status::invalid("complain needs --text"));
    if (!a.against.empty() && !node::plausible_code(a.against))
      fail(Status::invalid("complain: --against '" + a.against + "' is not a division code"));
    auto x = b.initComplaint();
    x.setText(a.text);
    x.setAgainst(a.against.empty() ? storage::holding_level(st) : a.against);
    x.setDepartment(a.department);
    x.setPerson(a.person);
    x.setChannel(a.channel);
    x.setComplainant(a.complainant);
    x.setPhone(a.phone);
    x.setDueDate(a.due);
  } else if (action == "supervise") {
    if (a.note.empty()) fail(Status::invalid("督办须写明督办事项 --note (supervise needs --note)"));
    if (!storage::parse_date(a.due))
      fail(Status::invalid("督办须给出办结时限 --due YYYY-MM-DD (supervise needs --due)"));
    auto x = b.initSupervised();
    x.setNote(a.note);
    x.setDueDate(a.due);
    x.setHolder(storage::holding_level(st));
  } else if (action == "answer") {
    if (a.text.empty()) fail(Status::invalid("答复须写明办理情况 --text (answer needs --text)"));
    auto to = storage::answer_to_from_name(a.answer_to.empty() ? "order" : a.answer_to);
    if (!to)
      fail(
          Status::invalid("answer: --to is order (督办), complaint (效能投诉), rectification "
                          "(整改) or revisit (回访)"));
    auto about = parse_id(a.about);
    if (!about)
      fail(
          Status::invalid("answer: --about names the order, complaint or rating answered, e.g. "
                          "360723-000042"));
    if (*to == proto::AnswerTo::REVISIT && (a.score < 0 || a.score > 5))
      fail(Status::invalid("回访满意度为 1 到 5，未联系上为 0 (revisit --score 0..5)"));
    auto x = b.initAnswered();
    write_id(x.initAbout(), *about);
    x.setTo(*to);
    x.setText(a.text);
    x.setUpheld(a.upheld);
    if (*to == proto::AnswerTo::REVISIT) x.setScore(static_cast<uint8_t>(a.score));
  } else {
    fail(Status::invalid("unknown action '" + action + "'"));
  }
}

// Supervision (storage/supervision.h): fills in the defaults of a
// complaint (its handling time) and a revisit (the decision it follows),
// and refuses an order dated in the past or an answer this level does not
// give, or gives twice.
void check_supervision(const Context& c, const storage::CaseState& st, ActRequest& a) {
  if (a.action != "complain" && a.action != "supervise" && a.action != "answer") return;
  auto calendar = storage::held_calendar(c.store);
  if (!calendar.ok()) fail(calendar.status());
  const storage::Date today = storage::china_date(c.now());
  if (a.action == "complain") {
    if (a.due.empty())
      a.due = storage::format_date(calendar->add_working_days(today, storage::kComplaintDays));
    else if (!storage::parse_date(a.due))
      fail(Status::invalid("complain: --due is YYYY-MM-DD"));
    return;
  }
  if (a.action == "supervise") {
    auto due = storage::parse_date(a.due);
    if (due && *due < today)
      fail(Status::invalid("督办时限 " + a.due + " 早于今天，请重新选择 (the deadline is past)"));
    return;
  }
  auto events = c.store.case_events(st.case_id);
  if (!events.ok()) fail(events.status());
  const std::string code = c.store.code();
  const auto to = storage::answer_to_from_name(a.answer_to.empty() ? "order" : a.answer_to);
  if (!to) return;  // fill_body says why
  if (*to == proto::AnswerTo::REVISIT) {
    if (code.size() > 6)
      refuse(Status::invalid("回访由县级服务中心进行 (a revisit is made at the county)"));
    if (!st.has_decision)
      refuse(Status::invalid("办件尚未办结，不能回访 (the case is not decided)"));
    if (storage::case_revisit(*events))
      refuse(Status::invalid("本件已登记回访结果 (the case has been revisited)"));
    if (a.about.empty()) {
      for (const auto& e : *events) {
        if (e.view.kind() == EventKind::decided || e.view.kind() == EventKind::replied)
          a.about = format_id(e.view.id());
      }
    }
    return;
  }
  const auto items = storage::supervision_items(st, *events, *calendar);
  const storage::SupervisionItem* item = nullptr;
  for (const auto& it : items) {
    if (it.kind != *to) continue;
    // Not named: the oldest open one this level answers.
    if (a.about.empty() ? !it.answered && it.level == code : format_id(it.event) == a.about) {
      item = &it;
      if (a.about.empty()) a.about = format_id(it.event);
      break;
    }
  }
  // None here: an open one elsewhere, to say who answers it.
  for (const auto& it : items) {
    if (item == nullptr && a.about.empty() && it.kind == *to && !it.answered) item = &it;
  }
  const std::string what = storage::answer_to_name_zh(*to);
  if (item == nullptr)
    refuse(Status::invalid("本件没有待答复的" + what +
                           (a.about.empty() ? std::string() : " " + a.about) +
                           " (nothing to answer)"));
  if (item->answered)
    refuse(Status::invalid(what + " " + format_id(item->event) + " 已于 " +
                           storage::format_date(storage::date_from_days(item->answered_day)) +
                           " 答复 (already answered)"));
  if (item->level != code) {
    const auto places = node::places_here(c.store);
    refuse(Status::invalid(what + "由" + node::place_zh(places ? &*places : nullptr, item->level) +
                           "答复，本节点不能答复 (answered at " + item->level + ")"));
  }
}

ActResult acted(const Context& c, const ActRequest& given) {
  ActRequest a = given;
  const std::string& action = a.action;
  const auto kind = action_kind(action);
  if (!kind) fail(Status::invalid("unknown action '" + action + "'"));
  auto person = checked_person(c, a.actor, *kind, a.case_id);
  if (!person.ok()) throw person.error();
  const Actor actor = std::move(person).value();
  const Id id = parse_case_id(a.case_id);
  auto st = c.store.get_case(id);
  if (!st.ok()) fail(st.status());
  if (!*st)
    fail(Status::not_found("本机没有办件 " + a.case_id + " (no case " + a.case_id + " here)"));
  const std::string code = c.store.code();
  check_supervision(c, **st, a);
  // Build the body once up front so argument errors surface before writing.
  capnp::MallocMessageBuilder scratch;
  auto probe = scratch.initRoot<proto::Event>();
  std::optional<storage::DuePromise> promise;
  if (action == "accept") promise = accept_promise(c, **st, a);
  const storage::DuePromise* promised = promise ? &*promise : nullptr;
  fill_body(action, a, code, **st, promised, probe.getBody());
  // Whether this node and role may take the action (storage/authority.h).
  {
    storage::ActContext ctx;
    ctx.node = code;
    ctx.role = actor_role(actor, code);
    ctx.kind = *kind;
    ctx.state = &**st;
    const auto places = node::places_here(c.store);
    ctx.places = places ? &*places : nullptr;
    if (ctx.kind == EventKind::decided || ctx.kind == EventKind::replied)
      ctx.item = case_item_rules(c.store, **st);
    if (auto s = storage::may_act(ctx); !s)
      throw AppError{s, true, RoleRefusal{actor.name, ctx.role, ctx.kind, a.case_id}};
  }
  // A 容缺 material still outstanding blocks 办结 (storage/intake.h).
  if (auto s = storage::may_complete(**st, *kind, a.approve); !s) refuse(s);
  // The amount collected is what the case owes (its fee due, else the
  // catalog's fee for the item) unless a reason is given (storage/fees.h).
  if (action == "collect-fee") {
    int64_t due = (*st)->fee_due;
    if (due == 0) {
      if (auto rules = case_item_rules(c.store, **st)) due = rules->fee_fen;
    }
    auto fee = probe.getBody().getFeeCollected().asReader();
    if (auto why =
            storage::fee_amount_problem(fee.getAmount(), due, (*st)->fee_collected, a.reason))
      fail(Status::invalid(*why));
  }
  // Files: stored before the event that names them (node/app/attachments.h).
  capnp::MallocMessageBuilder files_message;
  std::optional<capnp::List<proto::AttachmentRef>::Reader> refs;
  if (!a.files.empty()) {
    if (action != "supplement" && action != "decide")
      fail(Status::invalid("只有补正材料（supplement）和办结（decide）可以附文件"),
           RequestPart::materials);
    std::vector<std::string> materials;
    if (action == "supplement") {
      for (const auto& m : (*st)->materials)
        materials.push_back(m.name);
    }
    auto holder = files_message.initRoot<proto::Supplemented>();
    auto attached = attach_files(c, a.files, materials, original_scan_materials(c.store, **st),
                                 [&](unsigned n) { return holder.initAttachments(n); });
    if (!attached.ok()) {
      AppError e = attached.error();
      e.part = RequestPart::materials;
      throw e;
    }
    refs = holder.asReader().getAttachments();
  }
  storage::LocalDraft draft;
  draft.case_id = id;
  const auto conflicts = (*st)->conflicts;
  draft.fill = [&](proto::Event::Builder ev) {
    fill_actor(ev.initActor(), actor, code);
    if (a.settle) {
      auto s = ev.initSettles(static_cast<unsigned>(conflicts.size()));
      for (unsigned i = 0; i < s.size(); ++i)
        write_id(s[i], conflicts[i]);
    }
    fill_body(action, a, code, **st, promised, ev.getBody());
    if (refs) {
      auto body = ev.getBody();
      if (action == "supplement")
        body.getSupplemented().setAttachments(*refs);
      else
        body.getDecided().setAttachments(*refs);
    }
  };
  auto stored = c.store.append_local(draft, c.signer);
  if (!stored.ok()) refuse(stored.status());
  auto after = c.store.get_case(id);
  if (!after.ok() || !*after) fail(Status::internal("case vanished after an action"));
  return ActResult{stored->view.id(), stored->view.kind(), a.case_id, std::move(**after),
                   stored->lsn};
}

}  // namespace

namespace {

// Typical arguments of `action` on `st`, for a probe (open_actions).
ActRequest probe_request(const std::string& action, const storage::CaseState& st) {
  ActRequest a;
  a.action = action;
  a.approve = true;
  a.text = a.reason = a.receipt = a.note = "-";
  a.method = "当面送达";
  a.due = "2999-12-31";
  a.reasons = {"-"};
  a.about = format_id(st.case_id);  // any well-formed id: the probe does not look it up
  a.amount = "1";
  a.score = 5;
  a.departments = {"-"};
  std::string first_material = st.materials.empty() ? "-" : st.materials.front().name;
  a.missing = {first_material};
  a.provided = {first_material};
  for (const auto& m : st.materials) {
    if (m.state != proto::MaterialState::PROVIDED) {
      a.provided = {m.name};
      break;
    }
  }
  for (const auto& d : st.departments) {
    const bool given = std::any_of(st.opinions.begin(), st.opinions.end(),
                                   [&](const auto& o) { return o.department == d; });
    if (!given) {
      a.department = d;
      break;
    }
  }
  return a;
}

}  // namespace

// Whether this node has something of the case's supervision to answer:
// an open order, complaint or follow-up at this level, or (at the county)
// a revisit of a decided case not yet made.
bool answerable(const Context& ctx, const storage::CaseState& st) {
  const bool revisit =
      ctx.store.code().size() <= 6 && st.has_decision && storage::in_revisit_sample(st.case_id);
  if (st.supervision == 0 && !revisit) return false;
  auto events = ctx.store.case_events(st.case_id);
  auto calendar = storage::held_calendar(ctx.store);
  if (!events.ok() || !calendar.ok()) return false;
  if (ctx.store.code().size() <= 6 && st.has_decision && storage::in_revisit_sample(st.case_id) &&
      !storage::case_revisit(*events))
    return true;
  for (const auto& it : storage::supervision_items(st, *events, *calendar)) {
    if (!it.answered && it.level == ctx.store.code()) return true;
  }
  return false;
}

std::vector<ActionName> open_actions(const Context& ctx, const Actor& actor,
                                     const storage::CaseState& st) {
  std::vector<ActionName> open;
  auto person = checked_person(ctx, actor, EventKind::comment, format_id(st.case_id));
  if (!person.ok()) return open;
  const std::string code = ctx.store.code();
  const auto places = node::places_here(ctx.store);
  const auto rules = case_item_rules(ctx.store, st);
  for (const auto& action : action_names()) {
    if (std::string_view(action.name) == "opinion" &&
        probe_request("opinion", st).department.empty())
      continue;
    try {
      const ActRequest a = probe_request(action.name, st);
      capnp::MallocMessageBuilder msg;
      auto ev = msg.initRoot<proto::Event>();
      write_id(ev.initId(), Id{code, 1});
      write_id(ev.initCase(), st.case_id);
      ev.setHome(st.home);
      ev.setHlc(make_hlc(ctx.now(), 0));
      fill_actor(ev.initActor(), *person, code);
      fill_body(action.name, a, code, st, nullptr, ev.getBody());
      auto view = EventView::parse(seal(msg, ctx.signer));
      if (!view.ok() || !storage::check(&st, *view)) continue;
      storage::ActContext act_ctx;
      act_ctx.node = code;
      act_ctx.role = actor_role(*person, code);
      act_ctx.kind = action.kind;
      act_ctx.state = &st;
      act_ctx.places = places ? &*places : nullptr;
      act_ctx.item = rules;
      if (!storage::may_act(act_ctx)) continue;
      if (!storage::may_complete(st, action.kind, a.approve)) continue;
      if (action.kind == EventKind::answered && !answerable(ctx, st)) continue;
      open.push_back(action);
    } catch (const AppError&) {
      // The probe's arguments do not fit this case: not offered.
    }
  }
  return open;
}

AppResult<ActResult> act(const Context& ctx, const ActRequest& req) {
  try {
    return acted(ctx, req);
  } catch (AppError& e) {
    return recorded(ctx, std::move(e));
  }
}

}  // namespace liandong::app
