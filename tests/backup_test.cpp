// Online backup and restore (备份与恢复) with real daemons: docs/OPERATIONS.md
// "备份与恢复 / Backup and restore".
//
// Under load: a village registers applications one after another while the
// township is backed up beside its running daemon. The township is then
// stopped and its store put back from the backup, which lacks everything
// that arrived after it; started again, it is sent what it lacks by the
// village (the sync core sees the restored store: docs/PROTOCOL.md §5),
// the convergence checker passes, and every case is held exactly once at
// both nodes.
//
// Keys: a backup with --keys seals the node's keys with a passphrase; a
// restore with the wrong passphrase, of another node's backup, of a folder
// that is not a backup (or one cut short, or damaged), or while the daemon
// runs is refused and changes nothing; with the right passphrase the keys
// come back and the node runs with them.
//
// A full disk, and a read-only one (root only: small tmpfs mounts): the
// backup says so and leaves nothing behind.
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <fstream>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "tests/json_reader.h"
#include "tests/net_fixture.h"
#include "tests/support/submit.h"

namespace fs = std::filesystem;
using liandong::test::Net;
using liandong::test::parse_json;
using liandong::test::ProcessResult;
using liandong::test::wait_until;
using namespace std::chrono_literals;

namespace {

const std::string kTown = "360723101";
const std::string kVillage = "360723101007";

bool has(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

void write_file(const fs::path& p, const std::string& text,
                fs::perms perms = fs::perms::owner_read | fs::perms::owner_write) {
  std::ofstream(p, std::ios::binary) << text;
  fs::permissions(p, perms);
}

unsigned mode_of(const fs::path& p) {
  struct stat st {};
  if (::stat(p.c_str(), &st) != 0) return 0;
  return st.st_mode & 0777;
}

// Names in `dir`, sorted.
std::set<std::string> names_in(const fs::path& dir) {
  std::set<std::string> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec))
    out.insert(e.path().filename().string());
  return out;
}

bool any_name_starts(const fs::path& dir, const std::string& prefix) {
  for (const auto& n : names_in(dir))
    if (n.starts_with(prefix)) return true;
  return false;
}

// The node's files that a refused restore must leave as they were.
std::map<std::string, std::string> snapshot(const Net& net, const std::string& code) {
  const fs::path data = net.data_dir(code);
  std::map<std::string, std::string> s;
  for (const auto& n : names_in(data))
    s["name " + n] = "";
  for (const auto& n : names_in(data / "keys"))
    s["keys/" + n] = slurp(data / "keys" / n);
  s["store/data.mdb"] = slurp(data / "store" / "data.mdb");
  return s;
}

// How many times each case id is listed at `code`.
std::map<std::string, int> case_counts(const Net& net, const std::string& code) {
  std::map<std::string, int> n;
  for (const auto& c : net.cases(code))
    ++n[c.case_id];
  return n;
}

// A tmpfs mounted for the test's lifetime (root only).
class SmallDisk {
 public:
  SmallDisk(const fs::path& at, const std::string& options) : at_(at) {
    fs::create_directories(at_);
    mounted_ = liandong::test::run_process(
                   {"/bin/mount", "-t", "tmpfs", "-o", options, "tmpfs", at_.string()})
                   .exit_code == 0;
  }
  ~SmallDisk() {
    if (mounted_) liandong::test::run_process({"/bin/umount", "-l", at_.string()});
  }
  SmallDisk(const SmallDisk&) = delete;
  SmallDisk& operator=(const SmallDisk&) = delete;
  bool mounted() const { return mounted_; }

 private:
  fs::path at_;
  bool mounted_ = false;
};

}  // namespace

