#include "node/metrics.h"

#include <charconv>
#include <cmath>

namespace liandong::node::metrics {

std::string escape_label_value(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  for (char c : v) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

std::string escape_help(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  for (char c : v) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

std::string format_value(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  char buf[32];
  std::to_chars_result r;
  if (v == std::trunc(v) && std::fabs(v) <= 9007199254740992.0) {
    r = std::to_chars(buf, buf + sizeof buf, static_cast<int64_t>(v));
  } else {
    r = std::to_chars(buf, buf + sizeof buf, v);
  }
  return std::string(buf, r.ptr);
}

namespace {

const char* type_name(Type t) {
  switch (t) {
    case Type::counter:
      return "counter";
    case Type::histogram:
      return "histogram";
    case Type::gauge:
      break;
  }
  return "gauge";
}

// `{a="x",b="y"}` with `extra` (le="...") last; nothing without labels.
void append_labels(std::string& out, const Labels& labels, const char* extra_name = nullptr,
                   const std::string& extra_value = {}) {
  if (labels.empty() && extra_name == nullptr) return;
  out += '{';
  bool first = true;
  for (const auto& l : labels) {
    if (!first) out += ',';
    first = false;
    out += l.first;
    out += "=\"";
    out += escape_label_value(l.second);
    out += '"';
  }
  if (extra_name != nullptr) {
    if (!first) out += ',';
    out += extra_name;
    out += "=\"";
    out += extra_value;
    out += '"';
  }
  out += '}';
}

void append_line(std::string& out, const std::string& name, const char* suffix,
                 const Labels& labels, double value, const char* extra_name = nullptr,
                 const std::string& extra_value = {}) {
  out += name;
  out += suffix;
  append_labels(out, labels, extra_name, extra_value);
  out += ' ';
  out += format_value(value);
  out += '\n';
}

}  // namespace

void append_family(std::string& out, const Family& f) {
  if (f.samples.empty() && f.histograms.empty()) return;
  out += "# HELP ";
  out += f.name;
  out += ' ';
  out += escape_help(f.help);
  out += "\n# TYPE ";
  out += f.name;
  out += ' ';
  out += type_name(f.type);
  out += '\n';
  for (const auto& s : f.samples)
    append_line(out, f.name, "", s.labels, s.value);
  for (const auto& h : f.histograms) {
    uint64_t cumulative = 0;
    for (std::size_t i = 0; i < h.buckets.size(); ++i) {
      cumulative += h.buckets[i];
      const std::string le = i < h.bounds.size() ? format_value(h.bounds[i]) : "+Inf";
      append_line(out, f.name, "_bucket", h.labels, static_cast<double>(cumulative), "le", le);
    }
    append_line(out, f.name, "_sum", h.labels, h.sum);
    append_line(out, f.name, "_count", h.labels, static_cast<double>(cumulative));
  }
}

std::string format(const std::vector<Family>& families) {
  std::string out;
  std::size_t series = 0;
  for (const auto& f : families)
    series += f.samples.size() + f.histograms.size() * 14;
  out.reserve(series * 80);
  for (const auto& f : families)
    append_family(out, f);
  return out;
}

namespace {

double seconds(uint64_t ms) {
  return static_cast<double>(ms) / 1000.0;
}

Family gauge(std::string name, std::string help) {
  return Family{std::move(name), std::move(help), Type::gauge, {}, {}};
}
Family counter(std::string name, std::string help) {
  return Family{std::move(name), std::move(help), Type::counter, {}, {}};
}
Family one(std::string name, std::string help, Type type, double value) {
  Family f{std::move(name), std::move(help), type, {}, {}};
  f.samples.push_back({{}, value});
  return f;
}

void add_link_families(std::vector<Family>& out, const MetricsSnapshot& s) {
  Family up = gauge("liandong_link_up", "1 while the link to the peer is up (handshake done)");
  Family active = gauge("liandong_link_active",
                        "1 for a link carrying sync traffic now (a child that is up, the "
                        "upstream in use)");
  Family rtt = gauge("liandong_link_rtt_seconds",
                     "Heartbeat round-trip time to the peer (absent until measured)");
  Family bytes_sent = counter("liandong_link_sent_bytes_total",
                              "Wire bytes sent to the peer since the daemon started");
  Family bytes_received = counter("liandong_link_received_bytes_total",
                                  "Wire bytes received from the peer since the daemon started");
  Family events_sent = counter("liandong_link_sent_events_total",
                               "Events sent to the peer in batches (a resent batch counts again)");
  Family events_received = counter("liandong_link_received_events_total",
                                   "Events received from the peer and stored or known already");
  Family refused = counter("liandong_link_refused_events_total",
                           "Events received from the peer and refused (signature, authority, "
                           "clock)");
  Family quarantined = counter("liandong_link_quarantined_events_total",
                               "Events received from the peer and put in quarantine");
  Family unacked = gauge("liandong_link_unacknowledged_events",
                         "Events of our log the peer has not acknowledged yet (a fallback "
                         "upstream not in use: 0)");
  Family oldest = gauge("liandong_link_oldest_unacknowledged_age_seconds",
                        "Age of the oldest event the peer has not acknowledged (0: none)");
  Family heard = gauge("liandong_link_last_heard_timestamp_seconds",
                       "When the peer was last heard from, unix time (never since the daemon "
                       "started: the start time)");
  const std::vector<Family*> all = {&up,
                                    &active,
                                    &rtt,
                                    &bytes_sent,
                                    &bytes_received,
                                    &events_sent,
                                    &events_received,
                                    &refused,
                                    &quarantined,
                                    &unacked,
                                    &oldest,
                                    &heard};
  for (Family* f : all)
    f->samples.reserve(s.links.size());
  for (const LinkReport& l : s.links) {
    const Labels labels{{"peer", l.peer}, {"direction", l.up_link ? "up" : "down"}};
    up.samples.push_back({labels, l.state == "up" ? 1.0 : 0.0});
    active.samples.push_back({labels, l.active ? 1.0 : 0.0});
    if (l.rtt_ms >= 0) rtt.samples.push_back({labels, l.rtt_ms / 1000.0});
    bytes_sent.samples.push_back({labels, static_cast<double>(l.bytes_sent)});
    bytes_received.samples.push_back({labels, static_cast<double>(l.bytes_received)});
    events_sent.samples.push_back({labels, static_cast<double>(l.events_sent)});
    events_received.samples.push_back({labels, static_cast<double>(l.events_received)});
    refused.samples.push_back({labels, static_cast<double>(l.events_rejected)});
    quarantined.samples.push_back({labels, static_cast<double>(l.events_quarantined)});
    unacked.samples.push_back({labels, static_cast<double>(l.unacked_events)});
    oldest.samples.push_back({labels, l.oldest_unacked_age_ms > 0
                                          ? static_cast<double>(l.oldest_unacked_age_ms) / 1000.0
                                          : 0.0});
    heard.samples.push_back(
        {labels, seconds(l.last_heard_ms != 0 ? l.last_heard_ms : s.started_ms)});
  }
  for (Family* f : all)
    out.push_back(std::move(*f));
}

void add_desk_families(std::vector<Family>& out, const desk::RequestStats::Snapshot& d) {
  static constexpr const char* kStatus[] = {"1xx", "2xx", "3xx", "4xx", "5xx"};
  Family requests = counter("liandong_desk_requests_total",
                            "Requests the desk answered, by route class and status class");
  Family latency{"liandong_desk_request_duration_seconds",
                 "Time from routing a desk request to its answer written, by route class",
                 Type::histogram,
                 {},
                 {}};
  const std::vector<double> bounds(desk::kLatencyBounds.begin(), desk::kLatencyBounds.end());
  for (std::size_t c = 0; c < desk::kRouteClasses; ++c) {
    const char* route = desk::route_class_name(static_cast<desk::RouteClass>(c));
    for (std::size_t k = 0; k < 5; ++k) {
      if (d.requests[c][k] == 0) continue;
      requests.samples.push_back(
          {{{"route", route}, {"status", kStatus[k]}}, static_cast<double>(d.requests[c][k])});
    }
    // Every route class from the first scrape: rate() needs a zero to start from.
    HistogramSample h{{{"route", route}}, bounds, {}, d.latency[c].sum_seconds};
    h.buckets.assign(d.latency[c].buckets.begin(), d.latency[c].buckets.end());
    latency.histograms.push_back(std::move(h));
  }
  out.push_back(std::move(requests));
  out.push_back(std::move(latency));
}

}  // namespace

std::vector<Family> families(const MetricsSnapshot& s) {
  std::vector<Family> out;
  out.reserve(48);
  {
    Family f = gauge("liandong_build_info", "The running build; the value is always 1");
    f.samples.push_back({{{"version", s.version}, {"code", s.code}}, 1});
    out.push_back(std::move(f));
  }
  out.push_back(one("liandong_up", "1 while the daemon runs and answers", Type::gauge, 1));
  out.push_back(one("liandong_process_start_time_seconds", "When the daemon started, unix time",
                    Type::gauge, seconds(s.started_ms)));
  if (s.loop_at_ms) {
    out.push_back(one("liandong_loop_snapshot_timestamp_seconds",
                      "When the daemon's loop took the link figures shown, unix time", Type::gauge,
                      seconds(*s.loop_at_ms)));
    out.push_back(one("liandong_loop_snapshot_duration_seconds",
                      "How long taking the link figures held the daemon's loop", Type::gauge,
                      s.loop_took_seconds));
    add_link_families(out, s);
    uint64_t refused = 0;
    for (const LinkReport& l : s.links)
      refused += l.events_rejected;
    out.push_back(one("liandong_refused_events_total",
                      "Events received from any peer and refused, since the daemon started",
                      Type::counter, static_cast<double>(refused)));
    out.push_back(one("liandong_store_full",
                      "1 while the store is full (no room on its disk): batches wait, local "
                      "submissions fail",
                      Type::gauge, s.store_full_since_ms != 0 ? 1 : 0));
    out.push_back(one("liandong_attachments_wanted", "Attachment files waiting for chunks here",
                      Type::gauge, static_cast<double>(s.attachments.wanted)));
    out.push_back(one("liandong_attachment_chunks_received_total",
                      "Attachment chunks pulled from peers since the daemon started", Type::counter,
                      static_cast<double>(s.attachments.chunks_in)));
    out.push_back(one("liandong_attachment_chunks_sent_total",
                      "Attachment chunks served to peers since the daemon started", Type::counter,
                      static_cast<double>(s.attachments.chunks_out)));
  }
  if (s.store) {
    out.push_back(one("liandong_events", "Events in the log", Type::gauge,
                      static_cast<double>(s.store->events)));
    out.push_back(one("liandong_cases", "Cases (办件) held", Type::gauge,
                      static_cast<double>(s.store->cases)));
    out.push_back(one("liandong_store_used_bytes", "Bytes of the store's map in use", Type::gauge,
                      static_cast<double>(s.store->used_bytes)));
    out.push_back(one("liandong_store_map_bytes",
                      "The store's map size now (it doubles when full, up to "
                      "liandong_store_map_max_bytes)",
                      Type::gauge, static_cast<double>(s.store->map_bytes)));
    out.push_back(one("liandong_store_map_max_bytes", "The most the store's map may grow to",
                      Type::gauge, static_cast<double>(s.map_max_bytes)));
  }
  if (s.attachment_bytes) {
    out.push_back(one("liandong_attachment_bytes", "Bytes of attachment chunks held here",
                      Type::gauge, static_cast<double>(*s.attachment_bytes)));
  }
  if (s.disk_free_bytes && s.disk_size_bytes) {
    out.push_back(one("liandong_disk_free_bytes",
                      "Bytes free for the daemon on the data directory's filesystem", Type::gauge,
                      static_cast<double>(*s.disk_free_bytes)));
    out.push_back(one("liandong_disk_size_bytes", "Size of the data directory's filesystem",
                      Type::gauge, static_cast<double>(*s.disk_size_bytes)));
  }
  if (s.quarantined) {
    out.push_back(one("liandong_quarantined_events",
                      "Events held in quarantine for review (liandong quarantine)", Type::gauge,
                      static_cast<double>(*s.quarantined)));
  }
  if (s.deadlines) {
    out.push_back(one("liandong_cases_overdue",
                      "Held cases with an open step past its due day (红牌超期)", Type::gauge,
                      static_cast<double>(s.deadlines->overdue)));
    out.push_back(one("liandong_cases_warning",
                      "Held cases with one working day or less left on an open step (黄牌预警)",
                      Type::gauge, static_cast<double>(s.deadlines->warning)));
  }
  if (s.slow_at_ms != 0) {
    out.push_back(one("liandong_deadlines_counted_timestamp_seconds",
                      "When the overdue, warning and quarantine counts were taken, unix time "
                      "(every 30 s at most)",
                      Type::gauge, seconds(s.slow_at_ms)));
  }
  if (s.desk) add_desk_families(out, *s.desk);
  return out;
}

std::string render(const MetricsSnapshot& s) {
  return format(families(s));
}

}  // namespace liandong::node::metrics
