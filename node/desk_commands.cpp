// The desk's administration (docs/DESK.md):
//
//   liandong desk invite NAME   a one-time code for NAME's first password
//   liandong desk info          where the desk is, its certificate, who may log in
//   liandong desk cert [--host NAME ...] [--force]
//                               a new certificate for the desk on the office LAN
#include <fmt/format.h>
#include <unistd.h>

#include <fstream>
#include <memory>

#include "node/commands.h"
#include "node/control.h"
#include "node/desk/parts/tls_cert.h"
#include "node/desk/people.h"
#include "node/desk/server.h"
#include "node/json_text.h"
#include "node/render.h"
#include "protocol/hlc.h"
#include "storage/roster.h"

namespace liandong::node {

namespace fs = std::filesystem;

namespace {

// The names the certificate is good for: this machine's, and any given.
std::vector<std::string> cert_names(const std::vector<std::string>& hosts) {
  std::vector<std::string> names = {"localhost", "127.0.0.1"};
  char host[256] = {};
  if (::gethostname(host, sizeof host - 1) == 0 && host[0] != '\0') names.emplace_back(host);
  for (const auto& h : hosts)
    names.push_back(h);
  return names;
}

int cmd_desk_invite(const std::string& data, const std::string& name, bool json) {
  auto node = open_node(data);
  const std::string code = node.store->code();
  auto roster = storage::held_roster(*node.store);
  if (!roster.ok()) fail(roster.status());
  if (!*roster)
    refuse(Status::invalid(
        "本节点尚未收到人员名册，无法为任何人发放设置码 (no staff roster held here)"));
  const storage::StaffEntry* person = nullptr;
  for (const auto& p : (*roster)->staff)
    if (p.name == name && p.node == code) person = &p;
  if (person == nullptr)
    refuse(Status::invalid("人员名册未列 " + name + " 在本节点 " + code + " 工作 (" + name +
                           " is not listed at " + code + ")"));
  desk::People people(node.data_dir / "desk");
  auto issued = people.invite(name, wall_clock_ms());
  if (!issued.ok()) fail(issued.status());
  if (json) {
    print(json_text(Json{{"name", name}, {"code", *issued}, {"valid_hours", 72}}) + "\n");
  } else {
    print(
        fmt::format("设置码：{}\n请当面交给 {}（{}），在本节点办事台选“首次登录 / 重设密码”使用。\n"
                    "72 小时内有效，只能使用一次；新发放的设置码使旧的作废，并解除账号锁定。\n",
                    *issued, name, role_name_zh(person->role)));
  }
  return 0;
}

int cmd_desk_info(const std::string& data, bool json) {
  const fs::path dir(data);
  std::string address;
  const bool running = find_daemon(dir).has_value();
  if (running) {
    std::ifstream in(dir / "desk" / "address");
    std::getline(in, address);
  }
  const fs::path cert = desk::default_cert(dir);
  std::string fingerprint;
  if (fs::exists(cert)) {
    auto fp = desk::cert_fingerprint(cert);
    if (fp.ok()) fingerprint = *fp;
  }
  if (json) {
    print(
        json_text(Json{{"running", running},
                       {"address", address.empty() ? Json() : Json(address)},
                       {"certificate", fs::exists(cert) ? Json(cert.string()) : Json()},
                       {"fingerprint_sha256", fingerprint.empty() ? Json() : Json(fingerprint)}}) +
        "\n");
    return 0;
  }
  std::string out;
  if (!running)
    out += "办事台：节点未运行（liandong run 启动后即可使用）\n";
  else if (address.empty())
    out += "办事台：未开启（配置 [desk] listen = \"off\"）\n";
  else
    out += "办事台地址：" + address + "\n";
  if (!fingerprint.empty())
    out += "证书：" + cert.string() + "\n证书指纹 (SHA-256)：" + fingerprint +
           "\n  局域网内首次打开时，请核对浏览器显示的证书指纹与此一致。\n";
  print(out);
  return 0;
}

int cmd_desk_cert(const std::string& data, const std::vector<std::string>& hosts, bool force) {
  const fs::path dir(data);
  auto node = open_node(data);
  const fs::path cert = desk::default_cert(dir), key = desk::default_key(dir);
  std::error_code ec;
  if (force) {
    fs::remove(cert, ec);
    fs::remove(key, ec);
  }
  fs::create_directories(dir / "desk", ec);
  if (auto s =
          desk::make_self_signed(cert, key, node.store->code(), cert_names(hosts), wall_clock_ms());
      !s)
    fail(s);
  auto fp = desk::cert_fingerprint(cert);
  print("已生成办事台证书：" + cert.string() + "\n证书指纹 (SHA-256)：" + (fp.ok() ? *fp : "-") +
        "\n重启节点后生效。\n");
  return 0;
}

}  // namespace

Status make_desk_certificate(const fs::path& data, const std::string& code) {
  std::error_code ec;
  fs::create_directories(data / "desk", ec);
  fs::permissions(data / "desk", fs::perms::owner_all, ec);
  if (fs::exists(desk::default_cert(data))) return Status::ok();
  return desk::make_self_signed(desk::default_cert(data), desk::default_key(data), code,
                                cert_names({}), wall_clock_ms());
}

void add_desk_commands(CLI::App& app, CliShared& shared, CommandSet& out) {
  std::string& data = shared.data;
  bool& json = shared.json;
  auto* c_desk = app.add_subcommand("desk", "the web desk this node serves (办事台)");
  c_desk->require_subcommand(1);

  auto name = std::make_shared<std::string>();
  auto* c_invite =
      c_desk->add_subcommand("invite", "issue a one-time code for a person's first password");
  shared.add_data(c_invite);
  c_invite->add_option("NAME", *name, "the person, as the staff roster lists them here")
      ->required();
  c_invite->add_flag("--json", json, "print JSON");
  out.push_back({.app = c_invite,
                 .run = [&data, name, &json] { return cmd_desk_invite(data, *name, json); }});

  auto* c_info = c_desk->add_subcommand("info", "where the desk is and its certificate");
  shared.add_data(c_info);
  c_info->add_flag("--json", json, "print JSON");
  out.push_back({.app = c_info, .run = [&data, &json] { return cmd_desk_info(data, json); }});

  struct CertArgs {
    std::vector<std::string> hosts;
    bool force = false;
  };
  auto ca = std::make_shared<CertArgs>();
  auto* c_cert = c_desk->add_subcommand("cert", "make the desk's certificate for the office LAN");
  shared.add_data(c_cert);
  c_cert->add_option("--host", ca->hosts, "a name or address staff open the desk by");
  c_cert->add_flag("--force", ca->force, "replace the certificate there is");
  out.push_back(
      {.app = c_cert, .run = [&data, ca] { return cmd_desk_cert(data, ca->hosts, ca->force); }});
}

}  // namespace liandong::node
