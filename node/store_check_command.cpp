// `liandong store check [--deep]`: whether the store is whole, reported as
// findings, never as a crash of the checker (storage/store_check.h).
//
// The walk runs in a forked child that writes one tagged line per fact:
//   F <text>                        a finding: damage the store cannot tolerate
//   B <lsn> <id> <origin> <text>    --deep: an event whose signature fails
//   R <lsn> <how>                   whether that event can be fetched again
//   D <digest> <events>             --deep: the log's digest and length
//   S <events> <cases> <next seq>   the summary of a whole store
// and the parent prints the report. A child that dies (SIGBUS, SIGSEGV, an
// LMDB assertion) leaves what it found so far, and its death is a finding.
#include <fmt/format.h>

#include <sstream>

#include "node/commands.h"
#include "node/sync_state.h"
#include "storage/store_check.h"

namespace liandong::node {

namespace fs = std::filesystem;

namespace {

// How the checker reports an error it caught (an LMDB assertion, an exception).
constexpr std::string_view kErrorPrefix = "错误：";

constexpr int kCheckTimeoutMs = 30 * 60 * 1000;

// Where a damaged event of the log can be had again (sync_state.h).
std::string refetch_note(const storage::BadEvent& bad, const std::string& own,
                         const Result<Custody>& custody) {
  if (bad.origin.empty()) return "不明 (unknown: the entry does not parse)";
  if (bad.origin != own)
    return "可从邻居节点重新获取 (originated at " + bad.origin + ": a neighbour holds it)";
  if (custody.ok() && !custody->parent_code.empty() && bad.lsn <= custody->parent)
    return "可从上级 " + custody->parent_code + " 重新获取 (the parent acknowledged holding it)";
  return "仅本机持有，无法从邻居取回 (only this node held it)";
}

void check_work(const fs::path& data, bool deep,
                const std::function<void(std::string_view)>& emit) {
  Opened node;
  try {
    node = open_node(data);
  } catch (const CommandError& e) {
    emit("F " + e.status.message());
    return;
  }
  const storage::Store& store = *node.store;
  if (deep) {
    auto custody = read_custody(store);
    auto verdict = storage::verify_log(store, [&](const storage::BadEvent& b) {
      emit(fmt::format("B {} {} {} {}", b.lsn, b.id.empty() ? "-" : b.id,
                       b.origin.empty() ? "-" : b.origin, b.problem));
      emit(fmt::format("R {} {}", b.lsn, refetch_note(b, store.code(), custody)));
    });
    if (!verdict.ok()) {
      emit("F " + verdict.status().message());
    } else {
      emit(fmt::format("D {} {}", verdict->digest, verdict->events));
    }
  }
  if (auto s = store.check_integrity(); !s) emit("F " + s.message());
  auto stats = store.stats();
  if (!stats.ok()) {
    emit("F " + stats.status().message());
    return;
  }
  emit(fmt::format("S {} {} {}", stats->events, stats->cases, stats->next_seq));
}

}  // namespace

int cmd_store_check(const fs::path& data, bool deep) {
  if (data.empty()) fail(Status::invalid("no data directory: give --data DIR"));
  std::vector<std::string> lines;
  std::string ended;
  bool finished = true;
  if (in_daemon()) {
    // The daemon has threads: no fork there; its store opened whole.
    check_work(data, deep, [&](std::string_view l) { lines.emplace_back(l); });
  } else {
    auto run = storage::run_isolated(
        [&](const std::function<void(std::string_view)>& emit) { check_work(data, deep, emit); },
        kCheckTimeoutMs);
    lines = std::move(run.lines);
    finished = run.finished;
    ended = run.ended;
  }
  std::vector<std::string> findings;
  std::string report, summary, digest;
  std::size_t bad_events = 0;
  for (const std::string& l : lines) {
    const std::string_view rest = l.size() > 2 ? std::string_view(l).substr(2) : "";
    if (l.starts_with("F ")) {
      findings.emplace_back(rest);
    } else if (l.starts_with("B ")) {
      std::istringstream in{std::string(rest)};
      std::string lsn, id, origin, problem;
      in >> lsn >> id >> origin;
      std::getline(in, problem);
      ++bad_events;
      report +=
          fmt::format("  事件 {} (LSN {}) 签名核对失败，内容已被改动或损坏:{}\n", id, lsn, problem);
    } else if (l.starts_with("R ")) {
      const auto sp = rest.find(' ');
      report += fmt::format("    {}\n", sp == std::string_view::npos ? rest : rest.substr(sp + 1));
    } else if (l.starts_with("D ")) {
      digest = std::string(rest);
    } else if (l.starts_with("S ")) {
      summary = std::string(rest);
    } else if (l.starts_with(kErrorPrefix)) {
      findings.push_back(l.substr(kErrorPrefix.size()));  // an LMDB assertion, an exception
    } else if (!l.empty()) {
      findings.push_back(l);
    }
  }
  if (!finished)
    findings.push_back("存储文件损坏：检查在读取存储时中断 (the check ended by " + ended +
                       " while reading the store: the file is damaged)");
  if (bad_events != 0)
    findings.push_back(fmt::format("{} 个事件签名核对失败 ({} stored events fail their signature)",
                                   bad_events, bad_events));
  if (findings.empty() && !summary.empty()) {
    std::istringstream in(summary);
    uint64_t events = 0, cases = 0, next_seq = 0;
    in >> events >> cases >> next_seq;
    print(fmt::format("store ok: {} events, {} cases, next own seq {}\n", events, cases, next_seq));
    if (deep && !digest.empty()) {
      const auto sp = digest.find(' ');
      print(fmt::format("签名全部核对无误 (every signature checks); log digest {}\n",
                        digest.substr(0, sp)));
    }
    return 0;
  }
  std::string out = "存储损坏 (store damaged):\n";
  for (const auto& f : findings)
    out += "  - " + f + "\n";
  if (!report.empty()) out += "被改动或损坏的事件 (events that fail their signature):\n" + report;
  out += fmt::format(
      "恢复 (recovery): 停止守护进程，把 {0}/store 移到别处留作证据，运行 `liandong init --force "
      "--keep-keys --data {0} --code CODE`，再启动守护进程：上下级节点会把它们持有的事件重新发来"
      "（上面标明可重新获取的事件）; 只在本机的事件须从备份恢复\n",
      data.string());
  print(out);
  fail(Status::corruption(fmt::format("存储损坏：{} 项发现 (store damaged: {} findings)",
                                      findings.size(), findings.size())));
}

}  // namespace liandong::node
