#include "node/export/pg_export.h"

#include <libpq-fe.h>
#include <spdlog/spdlog.h>

#include <array>
#include <chrono>
#include <pqxx/pqxx>

#include "node/export/pg_schema.h"

namespace liandong::node::pg {

namespace {

using Clock = std::chrono::system_clock;

uint64_t now_ms() {
  return static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now().time_since_epoch())
          .count());
}

// pqxx's messages end in a newline and may run over several lines.
std::string one_line(std::string s) {
  for (char& c : s)
    if (c == '\n' || c == '\r') c = ' ';
  while (!s.empty() && s.back() == ' ')
    s.pop_back();
  return s;
}

// COPY of `rows` into `t` (the connection's search_path is liandong).
template <std::size_t N>
void copy_rows_n(pqxx::work& w, const TableSpec& t, std::vector<Row>& rows) {
  std::vector<std::string> cols(t.columns.begin(), t.columns.end());
  pqxx::stream_to s(w, t.name, cols);
  std::array<std::optional<std::string>, N> a;
  for (auto& r : rows) {
    for (std::size_t i = 0; i < N; ++i)
      a[i] = std::move(r[i]);
    s << a;
  }
  s.complete();
}

template <std::size_t... Ns>
void copy_rows(pqxx::work& w, const TableSpec& t, std::vector<Row>& rows,
               std::index_sequence<Ns...>) {
  if (rows.empty()) return;
  for (const auto& r : rows) {
    if (r.size() != t.columns.size())
      throw std::logic_error(std::string("row of ") + t.name + " has " + std::to_string(r.size()) +
                             " fields");
  }
  const std::size_t n = t.columns.size();
  bool done = false;
  ((n == Ns ? (copy_rows_n<Ns>(w, t, rows), done = true) : false), ...);
  if (!done) throw std::logic_error(std::string("no COPY for ") + t.name);
}

void copy_table(pqxx::work& w, const TableSpec& t, std::vector<Row>& rows) {
  copy_rows(w, t, rows, std::index_sequence<5, 6, 7, 9, 11, 12, 13, 15, 16, 52>{});
}

// A PostgreSQL text[] literal of case ids (digits and '-': nothing to quote).
std::string id_array(const std::vector<Id>& ids) {
  std::string out = "{";
  for (std::size_t i = 0; i < ids.size(); ++i) {
    if (i) out += ',';
    out += format_id(ids[i]);
  }
  return out + "}";
}

std::vector<Id> all_cases(const storage::Store& store, Status& s) {
  std::vector<Id> ids;
  s = store.visit_cases(storage::CaseIndex::cases, {}, std::nullopt, [&](storage::CaseState&& st) {
    ids.push_back(st.case_id);
    return true;
  });
  return ids;
}

}  // namespace

Status check_dsn(const std::string& dsn) {
  char* err = nullptr;
  PQconninfoOption* opts = PQconninfoParse(dsn.c_str(), &err);
  if (opts == nullptr) {
    std::string why = err != nullptr ? one_line(err) : "out of memory";
    if (err != nullptr) PQfreemem(err);
    return Status::invalid("PostgreSQL 连接串 (--dsn) 格式不对: " + why);
  }
  PQconninfoFree(opts);
  return Status();
}

PgExporter::PgExporter(const storage::Store& store, ExportOptions o)
    : store_(store), o_(std::move(o)) {}

PgExporter::~PgExporter() = default;

bool PgExporter::connected() const {
  return conn_ != nullptr && conn_->is_open();
}

Status PgExporter::connect() {
  conn_.reset();
  if (auto s = check_dsn(o_.dsn); !s.is_ok()) return s;
  try {
    auto c = std::make_unique<pqxx::connection>(o_.dsn);
    // A lost connection is dropped and made again here, never silently
    // reopened by libpqxx under a transaction (its temporary table and
    // settings would be gone).
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
    c->inhibit_reactivation(true);
#pragma GCC diagnostic pop
    c->set_variable("search_path", "liandong");
    c->set_variable("synchronous_commit", "on");
    if (auto s = ensure_schema(*c); !s.is_ok()) return s;
    conn_ = std::move(c);
    return Status();
  } catch (const pqxx::broken_connection& e) {
    return Status::disconnected("无法连接 PostgreSQL: " + one_line(e.what()));
  } catch (const std::exception& e) {
    return Status::disconnected("无法连接 PostgreSQL: " + one_line(e.what()));
  }
}

