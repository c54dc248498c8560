// `case list`: the cases held here, a page at a time or streamed, found by
// applicant name, ID number, phone, case number, item and status
// (storage/case_query.h does the finding; this file parses and prints).
#include "node/case_list_command.h"

#include "node/commands.h"
#include "node/refusals.h"
#include "node/render.h"

namespace liandong::node {

namespace {

// The open refusals of this node's own events, by case, one line each.
RefusedCases refused_cases(const storage::Store& store) {
  auto own = own_refusals(store);
  if (!own.ok()) fail(own.status());
  RefusedCases refused;
  for (const auto& o : *own) {
    if (!o.open || o.case_id.empty()) continue;
    std::string& line = refused[o.case_id];
    if (!line.empty()) line += "；";
    line += format_id(o.refusal.id) + " " + refusal_text(o.refusal);
  }
  return refused;
}

// Pages read while streaming every case: memory is bounded by one.
constexpr std::size_t kStreamPage = 500;

}  // namespace

bool CaseListArgs::paged() const {
  return limit != 0 || !after.empty() || !name.empty() || !id_number.empty() || !phone.empty() ||
         !case_number.empty() || !item.empty();
}

int list_cases_found(const std::string& data, const CaseListArgs& a, bool json) {
  storage::CaseQuery q;
  q.status = a.status;
  q.conflict_only = a.conflict_only;
  q.name = a.name;
  q.id_number = a.id_number;
  q.phone = a.phone;
  q.case_number = a.case_number;
  q.item_code = a.item;
  if (!a.after.empty()) {
    q.after = parse_id(a.after);
    if (!q.after)
      fail(Status::invalid("--after '" + a.after +
                           "' 不是上一页给出的办件编号 (not the cursor a page gave, like "
                           "360723101007-000042)"));
  }
  auto node = open_node(data);
  const RefusedCases refused = refused_cases(*node.store);
  const auto held_places = places_here(*node.store);
  const storage::Divisions* places = held_places ? &*held_places : nullptr;
  if (a.paged()) {
    q.limit = a.limit != 0 ? a.limit : storage::kDefaultPageSize;
    auto page = storage::find_cases(*node.store, q);
    if (!page.ok()) fail(page.status());
    if (json) {
      print(render_case_page_json(page->cases, &refused, page->next));
      return 0;
    }
    std::string out = render_case_list(page->cases, &refused, places);
    if (page->next)
      out += "下一页：liandong case list --after " + format_id(*page->next) + " (同样的条件)\n";
    print(out);
    return 0;
  }
  // Every case, streamed page by page: the same output as one list. Each
  // case is one JSON value (render_case_list_item_json); only the array's
  // brackets and commas are written here, so memory stays one page.
  q.limit = kStreamPage;
  std::size_t total = 0, flagged = 0;
  print(json ? "[" : render_case_list_header());
  for (;;) {
    auto page = storage::find_cases(*node.store, q);
    if (!page.ok()) fail(page.status());
    std::string out;
    for (const auto& st : page->cases) {
      if (json) {
        if (total > 0) out += ",";
        out += render_case_list_item_json(st, &refused);
      } else {
        bool f = false;
        out += render_case_list_row(st, &refused, &f, places);
        flagged += f ? 1 : 0;
      }
      ++total;
    }
    print(out);
    if (!page->next) break;
    q.after = page->next;
  }
  print(json ? "]\n" : render_case_list_total(total, flagged));
  return 0;
}

}  // namespace liandong::node
