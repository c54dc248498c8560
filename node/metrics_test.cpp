// The metrics endpoint's text (node/metrics.h): the exposition format 0.0.4
// as Prometheus reads it — help and type lines, escaped label values,
// cumulative histogram buckets — and the node's figures named and labelled.
#include "node/metrics.h"

#include <catch2/catch.hpp>

#include <cmath>
#include <limits>
#include <string>

#include "node/desk/request_stats.h"

using namespace liandong;
using namespace liandong::node::metrics;
using Catch::Matchers::Contains;

namespace {

std::size_t count_of(const std::string& text, const std::string& part) {
  std::size_t n = 0;
  for (auto at = text.find(part); at != std::string::npos; at = text.find(part, at + 1))
    ++n;
  return n;
}

node::LinkReport link(std::string peer, bool up_link, std::string state) {
  node::LinkReport l;
  l.peer = std::move(peer);
  l.up_link = up_link;
  l.state = std::move(state);
  return l;
}

}  // namespace

TEST_CASE("metrics: label values escape backslash, quote and newline", "[metrics]") {
  CHECK(escape_label_value("水城村") == "水城村");
  CHECK(escape_label_value(R"(a\b)") == R"(a\\b)");
  CHECK(escape_label_value("say \"hi\"") == R"(say \"hi\")");
  CHECK(escape_label_value("two\nlines") == R"(two\nlines)");
  CHECK(escape_help("a \"quoted\" \\ and\nmore") == R"(a "quoted" \\ and\nmore)");

  Family f{"liandong_test", "Help with a \\ and a\nnewline", Type::gauge, {}, {}};
  f.samples.push_back({{{"peer", "x\"y\\z\nw"}, {"direction", "up"}}, 1});
  std::string out;
  append_family(out, f);
  CHECK(out ==
        "# HELP liandong_test Help with a \\\\ and a\\nnewline\n"
        "# TYPE liandong_test gauge\n"
        "liandong_test{peer=\"x\\\"y\\\\z\\nw\",direction=\"up\"} 1\n");
}

