// The `liandong` commands of the deadline module (限时办结, 电子监察; see
// node/commands.h): publishing and showing the working-day calendar, the
// deadlines of one case, and the deadline filter behind `case list
// --overdue / --warning` (called from cmd_list in node/case_commands.cpp).
#include <fmt/format.h>

#include <algorithm>
#include <map>

#include "node/commands.h"
#include "node/input_files.h"
#include "node/json_text.h"
#include "node/render.h"
#include "protocol/hlc.h"
#include "storage/calendar.h"
#include "storage/catalog.h"
#include "storage/deadlines.h"

namespace liandong::node {

namespace fs = std::filesystem;
using storage::Calendar;
using storage::CalendarYear;
using storage::CaseDeadlines;
using storage::DeadlineFlag;

namespace {

std::vector<storage::HeldCalendarYear> calendar_years_here(const storage::Store& store) {
  auto years = storage::held_calendar_years(store);
  if (!years.ok()) fail(years.status());
  return std::move(years).value();
}

Calendar calendar_here(const storage::Store& store) {
  auto cal = storage::held_calendar(store);
  if (!cal.ok()) fail(cal.status());
  return std::move(cal).value();
}

// The time limits of the case's item (storage::case_step_limits).
storage::StepLimits limits_for(storage::CatalogCache& catalogs, const storage::CaseState& st,
                               const std::vector<storage::StoredEvent>& events) {
  auto limits = storage::case_step_limits(catalogs, st, events);
  if (!limits.ok()) fail(limits.status());
  return *limits;
}

std::string date_or_dash(const std::optional<storage::Date>& d) {
  return d ? storage::format_date(*d) : "-";
}

// The step a list line names: the worst open one, else the first.
const storage::StepDeadline* headline_step(const CaseDeadlines& d) {
  const storage::StepDeadline* out = nullptr;
  for (const auto& s : d.steps) {
    if (s.done) continue;
    if (out == nullptr || s.flag > out->flag) out = &s;
  }
  return out;
}

Json step_json(const storage::StepDeadline& s) {
  Json j = Json::object();
  j["step"] = storage::step_name(s.step);
  j["holder"] = s.holder;
  j["started"] = format_time(s.started_ms);
  j["limit_days"] = s.limit;
  j["due"] = s.due ? Json(storage::format_date(*s.due)) : Json();
  j["done"] = s.done;
  j["done_at"] = s.done ? Json(format_time(s.done_ms)) : Json();
  j["paused"] = s.paused;
  j["flag"] = storage::flag_name(s.flag);
  if (!s.done && s.due) j["days_left"] = s.days_left;
  return j;
}

std::string render_steps(const CaseDeadlines& d, const storage::Divisions* places) {
  std::string out = pad("环节", 10) + pad("责任方", 14) + pad("开始", 21) + pad("时限", 12) +
                    pad("应办结", 12) + pad("完成", 21) + "标记\n";
  for (const auto& s : d.steps) {
    const std::string limit = s.limit ? std::to_string(s.limit) + "个工作日" : "不限";
    std::string flag = storage::flag_name_zh(s.flag);
    if (s.paused) flag = "补正中(停表)";
    if (!s.done && s.due && s.days_left >= 0) flag += fmt::format(" (剩{}个工作日)", s.days_left);
    out += pad(storage::step_name_zh(s.step), 10) + pad(place_name(places, s.holder), 14) +
           pad(format_time(s.started_ms), 21) + pad(limit, 12) + pad(date_or_dash(s.due), 12) +
           pad(s.done ? format_time(s.done_ms) : "未完成", 21) + flag + "\n";
  }
  return out;
}

// ---- calendar publish -------------------------------------------------------

int cmd_calendar_publish(const std::string& data, const std::string& file,
                         const ActorOptions& actor, bool json) {
  const std::string doc = read_file(file, kMaxNoticeFileBytes);
  auto parsed = storage::parse_calendar(doc, file);
  if (!parsed.ok()) fail(parsed.status());
  auto node = open_node(data);
  const std::string code = node.store->code();
  check_actor_level(actor, code);
  if (code.size() != 6)
    refuse(Status::invalid(std::string("only the county publishes the working-day calendar "
                                       "(工作日历); this node is ") +
                           level_name_zh(code) + " " + code));
  const int year = parsed->year;
  const auto stored = store_publication(
      node, actor, doc, [&](proto::Event::Body::Builder body, capnp::Data::Reader bytes) {
        auto c = body.initCalendarPublished();
        c.setYear(static_cast<uint16_t>(year));
        c.setDocument(bytes);
      });
  if (json) {
    print(json_text(Json{{"event", format_id(stored.view.id())},
                         {"lsn", stored.lsn},
                         {"year", year},
                         {"holidays", static_cast<uint64_t>(parsed->holidays.size())},
                         {"workdays", static_cast<uint64_t>(parsed->workdays.size())}}) +
          "\n");
  } else {
    print(fmt::format(
        "已发布 {}年工作日历 {} (节假日 {} 天, 调休上班 {} 天)，下发至 {} 辖区全部节点\n", year,
        format_id(stored.view.id()), parsed->holidays.size(), parsed->workdays.size(), code));
  }
  return 0;
}

// ---- calendar show ------------------------------------------------------------

int cmd_calendar_show(const std::string& data, int year, bool json) {
  auto node = open_node(data);
  auto years = calendar_years_here(*node.store);
  if (year != 0) {
    std::erase_if(years,
                  [year](const storage::HeldCalendarYear& y) { return y.year.year != year; });
  }
  if (json) {
    Json j = Json::array();
    for (const auto& y : years) {
      Json holidays = Json::array();
      for (const auto& d : y.year.holidays)
        holidays.push_back(storage::format_date(d));
      Json workdays = Json::array();
      for (const auto& d : y.year.workdays)
        workdays.push_back(storage::format_date(d));
      j.push_back(Json{{"year", y.year.year},
                       {"origin", y.origin},
                       {"lsn", y.lsn},
                       {"holidays", std::move(holidays)},
                       {"workdays", std::move(workdays)}});
    }
    print(json_text(j) + "\n");
    return 0;
  }
  if (years.empty()) {
    print(year != 0 ? fmt::format("未收到 {} 年工作日历：按周末休息计算\n", year)
                    : std::string("未收到工作日历：按周末休息计算\n"));
    return 0;
  }
  for (const auto& y : years) {
    print(fmt::format("{}年工作日历  发布方 {}  (日志 {})\n", y.year.year, y.origin, y.lsn));
    std::string line = "  节假日 (" + std::to_string(y.year.holidays.size()) + "):";
    for (const auto& d : y.year.holidays)
      line += " " + storage::format_date(d);
    print(line + "\n");
    line = "  调休上班 (" + std::to_string(y.year.workdays.size()) + "):";
    for (const auto& d : y.year.workdays)
      line += " " + storage::format_date(d);
    print(line + "\n");
  }
  return 0;
}

// ---- deadline show --------------------------------------------------------------

int cmd_deadline_show(const std::string& data, const std::string& id_text, bool json) {
  auto node = open_node(data);
  auto id = parse_id(id_text);
  if (!id)
    fail(Status::invalid("'" + id_text +
                         "' 不是办件编号，应形如 360723101007-000042 (not a case number)"));
  auto st = node.store->get_case(*id);
  if (!st.ok()) fail(st.status());
  if (!*st) fail(Status::not_found("本机没有办件 " + id_text + " (no case " + id_text + " here)"));
  auto events = node.store->case_events(*id);
  if (!events.ok()) fail(events.status());
  storage::CatalogCache catalogs(*node.store);
  const auto d = storage::compute_deadlines(**st, *events, limits_for(catalogs, **st, *events),
                                            calendar_here(*node.store), wall_clock_ms());
  if (json) {
    Json steps = Json::array();
    for (const auto& s : d.steps)
      steps.push_back(step_json(s));
    print(json_text(Json{{"case", id_text},
                         {"deadline", storage::flag_name(d.open_flag)},
                         {"late", d.late},
                         {"steps", std::move(steps)}}) +
          "\n");
    return 0;
  }
  print("办件编号  " + id_text + "  时限 " + storage::flag_name_zh(d.open_flag) +
        (d.late ? " (有环节超期办结)" : "") + "\n");
  const auto places = places_here(*node.store);
  print(render_steps(d, places ? &*places : nullptr));
  return 0;
}

}  // namespace

// ---- case list --overdue / --warning (from cmd_list in node/case_commands.cpp) ----

int list_by_deadline(const std::string& data, const storage::CaseFilter& filter, bool overdue,
                     bool warning, const std::string& as_of, bool json) {
  uint64_t now = wall_clock_ms();
  if (!as_of.empty()) {
    auto d = storage::parse_date(as_of);
    if (!d) fail(Status::invalid("--as-of '" + as_of + "' is not a date YYYY-MM-DD"));
    // The end of that day in China time.
    now = static_cast<uint64_t>(storage::days_from_date(*d) + 1) * 86'400'000 - 8 * 3'600'000 - 1;
  }
  auto node = open_node(data);
  auto cases = node.store->list_cases(filter);
  if (!cases.ok()) fail(cases.status());
  const Calendar cal = calendar_here(*node.store);
  storage::CatalogCache catalogs(*node.store);
  struct Line {
    storage::CaseState st;
    CaseDeadlines d;
  };
  std::vector<Line> lines;
  for (auto& st : *cases) {
    auto events = node.store->case_events(st.case_id);
    if (!events.ok()) fail(events.status());
    auto d = storage::compute_deadlines(st, *events, limits_for(catalogs, st, *events), cal, now);
    if ((overdue && d.open_flag == DeadlineFlag::overdue) ||
        (warning && d.open_flag == DeadlineFlag::warning))
      lines.push_back(Line{std::move(st), std::move(d)});
  }
  if (json) {
    Json j = Json::array();
    for (const auto& l : lines) {
      Json steps = Json::array();
      for (const auto& s : l.d.steps) {
        if (!s.done) steps.push_back(step_json(s));
      }
      j.push_back(Json{{"case", format_id(l.st.case_id)},
                       {"status", status_label(l.st)},
                       {"item_code", l.st.item_code},
                       {"item_name", l.st.item_name},
                       {"applicant", l.st.applicant_name},
                       {"home", l.st.home},
                       {"handler", l.st.handler},
                       {"deadline", storage::flag_name(l.d.open_flag)},
                       {"steps", std::move(steps)}});
    }
    print(json_text(j) + "\n");
    return 0;
  }
  const auto places = places_here(*node.store);
  std::string out = pad("办件编号", 22) + pad("时限", 6) + pad("环节", 10) + pad("责任方", 14) +
                    pad("应办结", 12) + pad("状态", 12) + "事项\n";
  for (const auto& l : lines) {
    const auto* s = headline_step(l.d);
    out += pad(format_id(l.st.case_id), 22) + pad(storage::flag_name_zh(l.d.open_flag), 6) +
           pad(s ? storage::step_name_zh(s->step) : "-", 10) +
           pad(s ? place_name(places ? &*places : nullptr, s->holder) : "-", 14) +
           pad(s ? date_or_dash(s->due) : "-", 12) + pad(status_label_zh(l.st), 12) +
           l.st.item_name + "\n";
  }
  out += "共 " + std::to_string(lines.size()) + " 件\n";
  print(out);
  return 0;
}

void add_deadline_commands(CLI::App& app, CliShared& shared, CommandSet& out) {
  auto* cal = app.add_subcommand("calendar", "the working-day calendar (工作日历)");
  cal->require_subcommand(1);

  struct PublishArgs {
    std::string file;
  };
  auto pub = std::make_shared<PublishArgs>();
  auto* c_pub = cal->add_subcommand(
      "publish", "publish a year's working-day calendar to the whole county (county only)");
  shared.add_data(c_pub);
  shared.add_actor(c_pub);
  shared.files.push_back(&pub->file);
  c_pub->add_option("file", pub->file, "calendar document (TOML: year, holidays, workdays)")
      ->required();
  c_pub->add_flag("--json", shared.json, "print JSON");
  out.push_back(CommandSpec{c_pub, [&shared, pub] {
                              return cmd_calendar_publish(shared.data, pub->file, shared.actor,
                                                          shared.json);
                            }});

  auto year = std::make_shared<int>(0);
  auto* c_show = cal->add_subcommand("show", "the calendar held here, by year");
  shared.add_data(c_show);
  c_show->add_option("--year", *year, "only this year");
  c_show->add_flag("--json", shared.json, "print JSON");
  out.push_back(CommandSpec{
      c_show, [&shared, year] { return cmd_calendar_show(shared.data, *year, shared.json); }});

  auto* dl = app.add_subcommand("deadline", "time limits of cases (限时办结)");
  dl->require_subcommand(1);
  auto case_id = std::make_shared<std::string>();
  auto* c_dshow = dl->add_subcommand("show", "each step of one case: started, due, done, flag");
  shared.add_data(c_dshow);
  c_dshow->add_option("id", *case_id, "case number, e.g. 360723101007-000001")->required();
  c_dshow->add_flag("--json", shared.json, "print JSON");
  out.push_back(CommandSpec{c_dshow, [&shared, case_id] {
                              return cmd_deadline_show(shared.data, *case_id, shared.json);
                            }});
}

}  // namespace liandong::node
