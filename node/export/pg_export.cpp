#include "node/export/pg_export.h"

#include <libpq-fe.h>
#include <spdlog/spdlog.h>

#include <array>
#include <chrono>
#include <deque>
#include <pqxx/pqxx>
#include <pqxx/tablewriter>

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

// A field in COPY's text format: \N for NULL; backslash, tab, newline and
// carriage return escaped (bytes of UTF-8 sequences are never these).
void append_field(std::string& out, const std::optional<std::string>& f) {
  if (!f) {
    out += "\\N";
    return;
  }
  for (char c : *f) {
    switch (c) {
      case '\\':
        out += "\\\\";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      default:
        out += c;
    }
  }
}

// COPY of `rows` into `t` (the connection's search_path is liandong), the
// lines sent in chunks of about 64 KiB. libpqxx 6.4's stream_to escapes
// field by field through string conversions (a tenth of the exporter's
// time); tablewriter's raw lines take the text as made here.
void copy_table(pqxx::work& w, const TableSpec& t, std::vector<Row>& rows) {
  if (rows.empty()) return;
  for (const auto& r : rows) {
    if (r.size() != t.columns.size())
      throw std::logic_error(std::string("row of ") + t.name + " has " + std::to_string(r.size()) +
                             " fields");
  }
  const std::vector<std::string> cols(t.columns.begin(), t.columns.end());
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
  pqxx::tablewriter out(w, t.name, cols.begin(), cols.end());
#pragma GCC diagnostic pop
  std::string buf;
  buf.reserve(80 * 1024);
  for (const auto& r : rows) {
    if (!buf.empty()) buf += '\n';
    for (std::size_t i = 0; i < r.size(); ++i) {
      if (i) buf += '\t';
      append_field(buf, r[i]);
    }
    if (buf.size() >= 64 * 1024) {
      out.write_raw_line(buf);  // adds the line's '\n'
      buf.clear();
    }
  }
  if (!buf.empty()) out.write_raw_line(buf);
  out.complete();
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

// export_cursor.belt_until after a store change: every later batch.
constexpr uint64_t kBeltAlways = uint64_t{1} << 62;

// What one batch writes, read from the store (no PostgreSQL yet).
struct Prepared {
  uint64_t after = 0;  // the cursor the batch follows
  LogBatch log;
  std::vector<Id> cases;  // the cases whose rows are written again
  CaseRows rows;
  bool reference = false;  // divisions and catalogs written again
  std::vector<Row> divisions, catalogs, items;
};

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
  } catch (const std::exception& e) {
    error_ = "cannot connect: " + one_line(e.what());
    return Status::disconnected("无法连接 PostgreSQL: " + one_line(e.what()));
  }
}

namespace {

// Reads the batch after `after` and builds its rows.
Result<Prepared> prepare_batch(const storage::Store& store, const ExportOptions& o,
                               uint64_t after) {
  Prepared p;
  p.after = after;
  RowOptions ro{store.code(), o.id_numbers, now_ms()};
  auto log = read_log_batch(store, after, o.batch_events, ro);
  if (!log.ok()) return log.status();
  p.log = std::move(log).value();
  if (p.log.events.empty()) return p;
  std::vector<Id> cases = std::move(p.log.cases);
  // Reference data (divisions, catalogs) on the first batch and whenever a
  // new table arrives; a new calendar or catalog changes working days and
  // limits, so every case exported before is written again.
  if (after == 0 || p.log.reference_changed) {
    p.reference = true;
    auto div = division_rows(store, ro);
    if (!div.ok()) return div.status();
    p.divisions = std::move(div).value();
    if (auto s = catalog_rows(store, ro, p.catalogs, p.items); !s.is_ok()) return s;
    if (after != 0) {
      Status s;
      cases = all_cases(store, s);
      if (!s.is_ok()) return s;
    }
  }
  RowMaker maker(store, ro);
  if (!maker.status().is_ok()) return maker.status();
  for (const auto& id : cases) {
    if (auto s = maker.add_case(id, p.rows); !s.is_ok()) return s;
  }
  p.cases = std::move(cases);
  return p;
}

}  // namespace