TEST_CASE("backup: taken under load at the township, restored, the village sends what it lacks",
          "[backup][integration]") {
  Net net({{kTown, {}}, {kVillage, {kTown}}});
  net.start_all();
  const fs::path town_data = net.data_dir(kTown);

  // An attachment, held at the township before the backup: it lives in the
  // store (blobs), so the backup carries it.
  const fs::path pdf = net.root() / "户口簿.pdf";
  write_file(pdf, "%PDF-1.4\n% 户口簿 水城村\n%%EOF\n");
  liandong::test::Application with_file;
  with_file.extra = {"--attach", "户口簿=" + pdf.string()};
  const std::string attached = liandong::test::submit(net, kVillage, with_file);
  REQUIRE(wait_until(
      [&] {
        auto r = net.cli(kTown, {"attachment", "list", attached, "--json"});
        return r.exit_code == 0 && has(r.out, "\"whole\":true");
      },
      20s));

  // The village registers applications one after another (bounded in
  // number and time) while the township is backed up.
  constexpr int kCases = 200;
  std::mutex mu;
  std::vector<std::string> submitted{attached};
  std::vector<std::string> failures;
  int done = 0;
  const auto load_until = std::chrono::steady_clock::now() + 50s;
  std::thread load([&] {
    for (int i = 0; i < kCases && std::chrono::steady_clock::now() < load_until; ++i) {
      std::string err;
      auto id = liandong::test::try_submit(net, kVillage, {}, &err);
      std::lock_guard lock(mu);
      if (id)
        submitted.push_back(*id);
      else
        failures.push_back(err);
      ++done;
    }
  });
  auto done_now = [&] {
    std::lock_guard lock(mu);
    return done;
  };
  struct Joiner {
    std::thread& t;
    ~Joiner() {
      if (t.joinable()) t.join();
    }
  } joiner{load};

  REQUIRE(wait_until([&] { return done_now() >= 50; }, 40s, 20ms));
  const fs::path dest = net.root() / "backups" / "town-1";
  fs::create_directories(dest.parent_path());
  const auto t0 = std::chrono::steady_clock::now();
  ProcessResult b = net.cli(kTown, {"backup", dest.string(), "--json"});
  const auto backup_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0);
  INFO(b.err);
  REQUIRE(b.exit_code == 0);
  const int done_at_backup = done_now();
  auto bj = parse_json(b.out);
  REQUIRE(bj);
  const std::uint64_t backup_events = bj->u64("events");
  WARN("backup of " << backup_events << " events, " << bj->u64("store_bytes") << " bytes, took "
                    << bj->u64("took_ms") << " ms (command: " << backup_ms.count() << " ms)");
  CHECK(bj->str("code") == kTown);
  CHECK_FALSE(bj->flag("keys"));
  CHECK(backup_events > 0);
  CHECK(fs::exists(dest / "backup.toml"));
  CHECK(mode_of(dest / "store" / "data.mdb") == 0600);
  CHECK_FALSE(fs::exists(dest / "store" / "lock.mdb"));
  const std::string manifest = slurp(dest / "backup.toml");
  CHECK(has(manifest, "code = \"" + kTown + "\""));
  CHECK(has(manifest, "events = " + std::to_string(backup_events)));
  CHECK(has(manifest, "keys = false"));

  // More arrive after the backup; then the township stops (the village
  // goes on registering: its own store takes them).
  REQUIRE(wait_until([&] { return done_now() >= done_at_backup + 40; }, 40s, 20ms));
  REQUIRE(wait_until([&] { return net.status(kTown).events > backup_events + 40; }, 20s));
  REQUIRE(net.stop(kTown) == 0);
  const std::size_t town_events_before = net.events(kTown).size();
  CHECK(town_events_before > backup_events);

  // Without --replace the store there is kept.
  ProcessResult r =
      net.cli_raw({"restore", dest.string(), "--config", net.config_path(kTown).string()});
  CHECK(r.exit_code == 2);
  CHECK(has(r.err, "--replace"));
  CHECK(net.events(kTown).size() == town_events_before);

  r = net.cli_raw(
      {"restore", dest.string(), "--config", net.config_path(kTown).string(), "--replace"});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(has(r.out, "已从"));
  CHECK(has(r.out, "沿用本机现有密钥"));
  CHECK(any_name_starts(town_data, "store.before-restore-"));
  CHECK_FALSE(fs::exists(town_data / "restore.tmp"));
  CHECK(mode_of(town_data / "store") == 0700);
  CHECK(mode_of(town_data / "store" / "data.mdb") == 0600);

  // Before the township starts: the backup's events and nothing after, and
  // the attachment's bytes came back with the store.
  CHECK(net.events(kTown).size() == backup_events);
  ProcessResult got = net.cli(kTown, {"attachment", "get", attached, "户口簿.pdf", "--out", "-"});
  CHECK(got.exit_code == 0);
  CHECK(got.out == slurp(pdf));

  net.start(kTown);
  load.join();
  {
    std::lock_guard lock(mu);
    INFO("failed submissions: " << failures.size() << (failures.empty() ? "" : ": " + failures[0]));
    CHECK(failures.empty());
    CHECK(submitted.size() >= 100);
  }
  const auto conv = liandong::test::wait_converged(net, 40s);
  INFO(conv.report << net.log_tails());
  REQUIRE(conv.ok);
  // The village saw the restored store and sent what it lacked.
  CHECK(has(slurp(net.log_path(kVillage)), "was restored or replaced"));
  const auto at_town = case_counts(net, kTown), at_village = case_counts(net, kVillage);
  std::size_t missing = 0, twice = 0;
  for (const auto& id : submitted) {
    for (const auto* at : {&at_town, &at_village}) {
      auto it = at->find(id);
      if (it == at->end())
        ++missing;
      else if (it->second != 1)
        ++twice;
    }
  }
  CHECK(missing == 0);
  CHECK(twice == 0);
  CHECK(net.events(kTown).size() >= town_events_before);
  CHECK(net.unexpected_exits().empty());
}

