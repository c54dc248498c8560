// `liandong status` as people and programs see it: links and totals.
#include <cstdio>
#include <string>

#include "node/json_text.h"
#include "node/render.h"

namespace liandong::node {

namespace {

const char* link_state_zh(const std::string& s) {
  if (s == "up") return "已连接";
  if (s == "connecting") return "连接中";
  return "断开";
}

std::string duration_zh(uint64_t ms) {
  if (ms < 1000) return std::to_string(ms) + " 毫秒";
  const uint64_t s = ms / 1000;
  if (s < 120) return std::to_string(s) + " 秒";
  if (s < 7200) return std::to_string(s / 60) + " 分钟";
  if (s < 172800) return std::to_string(s / 3600) + " 小时";
  return std::to_string(s / 86400) + " 天";
}

std::string bytes_text(uint64_t b) {
  char buf[32];
  if (b < 1024) return std::to_string(b) + " B";
  if (b < (1u << 20)) {
    std::snprintf(buf, sizeof buf, "%.1f KiB", static_cast<double>(b) / 1024);
  } else {
    std::snprintf(buf, sizeof buf, "%.1f MiB", static_cast<double>(b) / (1 << 20));
  }
  return buf;
}

}  // namespace

std::string render_status(const StatusReport& r, const storage::Divisions* places) {
  std::string out = "本机 " + place_zh(places, r.code) + " (" + level_name_zh(r.code) + ")  ";
  out += r.running ? "联网服务运行中 (pid " + std::to_string(r.pid) + ")\n" : "联网服务未启动\n";
  out += "本机共 " + std::to_string(r.events) + " 条事件，" + std::to_string(r.cases) +
         " 件办件，日志位置 " + std::to_string(r.last_lsn) + "\n";
  out += "限时办结: 红牌超期 " + std::to_string(r.overdue) + " 件，黄牌预警 " +
         std::to_string(r.warning) + " 件 (一个工作日内到期)\n";
  if (r.quarantined != 0)
    out += "隔离区: " + std::to_string(r.quarantined) +
           " 条事件待审 (签名密钥已吊销或已轮换; liandong quarantine)\n";
  if (r.store_full_since_ms != 0)
    out += "存储空间已满 (自 " + duration_zh(wall_clock_ms() - r.store_full_since_ms) +
           "前): 暂停接收上下级数据，本机登记暂不可用；请清理数据所在磁盘\n";
  std::size_t open_refused = 0;
  for (const auto& x : r.refused)
    open_refused += x.open ? 1 : 0;
  if (open_refused != 0) {
    out += "!! 被拒收: " + std::to_string(open_refused) +
           " 条本机事件被上级拒收，未送达；排除原因后请重新报送 (liandong case reissue 事件编号)\n";
    for (const auto& x : r.refused) {
      if (x.open) out += "  !! " + x.event + "  办件 " + x.case_id + "  " + x.text + "\n";
    }
  }
  const auto& a = r.attachments;
  if (a.wanted + a.chunks_in + a.chunks_out > 0)
    out += "附件: 待收文件 " + std::to_string(a.wanted) + " 个, 已收 " + bytes_text(a.bytes_in) +
           "（" + std::to_string(a.files_completed) + " 个文件收齐）, 已发 " +
           bytes_text(a.bytes_out) +
           (a.refused > 0 ? ", 校验不符已拒收 " + std::to_string(a.refused) + " 块" : "") + "\n";
  if (r.links.empty()) return out;
  out += "链路:\n";
  out += "  " + pad("对端", 16) + pad("方向", 8) + pad("状态", 10) + pad("持续", 12) +
         pad("往返", 10) + pad("发送", 12) + pad("接收", 12) + pad("待上传", 10) +
         pad("最早待上传", 14) + "拒收事件\n";
  for (const auto& l : r.links) {
    std::string state = link_state_zh(l.state);
    if (l.up_link && l.active) state += "*";
    char rtt[32] = "-";
    if (l.rtt_ms >= 0) std::snprintf(rtt, sizeof rtt, "%.1f ms", l.rtt_ms);
    out += "  " + pad(place_name(places, l.peer), 16) + pad(l.up_link ? "上级" : "下级", 8) +
           pad(state, 10) + pad(duration_zh(l.for_ms), 12) + pad(rtt, 10) +
           pad(bytes_text(l.bytes_sent), 12) + pad(bytes_text(l.bytes_received), 12) +
           pad(std::to_string(l.unacked_events), 10) +
           pad(l.oldest_unacked_age_ms >= 0
                   ? duration_zh(static_cast<uint64_t>(l.oldest_unacked_age_ms)) + "前"
                   : "-",
               14) +
           std::to_string(l.events_rejected) + "\n";
  }
  for (const auto& l : r.links) {
    if (l.up_link && l.active) {
      out += "  (* 当前使用的上级)\n";
      break;
    }
  }
  return out;
}

std::string render_status_json(const StatusReport& r) {
  Json j = Json::object();
  j["code"] = r.code;
  j["level"] = level_name(r.code);
  j["running"] = r.running;
  if (r.running) {
    j["pid"] = r.pid;
    j["started_ms"] = r.started_ms;
  }
  // Also without a daemon: the mark is the store's (Store::full_since_ms).
  j["store_full"] = r.store_full_since_ms != 0;
  if (r.store_full_since_ms != 0) j["store_full_since_ms"] = r.store_full_since_ms;
  j["store_id"] = r.store_id;
  Json links = Json::array();
  for (const auto& l : r.links) {
    Json x = Json::object();
    x["peer"] = l.peer;
    x["direction"] = l.up_link ? "up" : "down";
    x["state"] = l.state;
    x["active"] = l.active;
    x["since_ms"] = l.since_ms;
    x["for_ms"] = l.for_ms;
    x["rtt_ms"] = l.rtt_ms >= 0 ? Json(l.rtt_ms) : Json();
    x["bytes_sent"] = l.bytes_sent;
    x["bytes_received"] = l.bytes_received;
    x["batches_sent"] = l.batches_sent;
    x["batches_received"] = l.batches_received;
    x["events_received"] = l.events_received;
    x["events_rejected"] = l.events_rejected;
    x["acked_lsn"] = l.acked_lsn;
    x["sent_lsn"] = l.sent_lsn;
    x["held_lsn"] = l.held_lsn;
    if (l.up_link) x["top_lsn"] = l.top_lsn;
    x["unacked_events"] = l.unacked_events;
    x["oldest_unacked_age_ms"] =
        l.oldest_unacked_age_ms >= 0 ? Json(l.oldest_unacked_age_ms) : Json();
    links.push_back(std::move(x));
  }
  j["links"] = std::move(links);
  j["attachments"] = Json{{"wanted", r.attachments.wanted},
                          {"chunks_in", r.attachments.chunks_in},
                          {"chunks_out", r.attachments.chunks_out},
                          {"bytes_in", r.attachments.bytes_in},
                          {"bytes_out", r.attachments.bytes_out},
                          {"refused", r.attachments.refused},
                          {"files_completed", r.attachments.files_completed}};
  std::size_t open_refused = 0;
  for (const auto& x : r.refused)
    open_refused += x.open ? 1 : 0;
  j["totals"] = Json{{"events", r.events},
                     {"cases", r.cases},
                     {"last_lsn", r.last_lsn},
                     {"next_seq", r.next_seq},
                     {"overdue", r.overdue},
                     {"warning", r.warning},
                     {"quarantined", r.quarantined},
                     {"refused", static_cast<uint64_t>(r.refused.size())},
                     {"refused_open", static_cast<uint64_t>(open_refused)}};
  Json refused = Json::array();
  for (const auto& x : r.refused) {
    refused.push_back(Json{{"event", x.event},
                           {"case", x.case_id},
                           {"by", x.by},
                           {"cause", x.cause},
                           {"reason", x.reason},
                           {"text", x.text},
                           {"open", x.open},
                           {"reissued_as", x.reissued_as.empty() ? Json() : Json(x.reissued_as)}});
  }
  j["refused"] = std::move(refused);
  return json_text(j) + "\n";
}

}  // namespace liandong::node