Result<PgExporter::Cursor> PgExporter::read_cursor() {
  if (!connected()) {
    if (auto s = connect(); !s.is_ok()) return s;
  }
  try {
    pqxx::work w(*conn_);
    const std::string node = w.quote(store_.code());
    w.exec("INSERT INTO export_cursor (node_code, store_id) VALUES (" + node + ", " +
           w.quote(store_.store_id()) + ") ON CONFLICT (node_code) DO NOTHING");
    const auto cur =
        w.exec("SELECT store_id, lsn, belt_until FROM export_cursor WHERE node_code = " + node +
               " FOR UPDATE");
    Cursor c;
    c.lsn = cur[0][1].as<uint64_t>();
    c.belt_until = cur[0][2].as<uint64_t>();
    if (cur[0][0].as<std::string>() != store_.store_id()) {
      // Another store under this node (restored, or made again): its log
      // from the beginning. Events already here keep their ids; from now on
      // every event of this node is written with ON CONFLICT DO NOTHING, as
      // the new store may yet receive again (sync) events exported from the
      // old one. The cursor still makes each batch exactly once.
      c.belt_until = kBeltAlways;
      c.lsn = 0;
      c.store_changed = true;
      w.exec("UPDATE export_cursor SET store_id = " + w.quote(store_.store_id()) +
             ", lsn = 0, belt_until = " + std::to_string(c.belt_until) +
             ", store_changes = store_changes + 1 WHERE node_code = " + node);
    }
    w.commit();
    return c;
  } catch (const std::exception& e) {
    conn_.reset();
    error_ = "connection lost: " + one_line(e.what());
    return Status::disconnected("PostgreSQL 连接中断: " + one_line(e.what()));
  }
}

Result<BatchResult> PgExporter::write_batch(Prepared& p, uint64_t belt_until) {
  if (!connected()) {
    if (auto s = connect(); !s.is_ok()) return s;
  }
  try {
    pqxx::work w(*conn_);
    const std::string node = w.quote(store_.code());
    const auto cur =
        w.exec("SELECT store_id, lsn FROM export_cursor WHERE node_code = " + node + " FOR UPDATE");
    if (cur.empty() || cur[0][0].as<std::string>() != store_.store_id() ||
        cur[0][1].as<uint64_t>() != p.after)
      return Status::overloaded(
          "另一导出进程已写入本节点的数据，本次停止 (export cursor moved: another exporter of "
          "this node?)");
    BatchResult out;
    out.lsn = p.log.last_lsn;
    if (p.reference) {
      for (const char* t : {"divisions", "catalogs", "catalog_items"})
        w.exec(std::string("DELETE FROM ") + t + " WHERE node_code = " + node);
      copy_table(w, divisions_table(), p.divisions);
      copy_table(w, catalogs_table(), p.catalogs);
      copy_table(w, catalog_items_table(), p.items);
    }
    // Events: plain COPY, so a doubled row would fail the batch; only
    // after a store change (belt_until) the ones already held are skipped.
    if (p.after < belt_until) {
      w.exec(
          "CREATE TEMP TABLE IF NOT EXISTS events_stage (LIKE liandong.events) "
          "ON COMMIT DELETE ROWS");
      TableSpec stage = events_table();
      stage.name = "events_stage";
      copy_table(w, stage, p.log.events);
      const auto r = w.exec(
          "INSERT INTO events SELECT * FROM events_stage "
          "ON CONFLICT (node_code, id) DO NOTHING");
      out.events = r.affected_rows();
    } else {
      out.events = p.log.events.size();
      copy_table(w, events_table(), p.log.events);
    }
    // Cases: their rows as read, replacing what the database held. The
    // rows of other tables go only for cases the database held already.
    if (!p.cases.empty()) {
      const auto held =
          w.exec("DELETE FROM cases WHERE node_code = " + node + " AND case_id = ANY(" +
                 w.quote(id_array(p.cases)) + "::text[]) RETURNING case_id");
      if (!held.empty()) {
        std::string ids = "{";
        for (std::size_t i = 0; i < held.size(); ++i) {
          if (i) ids += ',';
          ids += held[i][0].c_str();
        }
        ids += "}";
        const auto tables = case_tables();
        for (std::size_t i = 1; i < tables.size(); ++i)
          w.exec(std::string("DELETE FROM ") + tables[i]->name + " WHERE node_code = " + node +
                 " AND case_id = ANY(" + w.quote(ids) + "::text[])");
      }
      const auto tables = case_tables();
      for (std::size_t i = 0; i < tables.size(); ++i)
        copy_table(w, *tables[i], p.rows.tables[i]);
    }
    out.cases = p.rows.tables[0].size();
    w.exec("UPDATE export_cursor SET lsn = " + std::to_string(p.log.last_lsn) +
           ", events = events + " + std::to_string(out.events) +
           ", batches = batches + 1, exported_at = now() WHERE node_code = " + node);
    w.commit();
    return out;
  } catch (const pqxx::broken_connection& e) {
    conn_.reset();
    error_ = "connection lost: " + one_line(e.what());
    return Status::disconnected("PostgreSQL 连接中断: " + one_line(e.what()));
  } catch (const pqxx::in_doubt_error& e) {
    // COMMIT sent, answer lost: the cursor in the database says which.
    conn_.reset();
    error_ = "commit in doubt, the cursor will tell: " + one_line(e.what());
    return Status::disconnected("PostgreSQL 提交结果不明，重连后按游标续传: " + one_line(e.what()));
  } catch (const std::exception& e) {
    conn_.reset();
    error_ = "batch failed: " + one_line(e.what());
    return Status::internal("导出失败: " + one_line(e.what()));
  }
}