TEST_CASE("backup: keys sealed with a passphrase, and bad restores refused with nothing changed",
          "[backup][keys][integration]") {
  Net net({{kTown, {}}, {kVillage, {kTown}}});
  net.start_all();
  liandong::test::submit(net, kVillage);
  const fs::path town_data = net.data_dir(kTown);
  const fs::path work = net.root() / "backups";
  fs::create_directories(work);
  const fs::path pass = work / "pass.txt", wrong = work / "wrong.txt",
                 short_pass = work / "short.txt";
  write_file(pass, "南安镇备份口令2026\n");
  write_file(wrong, "南安镇备份口令2025\n");
  write_file(short_pass, "abc\n");
  const std::string cfg = net.config_path(kTown).string();

  // Bad input for a backup: nothing is made.
  const fs::path dest = work / "town-keys";
  ProcessResult r = net.cli(kTown, {"backup", dest.string(), "--keys"});
  CHECK(r.exit_code == 2);
  CHECK(has(r.err, "--passphrase-file"));
  r = net.cli(kTown, {"backup", dest.string(), "--keys", "--passphrase-file", short_pass.string()});
  CHECK(r.exit_code == 2);
  CHECK(has(r.err, "口令太短"));
  CHECK_FALSE(fs::exists(dest));

  // With keys, beside the running daemon.
  r = net.cli(kTown,
              {"backup", dest.string(), "--keys", "--passphrase-file", pass.string(), "--json"});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(parse_json(r.out)->flag("keys"));
  CHECK(mode_of(dest / "keys.enc") == 0600);
  const std::string sign_key = slurp(town_data / "keys" / "sign.key");
  const std::string sealed = slurp(dest / "keys.enc");
  CHECK_FALSE(has(sealed, sign_key.substr(0, 32)));
  CHECK(has(slurp(dest / "backup.toml"), "keys = true"));

  // A DEST that is not empty.
  r = net.cli(kTown, {"backup", dest.string()});
  CHECK(r.exit_code == 2);
  CHECK(has(r.err, "不是空的"));

  // Refused while the daemon runs.
  r = net.cli_raw({"restore", dest.string(), "--config", cfg, "--replace"});
  CHECK(r.exit_code == 1);
  CHECK(has(r.err, "正在运行"));

  // The village's backup, for the refusals below.
  const fs::path village_backup = work / "village";
  REQUIRE(net.cli(kVillage, {"backup", village_backup.string()}).exit_code == 0);

  REQUIRE(net.stop(kTown) == 0);
  const auto before = snapshot(net, kTown);

  // Another node's backup.
  r = net.cli_raw({"restore", village_backup.string(), "--config", cfg, "--replace"});
  CHECK(r.exit_code == 2);
  CHECK(has(r.err, "不是本节点"));
  // Not a backup at all; a backup cut short (no manifest); a damaged one.
  r = net.cli_raw({"restore", town_data.string(), "--config", cfg, "--replace"});
  CHECK(r.exit_code == 2);
  CHECK(has(r.err, "不是联动备份目录"));
  r = net.cli_raw({"restore", net.node_dir(kTown).string(), "--config", cfg, "--replace"});
  CHECK(r.exit_code == 2);
  CHECK(has(r.err, "不是联动备份目录"));
  const fs::path cut = work / "cut";
  fs::create_directories(cut / "store");
  fs::copy_file(dest / "store" / "data.mdb", cut / "store" / "data.mdb");
  r = net.cli_raw({"restore", cut.string(), "--config", cfg, "--replace"});
  CHECK(r.exit_code == 2);
  CHECK(has(r.err, "不完整"));
  const fs::path damaged = work / "damaged";
  fs::copy(dest, damaged, fs::copy_options::recursive);
  {
    std::fstream f(damaged / "store" / "data.mdb", std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(9000);
    f.put('\x5a');
  }
  r = net.cli_raw({"restore", damaged.string(), "--config", cfg, "--replace"});
  CHECK(r.exit_code == 1);
  CHECK(has(r.err, "已损坏"));
  // The wrong passphrase.
  r = net.cli_raw({"restore", dest.string(), "--config", cfg, "--replace", "--passphrase-file",
                   wrong.string()});
  CHECK(r.exit_code == 2);
  CHECK(has(r.err, "口令不对"));
  // None of these changed anything.
  CHECK(snapshot(net, kTown) == before);

  // The laptop's keys are lost: the right passphrase brings them back.
  fs::rename(town_data / "keys", work / "lost-keys");
  r = net.cli_raw({"restore", dest.string(), "--config", cfg, "--replace"});
  CHECK(r.exit_code == 2);
  CHECK(has(r.err, "--passphrase-file"));
  r = net.cli_raw(
      {"restore", dest.string(), "--config", cfg, "--replace", "--passphrase-file", pass.string()});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(has(r.out, "已恢复备份中的密钥"));
  CHECK(slurp(town_data / "keys" / "sign.key") == sign_key);
  CHECK(mode_of(town_data / "keys") == 0700);
  for (const auto& n : names_in(town_data / "keys"))
    CHECK(mode_of(town_data / "keys" / n) == 0600);
  net.start(kTown);
  liandong::test::submit(net, kVillage);
  const auto conv = liandong::test::wait_converged(net, 30s);
  INFO(conv.report << net.log_tails());
  CHECK(conv.ok);
}

TEST_CASE("backup: a full disk or a read-only one is reported and leaves nothing behind",
          "[backup][integration]") {
  if (::geteuid() != 0) {
    WARN("not root: no tmpfs to fill; skipped");
    return;
  }
  Net net({{kTown, {}}, {kVillage, {kTown}}});
  for (int i = 0; i < 3; ++i)
    liandong::test::submit_in(net.data_dir(kVillage), {});
  SmallDisk full(net.root() / "full", "size=48k,mode=0700");
  SmallDisk ro(net.root() / "ro", "ro,size=1m,mode=0700");
  if (!full.mounted() || !ro.mounted()) {
    WARN("cannot mount a tmpfs here; skipped");
    return;
  }
  ProcessResult r = net.cli(kVillage, {"backup", (net.root() / "full" / "b").string()});
  INFO(r.err);
  CHECK(r.exit_code == 1);
  CHECK(has(r.err, "磁盘空间不足"));
  CHECK(names_in(net.root() / "full").empty());
  r = net.cli(kVillage, {"backup", (net.root() / "ro" / "b").string()});
  CHECK(r.exit_code == 2);
  CHECK(has(r.err, "只读"));
  CHECK(names_in(net.root() / "ro").empty());
}
