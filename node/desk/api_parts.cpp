#include "node/desk/api_parts.h"

#include <algorithm>
#include <cctype>
#include <set>

#include "node/sync_state.h"
#include "protocol/event_codec.h"
#include "protocol/ids.h"

namespace liandong::desk {

std::string api_error_body(const std::string& zh, const std::string& part) {
  node::Json j = node::Json::object();
  j["error"] = zh;
  if (!part.empty()) j["part"] = part;
  return node::json_text(j);
}

}  // namespace liandong::desk

namespace liandong::desk::api_parts {

using node::json_text;

namespace {

constexpr auto kJsonType = "application/json; charset=utf-8";

const char* part_name(app::RequestPart p) {
  switch (p) {
    case app::RequestPart::whole:
      return "";
    case app::RequestPart::item:
      return "item";
    case app::RequestPart::id_number:
      return "id_number";
    case app::RequestPart::phone:
      return "phone";
    case app::RequestPart::materials:
      return "materials";
    case app::RequestPart::home:
      return "home";
    case app::RequestPart::role:
      return "role";
  }
  return "";
}

// An error as a person at the desk reads it: Chinese, without the CLI's
// option name in front ("--due: ") or the English gloss at the end.
std::string desk_words(std::string t) {
  const bool chinese = std::any_of(t.begin(), t.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return u >= 0xE4 && u <= 0xE9;
  });
  if (!chinese) return t;
  if (t.rfind("--", 0) == 0) {
    const auto colon = t.find(": ");
    if (colon != std::string::npos && colon < 32) t = t.substr(colon + 2);
  }
  const auto gloss = t.rfind(" (");
  if (gloss != std::string::npos && !t.empty() && t.back() == ')' &&
      std::all_of(t.begin() + static_cast<std::ptrdiff_t>(gloss), t.end(),
                  [](char c) { return static_cast<unsigned char>(c) < 0x80; }))
    t.erase(gloss);
  return t;
}

}  // namespace

// A signing key for reads: operations that only read never sign (a probe
// of open_actions is sealed with it and thrown away).
const SigningKey& read_key() {
  static const SigningKey key{};
  return key;
}

void reply(httplib::Response& res, int status, const Json& j) {
  res.status = status;
  res.set_header("Cache-Control", "no-store");
  res.set_content(json_text(j), kJsonType);
}

void fail(httplib::Response& res, int status, const std::string& zh, const std::string& part) {
  res.status = status;
  res.set_header("Cache-Control", "no-store");
  res.set_content(api_error_body(zh, part), kJsonType);
}

// The HTTP answer to an application error: 400 bad input, 403 a person's
// role or the roster, 404 no such case, 409 the workflow, 507 a full disk.
void fail(httplib::Response& res, const app::AppError& e) {
  int status = 500;
  if (e.role_refusal) {
    status = 403;
  } else if (e.status.code() == Code::not_found) {
    status = 404;
  } else if (e.status.code() == Code::no_space) {
    status = 507;
  } else if (e.refused) {
    status = 409;
  } else if (e.status.code() == Code::invalid) {
    status = 400;
  }
  std::string text = node::error_text_zh(e.status);
  // A workflow refusal the rules word in English only: said plainly first.
  if (status == 409 && text.rfind("输入有误", 0) == 0)
    text = "办件当前状态不允许此操作" + text.substr(std::string("输入有误").size());
  fail(res, status, desk_words(text), part_name(e.part));
}

// The request's JSON object, or nullopt after answering 400.
std::optional<Json> body_object(const httplib::Request& req, httplib::Response& res) {
  Json j = Json::parse(req.body, nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    fail(res, 400, "请求内容不是 JSON 对象");
    return std::nullopt;
  }
  return j;
}

// A string field of `j` ("" when absent); a value of another type, or one
// longer than `max` bytes, is bad input (answered 400).
std::optional<std::string> text_field(const Json& j, const char* key, httplib::Response& res,
                                      std::size_t max) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return std::string();
  if (!it->is_string()) {
    fail(res, 400, std::string("字段 ") + key + " 应为文字", key);
    return std::nullopt;
  }
  std::string v = it->get<std::string>();
  if (v.size() > max) {
    fail(res, 400, std::string("字段 ") + key + " 过长", key);
    return std::nullopt;
  }
  return v;
}

std::optional<std::vector<std::string>> list_field(const Json& j, const char* key,
                                                   httplib::Response& res) {
  std::vector<std::string> out;
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return out;
  if (!it->is_array() || it->size() > 200) {
    fail(res, 400, std::string("字段 ") + key + " 应为文字列表", key);
    return std::nullopt;
  }
  for (const auto& v : *it) {
    if (!v.is_string() || v.get<std::string>().size() > 1024) {
      fail(res, 400, std::string("字段 ") + key + " 应为文字列表", key);
      return std::nullopt;
    }
    out.push_back(v.get<std::string>());
  }
  return out;
}