Result<BatchResult> PgExporter::export_batch() {
  auto c = read_cursor();
  if (!c.ok()) return c.status();
  auto p = prepare_batch(store_, o_, c->lsn);
  if (!p.ok()) return p.status();
  BatchResult out;
  out.lsn = c->lsn;
  out.store_changed = c->store_changed;
  if (p->log.events.empty()) return out;
  auto b = write_batch(*p, c->belt_until);
  if (b.ok()) b->store_changed = c->store_changed;
  return b;
}

Result<ExportTotals> PgExporter::catch_up(const std::function<bool()>& keep_going) {
  error_.clear();
  auto st = store_.stats();
  if (!st.ok()) return st.status();
  const uint64_t target = st->last_lsn;
  auto c = read_cursor();
  if (!c.ok()) return c.status();
  ExportTotals t;
  t.lsn = c->lsn;
  if (c->lsn >= target) return t;
  // The next batch is read from the store while this one is written to
  // PostgreSQL (one batch ahead): the two sides of two cores.
  std::mutex mu;
  std::condition_variable cv;
  std::deque<Result<Prepared>> ready;
  bool stop = false;
  std::thread reader([&, after = c->lsn]() mutable {
    for (;;) {
      auto p = prepare_batch(store_, o_, after);
      const bool last = !p.ok() || p->log.events.empty() || p->log.last_lsn >= target;
      if (p.ok()) after = p->log.last_lsn;
      std::unique_lock<std::mutex> lock(mu);
      cv.wait(lock, [&] { return stop || ready.empty(); });
      if (stop) return;
      ready.push_back(std::move(p));
      cv.notify_all();
      if (last) return;
    }
  });
  Status failed;
  for (;;) {
    if (keep_going && !keep_going()) break;
    std::unique_lock<std::mutex> lock(mu);
    cv.wait(lock, [&] { return !ready.empty(); });
    Result<Prepared> p = std::move(ready.front());
    ready.pop_front();
    cv.notify_all();
    lock.unlock();
    if (!p.ok()) {
      failed = p.status();
      break;
    }
    if (p->log.events.empty()) break;
    auto b = write_batch(*p, c->belt_until);
    if (!b.ok()) {
      failed = b.status();
      break;
    }
    t.lsn = b->lsn;
    t.events += b->events;
    t.cases += b->cases;
    ++t.batches;
    if (b->lsn >= target) break;
  }
  {
    std::lock_guard<std::mutex> lock(mu);
    stop = true;
  }
  cv.notify_all();
  reader.join();
  if (!failed.is_ok()) return failed;
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
        spdlog::warn("postgres export: {} (retrying in {} s)",
                     ex.last_error().empty() ? t.status().to_string() : ex.last_error(),
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