Result<BatchResult> PgExporter::export_batch() {
  if (!connected()) {
    if (auto s = connect(); !s.is_ok()) return s;
  }
  RowOptions ro{store_.code(), o_.id_numbers, now_ms()};
  try {
    pqxx::work w(*conn_);
    const std::string node = w.quote(store_.code());
    w.exec("INSERT INTO export_cursor (node_code, store_id) VALUES (" + node + ", " +
           w.quote(store_.store_id()) + ") ON CONFLICT (node_code) DO NOTHING");
    const auto cur =
        w.exec("SELECT store_id, lsn, belt_until FROM export_cursor WHERE node_code = " + node +
               " FOR UPDATE");
    BatchResult out;
    uint64_t after = cur[0][1].as<uint64_t>();
    uint64_t belt_until = cur[0][2].as<uint64_t>();
    if (cur[0][0].as<std::string>() != store_.store_id()) {
      // Another store under this node: start its log from the beginning;
      // events already here keep their ids and are skipped, not doubled.
      auto st = store_.stats();
      if (!st.ok()) return st.status();
      belt_until = st->last_lsn;
      after = 0;
      out.store_changed = true;
      w.exec("UPDATE export_cursor SET store_id = " + w.quote(store_.store_id()) +
             ", lsn = 0, belt_until = " + std::to_string(belt_until) +
             ", store_changes = store_changes + 1 WHERE node_code = " + node);
    }
    auto batch = read_log_batch(store_, after, o_.batch_events, ro);
    if (!batch.ok()) return batch.status();
    out.lsn = batch->last_lsn;
    if (batch->events.empty() && !out.store_changed) {
      w.commit();
      return out;
    }
    // Reference data (divisions, catalogs) on the first batch and whenever
    // a new table arrives; a new calendar or catalog changes working days
    // and limits, so every case exported before is written again.
    std::vector<Id> cases = std::move(batch->cases);
    if (after == 0 || batch->reference_changed) {
      auto div = division_rows(store_, ro);
      if (!div.ok()) return div.status();
      std::vector<Row> cats, items;
      if (auto s = catalog_rows(store_, ro, cats, items); !s.is_ok()) return s;
      for (const char* t : {"divisions", "catalogs", "catalog_items"})
        w.exec(std::string("DELETE FROM ") + t + " WHERE node_code = " + node);
      copy_table(w, divisions_table(), *div);
      copy_table(w, catalogs_table(), cats);
      copy_table(w, catalog_items_table(), items);
      if (after != 0) {
        Status s;
        cases = all_cases(store_, s);
        if (!s.is_ok()) return s;
      }
    }
    // Events: plain COPY, so a doubled row would fail the batch; only
    // after a store change, up to belt_until, the ones already held are
    // skipped.
    if (after < belt_until) {
      w.exec(
          "CREATE TEMP TABLE IF NOT EXISTS events_stage (LIKE liandong.events) "
          "ON COMMIT DELETE ROWS");
      TableSpec stage = events_table();
      stage.name = "events_stage";
      copy_table(w, stage, batch->events);
      const auto r = w.exec(
          "INSERT INTO events SELECT * FROM events_stage "
          "ON CONFLICT (node_code, id) DO NOTHING");
      out.events = r.affected_rows();
    } else {
      out.events = batch->events.size();
      copy_table(w, events_table(), batch->events);
    }
    // Cases: their rows now, replacing what the database held.
    RowMaker maker(store_, ro);
    if (!maker.status().is_ok()) return maker.status();
    CaseRows rows;
    for (const auto& id : cases) {
      if (auto s = maker.add_case(id, rows); !s.is_ok()) return s;
    }
    if (!cases.empty()) {
      const std::string ids = w.quote(id_array(cases));
      for (const auto* t : case_tables())
        w.exec(std::string("DELETE FROM ") + t->name + " WHERE node_code = " + node +
               " AND case_id = ANY(" + ids + "::text[])");
      const auto tables = case_tables();
      for (std::size_t i = 0; i < tables.size(); ++i)
        copy_table(w, *tables[i], rows.tables[i]);
    }
    out.cases = rows.tables[0].size();
    w.exec("UPDATE export_cursor SET lsn = " + std::to_string(batch->last_lsn) +
           ", events = events + " + std::to_string(out.events) +
           ", batches = batches + 1, exported_at = now() WHERE node_code = " + node);
    w.commit();
    return out;
  } catch (const pqxx::broken_connection& e) {
    conn_.reset();
    return Status::disconnected("PostgreSQL 连接中断: " + one_line(e.what()));
  } catch (const pqxx::in_doubt_error& e) {
    // COMMIT sent, answer lost: the cursor in the database says which.
    conn_.reset();
    return Status::disconnected("PostgreSQL 提交结果不明，重连后按游标续传: " + one_line(e.what()));
  } catch (const std::exception& e) {
    conn_.reset();
    return Status::internal("导出失败: " + one_line(e.what()));
  }
}

Result<ExportTotals> PgExporter::catch_up(const std::function<bool()>& keep_going) {
  auto st = store_.stats();
  if (!st.ok()) return st.status();
  const uint64_t target = st->last_lsn;
  ExportTotals t;
  for (;;) {
    if (keep_going && !keep_going()) break;
    auto b = export_batch();
    if (!b.ok()) return b.status();
    t.lsn = b->lsn;
    t.events += b->events;
    t.cases += b->cases;
    if (b->events == 0 && !b->store_changed) break;
    ++t.batches;
    if (b->lsn >= target) break;
  }
  return t;
}

ExportThread::ExportThread(const storage::Store& store, ExportOptions o)
    : store_(store), o_(std::move(o)) {}

ExportThread::~ExportThread() {
  stop();
}

void ExportThread::start() {
  thread_ = std::thread([this] { run(); });
}

void ExportThread::stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void ExportThread::run() {
  using std::chrono::milliseconds;
  PgExporter ex(store_, o_);
  milliseconds backoff(1000);
  bool was_failing = false;
  for (;;) {
    auto keep_going = [this] {
      std::lock_guard<std::mutex> lock(mu_);
      return !stop_;
    };
    if (!keep_going()) return;
    auto t = ex.catch_up(keep_going);
    milliseconds wait(1000);
    if (!t.ok()) {
      failing_ = true;
      if (!was_failing || backoff.count() >= 60000)
        spdlog::warn("postgres export: {} (retrying in {} s)", t.status().message(),
                     backoff.count() / 1000);
      was_failing = true;
      wait = backoff;
      backoff = std::min(backoff * 2, milliseconds(60000));
    } else {
      if (was_failing) spdlog::info("postgres export: resumed at log entry {}", t->lsn);
      if (t->events > 0)
        spdlog::debug("postgres export: {} events, {} cases, up to log entry {}", t->events,
                      t->cases, t->lsn);
      was_failing = false;
      failing_ = false;
      backoff = milliseconds(1000);
      lsn_ = t->lsn;
    }
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait_for(lock, wait, [this] { return stop_; });
    if (stop_) return;
  }
}

}  // namespace liandong::node::pg