// "3 分钟前", "2 小时", ...: a span of time as a person says it.
std::string span_zh(uint64_t ms) {
  const uint64_t min = ms / 60000;
  if (min < 1) return "不到 1 分钟";
  if (min < 60) return std::to_string(min) + " 分钟";
  if (min < 48 * 60) return std::to_string(min / 60) + " 小时";
  return std::to_string(min / (24 * 60)) + " 天";
}

std::string cookie_value(const httplib::Request& req, const std::string& name) {
  const std::string header = req.get_header_value("Cookie");
  std::size_t at = 0;
  while (at < header.size()) {
    std::size_t end = header.find(';', at);
    if (end == std::string::npos) end = header.size();
    std::string part = header.substr(at, end - at);
    const auto b = part.find_first_not_of(' ');
    part = b == std::string::npos ? "" : part.substr(b);
    if (part.rfind(name + "=", 0) == 0) return part.substr(name.size() + 1);
    at = end + 1;
  }
  return {};
}

namespace {

// RFC 5987: the UTF-8 name percent-encoded for filename*=UTF-8''...
std::string rfc5987(const std::string& name) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : name) {
    if (std::isalnum(c) || c == '.' || c == '-' || c == '_' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

// An ASCII stand-in for old clients: the extension only.
std::string ascii_name(const std::string& name) {
  const auto dot = name.rfind('.');
  std::string ext = dot == std::string::npos ? "" : name.substr(dot);
  for (char c : ext)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.') return "file";
  return "file" + ext;
}

}  // namespace

std::string content_disposition(bool attachment, const std::string& name) {
  return std::string(attachment ? "attachment" : "inline") + "; filename=\"" + ascii_name(name) +
         "\"; filename*=UTF-8''" + rfc5987(name);
}

std::string client_of(const httplib::Request& req) {
  return req.remote_addr;
}
// A case row of the lists: the case-list item of `case list --json`.
Json case_row(const storage::CaseState& st) {
  return Json::parse(node::render_case_list_item_json(st, nullptr));
}

// The sync state in a person's words (docs/DESK.md SYNC_WORDS): each
// upward link (a standby one only while no other is up), and the links of
// the children counted, not listed (a county has hundreds).
Json sync_words(const node::StatusReport& r, const storage::Divisions* places, uint64_t now,
                uint64_t pending_up) {
  Json links = Json::array();
  uint64_t last_sync = 0;
  bool up_connected = false, any_up = false;
  std::size_t children = 0, children_up = 0;
  for (const auto& l : r.links) {
    if (l.up_link && l.state == "up") up_connected = true;
  }
  Json words = Json::array();
  for (const auto& l : r.links) {
    const bool up = l.state == "up";
    const std::string name = node::place_name(places, l.peer);
    std::string text;
    if (up) {
      text = "与" + name + "已连接";
      last_sync = now;
      any_up = true;
    } else {
      text = "与" + name + "断开 " + span_zh(l.for_ms);
      if (l.since_ms > last_sync) last_sync = l.since_ms;
    }
    // A standby upward link that is down while another is up is no outage.
    const bool standby = l.up_link && !up && up_connected;
    if (!l.up_link) {
      ++children;
      children_up += up ? 1 : 0;
    } else if (!standby) {
      words.push_back(text);
    }
    links.push_back(Json{{"peer", l.peer},
                         {"peer_name", name},
                         {"upstream", l.up_link},
                         {"state", l.state},
                         {"standby", standby},
                         {"words_zh", text}});
  }
  if (children > 0)
    words.push_back("下级节点 " + std::to_string(children_up) + " 个在线，" +
                    std::to_string(children - children_up) + " 个未连接");
  std::string last = r.links.empty()  ? "本机未连接其他节点"
                     : any_up         ? "最近同步 刚刚"
                     : last_sync == 0 ? "尚未同步"
                                      : "最近同步 " + span_zh(now - last_sync) + "前";
  return Json{
      {"last_sync_zh", last},
      {"pending_up", pending_up},
      // The county uploads to nobody: nothing to say.
      {"pending_up_zh", r.code.size() <= 6 ? "" : "待上传 " + std::to_string(pending_up) + " 件"},
      {"words_zh", std::move(words)},
      {"links", std::move(links)}};
}

// The cases with this node's own events its parent does not hold yet (at
// most 500 events looked at).
uint64_t pending_up(const storage::Store& store, const std::string& code, uint64_t last_lsn) {
  if (code.size() <= 6) return 0;
  auto custody = node::read_custody(store);
  if (!custody.ok()) return 0;
  std::set<std::string> cases;
  const uint64_t from = custody->parent + 1;
  for (uint64_t lsn = last_lsn; lsn >= from && lsn + 500 > last_lsn && lsn > 0; --lsn) {
    auto bytes = store.read_log(lsn);
    if (!bytes.ok() || !*bytes) continue;
    auto v = EventView::parse(**bytes);
    if (!v.ok() || v->id().origin != code || v->case_id().empty()) continue;
    cases.insert(format_id(v->case_id()));
  }
  return cases.size();
}

}  // namespace liandong::desk::api_parts