TEST_CASE("metrics: values are integers where they are whole, with NaN and infinities",
          "[metrics]") {
  CHECK(format_value(0) == "0");
  CHECK(format_value(42) == "42");
  CHECK(format_value(-3) == "-3");
  CHECK(format_value(1'800'000'000.0) == "1800000000");
  CHECK(format_value(0.25) == "0.25");
  CHECK(format_value(1.5e-7) == "1.5e-07");
  CHECK(format_value(std::nan("")) == "NaN");
  CHECK(format_value(std::numeric_limits<double>::infinity()) == "+Inf");
  CHECK(format_value(-std::numeric_limits<double>::infinity()) == "-Inf");
  CHECK(format_value(1e300).find('e') != std::string::npos);
}

TEST_CASE("metrics: each family has its help and type once, and empty families are left out",
          "[metrics]") {
  Family c{"liandong_things_total", "Things", Type::counter, {}, {}};
  c.samples.push_back({{}, 7});
  Family empty{"liandong_nothing", "None", Type::gauge, {}, {}};
  const std::string out = format({c, empty});
  CHECK(out ==
        "# HELP liandong_things_total Things\n# TYPE liandong_things_total counter\n"
        "liandong_things_total 7\n");
}

TEST_CASE("metrics: histogram buckets are cumulative, end in +Inf, with _sum and _count",
          "[metrics]") {
  Family h{"liandong_x_seconds", "X", Type::histogram, {}, {}};
  h.histograms.push_back({{{"route", "read"}}, {0.1, 1}, {3, 2, 1}, 4.5});
  h.histograms.push_back({{{"route", "page"}}, {0.1, 1}, {0, 0, 0}, 0});
  const std::string out = format({h});
  CHECK(out ==
        "# HELP liandong_x_seconds X\n"
        "# TYPE liandong_x_seconds histogram\n"
        "liandong_x_seconds_bucket{route=\"read\",le=\"0.1\"} 3\n"
        "liandong_x_seconds_bucket{route=\"read\",le=\"1\"} 5\n"
        "liandong_x_seconds_bucket{route=\"read\",le=\"+Inf\"} 6\n"
        "liandong_x_seconds_sum{route=\"read\"} 4.5\n"
        "liandong_x_seconds_count{route=\"read\"} 6\n"
        "liandong_x_seconds_bucket{route=\"page\",le=\"0.1\"} 0\n"
        "liandong_x_seconds_bucket{route=\"page\",le=\"1\"} 0\n"
        "liandong_x_seconds_bucket{route=\"page\",le=\"+Inf\"} 0\n"
        "liandong_x_seconds_sum{route=\"page\"} 0\n"
        "liandong_x_seconds_count{route=\"page\"} 0\n");
}

TEST_CASE("metrics: the desk's requests by route class, status class and latency bucket",
          "[metrics][desk]") {
  using desk::RouteClass;
  CHECK(desk::route_class("GET", "/") == RouteClass::page);
  CHECK(desk::route_class("GET", "/assets/app.js") == RouteClass::page);
  CHECK(desk::route_class("GET", "/api/cases") == RouteClass::read);
  CHECK(desk::route_class("GET", "/api/cases/360723101007-12") == RouteClass::read);
  CHECK(desk::route_class("GET", "/api/cases/360723101007-12/files") == RouteClass::read);
  CHECK(desk::route_class("GET", "/api/cases/360723101007-12/files/ab12") == RouteClass::file);
  CHECK(desk::route_class("POST", "/api/cases") == RouteClass::write);
  CHECK(desk::route_class("GET", "/api/public/items/x") == RouteClass::public_results);
  CHECK(desk::route_class("DELETE", "/api/cases") == RouteClass::other);
  CHECK(desk::route_class("POST", "/index.html") == RouteClass::other);

  desk::RequestStats stats;
  stats.add(RouteClass::read, 200, 0.003);  // first bucket (<= 0.005)
  stats.add(RouteClass::read, 200, 0.005);  // on the bound: still the first
  stats.add(RouteClass::read, 404, 0.2);    // <= 0.25
  stats.add(RouteClass::read, 500, 60);     // above every bound
  stats.add(RouteClass::write, 302, -1);    // counted, not timed
  stats.add(RouteClass::write, 999, -1);    // out of range: 5xx
  const auto snap = stats.snapshot();
  const auto read = static_cast<std::size_t>(RouteClass::read);
  const auto write = static_cast<std::size_t>(RouteClass::write);
  CHECK(snap.requests[read][1] == 2);
  CHECK(snap.requests[read][3] == 1);
  CHECK(snap.requests[read][4] == 1);
  CHECK(snap.requests[write][2] == 1);
  CHECK(snap.requests[write][4] == 1);
  CHECK(snap.latency[read].buckets[0] == 2);
  CHECK(snap.latency[read].buckets[5] == 1);
  CHECK(snap.latency[read].buckets.back() == 1);
  CHECK(snap.latency[read].sum_seconds == Approx(60.208).margin(1e-5));
  CHECK(snap.latency[write].buckets.back() == 0);

  node::metrics::MetricsSnapshot s;
  s.desk = snap;
  const std::string out = render(s);
  CHECK_THAT(out, Contains("liandong_desk_requests_total{route=\"read\",status=\"2xx\"} 2\n"));
  CHECK_THAT(out, Contains("liandong_desk_requests_total{route=\"write\",status=\"5xx\"} 1\n"));
  CHECK_THAT(out, Contains("liandong_desk_request_duration_seconds_bucket{route=\"read\","
                           "le=\"0.005\"} 2\n"));
  CHECK_THAT(out, Contains("liandong_desk_request_duration_seconds_bucket{route=\"read\","
                           "le=\"0.25\"} 3\n"));
  CHECK_THAT(out, Contains("liandong_desk_request_duration_seconds_bucket{route=\"read\","
                           "le=\"+Inf\"} 4\n"));
  CHECK_THAT(out, Contains("liandong_desk_request_duration_seconds_count{route=\"read\"} 4\n"));
  // Every route class has its histogram from the start, zeros included.
  CHECK_THAT(out, Contains("liandong_desk_request_duration_seconds_count{route=\"page\"} 0\n"));
  CHECK(count_of(out, "# TYPE liandong_desk_request_duration_seconds histogram\n") == 1);
}

TEST_CASE("metrics: a node's links, store, disk and deadlines by name and label", "[metrics]") {
  MetricsSnapshot s;
  s.code = "360723101";
  s.version = "0.1.0";
  s.started_ms = 1'800'000'000'000;
  s.loop_at_ms = 1'800'000'100'000;
  s.loop_took_seconds = 0.002;
  node::LinkReport county = link("360723", true, "up");
  county.active = true;
  county.rtt_ms = 12.5;
  county.bytes_sent = 5000;
  county.events_sent = 40;
  county.unacked_events = 3;
  county.oldest_unacked_age_ms = 90'500;
  county.last_heard_ms = 1'800'000'099'000;
  node::LinkReport village = link("360723101007", false, "up");
  village.events_received = 12;
  village.events_rejected = 2;
  village.events_quarantined = 1;
  village.last_heard_ms = 1'800'000'098'000;
  node::LinkReport silent = link("360723101008", false, "down");  // never heard since start
  s.links = {county, village, silent};
  s.store = storage::StoreStats{.events = 120,
                                .cases = 9,
                                .last_lsn = 120,
                                .next_seq = 5,
                                .map_bytes = 64 << 20,
                                .used_bytes = 1 << 20};
  s.map_max_bytes = uint64_t{1} << 40;
  s.disk_free_bytes = 3'000'000'000;
  s.disk_size_bytes = 30'000'000'000;
  s.deadlines = node::DeadlineCounts{.overdue = 2, .warning = 5};
  s.quarantined = 1;
  s.slow_at_ms = 1'800'000'090'000;
  s.attachments.wanted = 4;
  const std::string out = render(s);

  CHECK_THAT(out, Contains("liandong_build_info{version=\"0.1.0\",code=\"360723101\"} 1\n"));
  CHECK_THAT(out, Contains("liandong_up 1\n"));
  CHECK_THAT(out, Contains("liandong_process_start_time_seconds 1800000000\n"));
  CHECK_THAT(out, Contains("liandong_loop_snapshot_timestamp_seconds 1800000100\n"));
  CHECK_THAT(out, Contains("liandong_loop_snapshot_duration_seconds 0.002\n"));
  CHECK_THAT(out, Contains("liandong_link_up{peer=\"360723\",direction=\"up\"} 1\n"));
  CHECK_THAT(out, Contains("liandong_link_up{peer=\"360723101007\",direction=\"down\"} 1\n"));
  CHECK_THAT(out, Contains("liandong_link_up{peer=\"360723101008\",direction=\"down\"} 0\n"));
  CHECK_THAT(out, Contains("liandong_link_rtt_seconds{peer=\"360723\",direction=\"up\"} 0.0125\n"));
  // Not measured yet: no sample rather than a made-up one.
  CHECK(out.find("liandong_link_rtt_seconds{peer=\"360723101007\"") == std::string::npos);
  CHECK_THAT(out, Contains("liandong_link_sent_bytes_total{peer=\"360723\",direction=\"up\"} "
                           "5000\n"));
  CHECK_THAT(out, Contains("liandong_link_sent_events_total{peer=\"360723\",direction=\"up\"} "
                           "40\n"));
  CHECK_THAT(out, Contains("liandong_link_received_events_total{peer=\"360723101007\","
                           "direction=\"down\"} 12\n"));
  CHECK_THAT(out, Contains("liandong_link_refused_events_total{peer=\"360723101007\","
                           "direction=\"down\"} 2\n"));
  CHECK_THAT(out, Contains("liandong_link_quarantined_events_total{peer=\"360723101007\","
                           "direction=\"down\"} 1\n"));
  CHECK_THAT(out, Contains("liandong_link_unacknowledged_events{peer=\"360723\","
                           "direction=\"up\"} 3\n"));
  CHECK_THAT(out, Contains("liandong_link_oldest_unacknowledged_age_seconds{peer=\"360723\","
                           "direction=\"up\"} 90.5\n"));
  CHECK_THAT(out, Contains("liandong_link_oldest_unacknowledged_age_seconds{peer="
                           "\"360723101007\",direction=\"down\"} 0\n"));
  CHECK_THAT(out, Contains("liandong_link_last_heard_timestamp_seconds{peer=\"360723101007\","
                           "direction=\"down\"} 1800000098\n"));
  // Never heard since the daemon started: silent at least since the start.
  CHECK_THAT(out, Contains("liandong_link_last_heard_timestamp_seconds{peer=\"360723101008\","
                           "direction=\"down\"} 1800000000\n"));
  CHECK_THAT(out, Contains("liandong_refused_events_total 2\n"));
  CHECK_THAT(out, Contains("liandong_events 120\n"));
  CHECK_THAT(out, Contains("liandong_cases 9\n"));
  CHECK_THAT(out, Contains("liandong_store_used_bytes 1048576\n"));
  CHECK_THAT(out, Contains("liandong_store_map_bytes 67108864\n"));
  CHECK_THAT(out, Contains("liandong_store_map_max_bytes 1099511627776\n"));
  CHECK_THAT(out, Contains("liandong_disk_free_bytes 3000000000\n"));
  CHECK_THAT(out, Contains("liandong_disk_size_bytes 30000000000\n"));
  CHECK_THAT(out, Contains("liandong_cases_overdue 2\n"));
  CHECK_THAT(out, Contains("liandong_cases_warning 5\n"));
  CHECK_THAT(out, Contains("liandong_quarantined_events 1\n"));
  CHECK_THAT(out, Contains("liandong_attachments_wanted 4\n"));
  CHECK_THAT(out, Contains("# TYPE liandong_link_sent_bytes_total counter\n"));
  CHECK_THAT(out, Contains("# TYPE liandong_link_up gauge\n"));
  // Every family once; every counter's name ends in _total.
  std::size_t types = 0;
  for (auto at = out.find("# TYPE "); at != std::string::npos; at = out.find("# TYPE ", at + 1)) {
    const auto end = out.find('\n', at);
    const std::string line = out.substr(at, end - at);
    const std::string name = line.substr(7, line.find(' ', 7) - 7);
    INFO(line);
    CHECK(count_of(out, "# TYPE " + name + " ") == 1);
    CHECK(count_of(out, "# HELP " + name + " ") == 1);
    if (line.ends_with(" counter")) CHECK(name.ends_with("_total"));
    ++types;
  }
  CHECK(types >= 25);
}

TEST_CASE("metrics: parts not known are left out, not shown as zero", "[metrics]") {
  MetricsSnapshot s;
  s.code = "360723101007";
  s.version = "0.1.0";
  const std::string out = render(s);
  CHECK_THAT(out, Contains("liandong_up 1\n"));
  CHECK(out.find("liandong_link_") == std::string::npos);
  CHECK(out.find("liandong_cases_overdue") == std::string::npos);
  CHECK(out.find("liandong_disk_free_bytes") == std::string::npos);
  CHECK(out.find("liandong_events ") == std::string::npos);
  CHECK(out.find("liandong_desk_") == std::string::npos);
}
