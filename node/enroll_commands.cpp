// `liandong enroll create|list|remove` at a parent and `liandong join` at
// a new node (node/enroll.h, node/join_code.h, docs/OPERATIONS.md).
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <capnp/message.h>
#include <capnp/serialize.h>
#include <chrono>
#include <cstring>
#include <fstream>
#include <memory>
#include <zmq.hpp>

#include "config/value_checks.h"
#include "node/cli.h"
#include "node/commands.h"
#include "node/control.h"
#include "node/daemon_context.h"
#include "node/enroll.h"
#include "node/identity.h"
#include "node/join_code.h"
#include "node/json_text.h"
#include "node/render.h"
#include "node/time_text.h"
#include "protocol/enroll.capnp.h"
#include "protocol/hlc.h"
#include "protocol/ids.h"

namespace liandong::node {

namespace {

namespace fs = std::filesystem;

constexpr auto kAnswerWait = std::chrono::seconds(15);

Enrollment& running_enrollment() {
  const DaemonContext* ctx = daemon_context();
  if (ctx == nullptr || ctx->enroll == nullptr)
    refuse(Status::not_found(
        "入网码须由运行中的节点生成：请先启动本节点（liandong run 或 systemctl start liandong）"));
  return *ctx->enroll;
}

int cmd_enroll_create(const std::string& code, const std::string& expires,
                      const std::string& address, bool json) {
  const auto valid = parse_duration(expires);
  if (!valid) fail(Status::invalid("--expires '" + expires + "': 应为如 72h、30m、7d 的时长"));
  auto issued = running_enrollment().issue(code, *valid, address);
  if (!issued.ok()) {
    if (issued.status().code() == Code::invalid) fail(issued.status());
    refuse(issued.status());
  }
  if (json) {
    print(json_text(Json{{"join_code", issued->text},
                         {"code", issued->code},
                         {"host", issued->host},
                         {"port", issued->port},
                         {"expires_ms", issued->expires_ms}}) +
          "\n");
    return 0;
  }
  print("入网码（" + issued->code + "，" + local_time(issued->expires_ms) +
        " 前有效，只能使用一次）：\n\n    " + issued->text +
        "\n\n请将入网码告知新节点的管理人员，在新节点上运行：\n    liandong join " + issued->text +
        "\n");
  return 0;
}

int cmd_enroll_list(const std::string& data, bool json) {
  auto node = open_node(data);
  auto children = enrolled_children(*node.store);
  if (!children.ok()) fail(children.status());
  auto codes = join_code_records(*node.store);
  if (!codes.ok()) fail(codes.status());
  const uint64_t now = wall_clock_ms();
  auto state_of = [now](const JoinCodeRecord& r) {
    if (r.state == "used") return "used";
    return now > r.expires_ms ? "expired" : "pending";
  };
  if (json) {
    Json out{{"children", Json::array()}, {"codes", Json::array()}};
    for (const auto& c : *children)
      out["children"].push_back({{"code", c.code},
                                 {"curve_key", c.curve_key},
                                 {"sign_key", c.sign_key},
                                 {"at_ms", c.at_ms}});
    for (const auto& r : *codes)
      out["codes"].push_back({{"code", r.code},
                              {"state", state_of(r)},
                              {"created_ms", r.created_ms},
                              {"expires_ms", r.expires_ms}});
    print(json_text(out) + "\n");
    return 0;
  }
  std::string text = "经入网码加入的下级（" + std::to_string(children->size()) + "）：\n";
  for (const auto& c : *children)
    text += "  " + c.code + "  " + local_time(c.at_ms) + " 加入  连接密钥 " + c.curve_key + "\n";
  text += "入网码（" + std::to_string(codes->size()) + "）：\n";
  for (const auto& r : *codes) {
    const std::string st = state_of(r);
    text += "  " + r.code + "  " +
            (st == "used"      ? "已使用"
             : st == "expired" ? "已过期"
                               : "待使用") +
            "  " + local_time(r.expires_ms) + " 前有效\n";
  }
  print(text);
  return 0;
}

int cmd_enroll_remove(const std::string& code, const std::string& reason,
                      const std::string& actor) {
  if (!valid_code(code)) fail(Status::invalid("'" + code + "' 不是行政区划代码"));
  if (auto s = running_enrollment().remove(code, reason, actor); !s) refuse(s);
  print(code + " 已移出本节点的下级：其连接即时断开，不再准入。\n");
  return 0;
}

// ---- join ----

std::string flat(capnp::MallocMessageBuilder& m) {
  auto words = capnp::messageToFlatArray(m);
  auto bytes = words.asBytes();
  return std::string(reinterpret_cast<const char*>(bytes.begin()), bytes.size());
}

template <typename T, typename Fn>
void read_flat(const std::string& bytes, Fn&& fn) {
  if (bytes.empty() || bytes.size() % sizeof(capnp::word) != 0 || bytes.size() > 8192)
    fail(Status::disconnected("上级的答复格式有误"));
  std::vector<capnp::word> words(bytes.size() / sizeof(capnp::word));
  std::memcpy(words.data(), bytes.data(), bytes.size());
  try {
    capnp::ReaderOptions opts;
    opts.traversalLimitInWords = words.size() * 2 + 256;
    opts.nestingLimit = 8;
    capnp::FlatArrayMessageReader r(kj::ArrayPtr<const capnp::word>(words.data(), words.size()),
                                    opts);
    fn(r.getRoot<T>());
  } catch (const kj::Exception& e) {
    fail(Status::disconnected(std::string("上级的答复格式有误：") + e.getDescription().cStr()));
  }
}

std::string exchange(zmq::socket_t& s, const std::string& out, const std::string& where) {
  s.send(zmq::buffer(out), zmq::send_flags::none);
  zmq::pollitem_t item{s.handle(), 0, ZMQ_POLLIN, 0};
  zmq::poll(&item, 1, std::chrono::duration_cast<std::chrono::milliseconds>(kAnswerWait));
  if ((item.revents & ZMQ_POLLIN) == 0)
    fail(Status::disconnected("连接上级 " + where + " 超时（" +
                              std::to_string(kAnswerWait.count()) +
                              " 秒无答复）：请检查网络和地址，或请上级确认其服务已启动"));
  zmq::message_t m;
  if (!s.recv(m)) fail(Status::disconnected("上级 " + where + " 未答复"));
  return m.to_string();
}

// Files the joining process made under `data` belong to whoever owns
// `data`, or else its parent folder (root running `join` for the
// `liandong` service user, who owns /var/lib/liandong).
void adopt_owner(const fs::path& data) {
  if (::geteuid() != 0) return;
  struct stat st {};
  if (::stat(data.c_str(), &st) != 0) return;
  if (st.st_uid == 0 && (::stat(data.parent_path().c_str(), &st) != 0 || st.st_uid == 0)) return;
  (void)::lchown(data.c_str(), st.st_uid, st.st_gid);
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(data, ec); !ec && it != fs::end(it);
       it.increment(ec))
    (void)::lchown(it->path().c_str(), st.st_uid, st.st_gid);
}

struct Parent {
  std::string code, endpoint, curve_z85, sign_hex;
};

std::string upstream_toml(const Parent& p) {
  return "[[upstream]]\ncode = \"" + p.code + "\"\nendpoint = \"" + p.endpoint +
         "\"\ncurve_key = \"" + p.curve_z85 + "\"\nsign_key = \"" + p.sign_hex + "\"\n";
}

void write_atomically(const fs::path& file, const std::string& text) {
  const fs::path tmp = file.string() + ".joining";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << text;
    out.flush();
    if (!out) fail(Status::invalid("不能写入配置文件 " + tmp.string()));
  }
  ::chmod(tmp.c_str(), 0640);
  if (::geteuid() == 0) {
    struct stat st {};
    if (::stat(file.parent_path().c_str(), &st) == 0) (void)::chown(tmp.c_str(), 0, st.st_gid);
  }
  std::error_code ec;
  fs::rename(tmp, file, ec);
  if (ec) fail(Status::invalid("不能写入配置文件 " + file.string() + "：" + ec.message()));
}

struct JoinArgs {
  std::string join_code;
  std::string config = "/etc/liandong/liandong.toml";
  std::string data;
  std::string listen = "tcp://0.0.0.0:7601";
  std::string enroll = "tcp://0.0.0.0:7602";
  bool json = false;
};

int cmd_join(const JoinArgs& a) {
  auto parsed = parse_join_code(a.join_code);
  if (auto* err = std::get_if<std::string>(&parsed)) fail(Status::invalid(*err));
  const JoinCode jc = std::get<JoinCode>(parsed);
  const fs::path config_file = fs::absolute(a.config);

  // The config: this node's, or none yet.
  std::optional<config::NodeConfig> existing;
  std::string base_text;  // the existing file's text, the node's code filled in
  std::error_code ec;
  if (fs::exists(config_file, ec)) {
    std::ifstream in(config_file, std::ios::binary);
    base_text.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    if (!base_text.empty() && base_text.back() != '\n') base_text += "\n";
    auto cfg = config::parse_config(base_text, config_file.string(), config_file.parent_path());
    // The package's file leaves node.code for `join` to fill in.
    const auto node_at = base_text.find("[node]\n");
    if (std::holds_alternative<config::ConfigError>(cfg) &&
        std::get<config::ConfigError>(cfg).message.find("node.code: missing") !=
            std::string::npos &&
        node_at != std::string::npos) {
      base_text.insert(node_at + 7, "code = \"" + jc.code + "\"          # 入网时写入\n");
      cfg = config::parse_config(base_text, config_file.string(), config_file.parent_path());
    }
    if (auto* err = std::get_if<config::ConfigError>(&cfg)) fail(Status::invalid(err->message));
    existing = std::get<config::NodeConfig>(cfg);
    if (existing->code != jc.code)
      fail(Status::invalid("配置文件 " + config_file.string() + " 属于 " + existing->code +
                           "，入网码是给 " + jc.code + " 的"));
  }
  fs::path data = existing ? existing->data
                           : fs::path(a.data.empty() ? std::string("/var/lib/liandong") : a.data);
  if (existing && !a.data.empty() && fs::absolute(a.data) != existing->data)
    fail(Status::invalid("--data 与配置文件中的 node.data（" + existing->data.string() + "）不同"));
  data = fs::absolute(data);
  if (find_daemon(data))
    fail(Status::invalid("本节点正在运行：请先停止（systemctl stop liandong），入网后再启动"));

  // The store and keys: made now if there are none.
  if (!fs::exists(store_dir(data) / "data.mdb", ec)) {
    if (fs::exists(keys_dir(data) / "sign.key", ec))
      fail(Status::invalid(data.string() + " 中有密钥而没有存储：请先恢复备份或清理该目录"));
    fs::create_directories(data, ec);
    if (ec || ::access(data.c_str(), W_OK) != 0)
      fail(Status::invalid("不能写入数据目录 " + data.string()));
    ::chmod(data.c_str(), 0700);
    auto store = storage::Store::create(storage::StoreOptions{store_dir(data)}, jc.code);
    if (!store.ok()) fail(store.status());
    auto made = create_identity(data);
    if (!made.ok()) fail(made.status());
    if (auto st = (*store)->put_key(jc.code, made->sign.pub); !st) fail(st);
    (void)make_desk_certificate(data, jc.code);  // `liandong desk cert` makes it later if not
  }
  auto id = load_identity(data);
  if (!id.ok()) fail(id.status());
  {
    auto node = open_node(data);
    if (node.store->code() != jc.code)
      fail(Status::invalid("数据目录 " + data.string() + " 中的节点是 " + node.store->code() +
                           "，入网码是给 " + jc.code + " 的"));
  }

  // Ask the parent.
  const std::string where = jc.host + ":" + std::to_string(jc.port);
  zmq::context_t ctx(1);
  zmq::socket_t s(ctx, zmq::socket_type::dealer);
  s.set(zmq::sockopt::linger, 0);
  s.set(zmq::sockopt::maxmsgsize, int64_t{8192});
  s.connect("tcp://" + where);
  capnp::MallocMessageBuilder hello;
  hello.initRoot<proto::EnrollMessage>().setHello();
  Parent parent;
  std::array<uint8_t, 32> parent_curve{}, parent_sign{};
  uint16_t sync_port = 0;
  read_flat<proto::EnrollMessage>(exchange(s, flat(hello), where), [&](auto m) {
    if (m.isRefused()) refuse(Status::not_found("上级拒绝：" + std::string(m.getRefused().cStr())));
    if (!m.isKeys()) fail(Status::disconnected("上级的答复格式有误"));
    auto k = m.getKeys();
    if (k.getCurveKey().size() != 32 || k.getSignKey().size() != 32)
      fail(Status::disconnected("上级的答复格式有误"));
    std::memcpy(parent_curve.data(), k.getCurveKey().begin(), 32);
    std::memcpy(parent_sign.data(), k.getSignKey().begin(), 32);
    parent.code = k.getCode().cStr();
    sync_port = k.getSyncPort();
  });
  if (key_fingerprint(parent_curve, parent_sign) != jc.fingerprint)
    refuse(Status::not_found("地址 " + where + " 上的节点（" + parent.code +
                             "）不是生成此入网码的节点：密钥指纹不符，未发送任何信息"));
  if (sync_port == 0) refuse(Status::not_found("上级 " + parent.code + " 没有开放下级连接端口"));

  capnp::MallocMessageBuilder req;
  auto r = req.initRoot<proto::JoinRequest>();
  r.setCode(jc.code);
  r.setSecret(capnp::Data::Reader(jc.secret.data(), jc.secret.size()));
  r.setSignKey(capnp::Data::Reader(id->sign.pub.data(), 32));
  const std::string plain = flat(req);
  std::array<uint8_t, crypto_box_NONCEBYTES> nonce{};
  randombytes_buf(nonce.data(), nonce.size());
  std::string sealed(plain.size() + crypto_box_MACBYTES, '\0');
  if (crypto_box_easy(reinterpret_cast<unsigned char*>(sealed.data()),
                      reinterpret_cast<const unsigned char*>(plain.data()), plain.size(),
                      nonce.data(), parent_curve.data(), id->curve.secret.data()) != 0)
    fail(Status::internal("cannot seal the join request"));
  capnp::MallocMessageBuilder jm;
  auto j = jm.initRoot<proto::EnrollMessage>().initJoin();
  j.setCurveKey(capnp::Data::Reader(id->curve.pub.data(), 32));
  j.setNonce(capnp::Data::Reader(nonce.data(), nonce.size()));
  j.setBox(capnp::Data::Reader(reinterpret_cast<const uint8_t*>(sealed.data()), sealed.size()));
  bool ok = false;
  std::string reason;
  read_flat<proto::EnrollMessage>(exchange(s, flat(jm), where), [&](auto m) {
    if (m.isRefused()) refuse(Status::not_found("上级拒绝：" + std::string(m.getRefused().cStr())));
    if (!m.isAnswer()) fail(Status::disconnected("上级的答复格式有误"));
    auto sealed_answer = m.getAnswer();
    const auto box = sealed_answer.getBox();
    if (sealed_answer.getNonce().size() != crypto_box_NONCEBYTES ||
        box.size() < crypto_box_MACBYTES)
      fail(Status::disconnected("上级的答复格式有误"));
    std::string opened(box.size() - crypto_box_MACBYTES, '\0');
    if (crypto_box_open_easy(reinterpret_cast<unsigned char*>(opened.data()), box.begin(),
                             box.size(), sealed_answer.getNonce().begin(), parent_curve.data(),
                             id->curve.secret.data()) != 0)
      fail(Status::disconnected("上级的答复无法验证：不是生成此入网码的节点"));
    read_flat<proto::JoinAnswer>(opened, [&](auto ans) {
      ok = ans.getOk();
      reason = ans.getReason().cStr();
    });
  });
  if (!ok) refuse(Status::not_found("上级拒绝入网：" + reason));
  if (!config::is_strict_ancestor(parent.code, jc.code))
    refuse(Status::not_found("上级 " + parent.code + " 不管辖 " + jc.code));

  parent.endpoint = "tcp://" + jc.host + ":" + std::to_string(sync_port);
  parent.curve_z85 =
      to_z85(std::string_view(reinterpret_cast<const char*>(parent_curve.data()), 32));
  parent.sign_hex = to_hex(parent_sign);
  {
    auto node = open_node(data);
    if (auto st = node.store->put_key(parent.code, parent_sign); !st) fail(st);
  }

  // The config: the parent added, or a new file.
  std::string text;
  const std::string listen_tables =
      "\n# 下级（村代理点）连接本节点的端口\n[listen]\nendpoint = \"" + a.listen +
      "\"\n\n# 下级入网：生成入网码前，请在 address 中填写下级连接本节点所用的地址\n"
      "[enroll]\nendpoint = \"" +
      a.enroll + "\"\n# address = \"10.36.7.1\"\n";
  if (existing) {
    for (const auto& u : existing->upstreams)
      if (u.code == parent.code)
        refuse(Status::not_found("配置文件已有上级 " + parent.code +
                                 "：如需更换，请先删除该 [[upstream]]"));
    text = base_text + "\n# 入网（liandong join，" + local_time(wall_clock_ms()) + "）\n" +
           upstream_toml(parent);
    if (jc.code.size() < 12 && !existing->listen_endpoint) text += listen_tables;
  } else {
    text = "# 联动节点配置，由 liandong join 于 " + local_time(wall_clock_ms()) + " 写入（" +
           level_name_zh(jc.code) + " " + jc.code +
           "）。\n# 说明见 "
           "/usr/share/doc/liandong/examples/ 与 docs/OPERATIONS.md。\n\n[node]\ncode = \"" +
           jc.code + "\"\ndata = \"" + data.string() + "\"\nlog_level = \"info\"\n\n" +
           upstream_toml(parent);
    if (jc.code.size() < 12) text += listen_tables;
  }
  auto check = config::parse_config(text, config_file.string(), config_file.parent_path());
  if (auto* err = std::get_if<config::ConfigError>(&check))
    fail(Status::invalid("入网后的配置有误，未写入：" + err->message));
  fs::create_directories(config_file.parent_path(), ec);
  write_atomically(config_file, text);
  adopt_owner(data);

  if (a.json) {
    print(json_text(Json{{"code", jc.code},
                         {"parent", parent.code},
                         {"endpoint", parent.endpoint},
                         {"config", config_file.string()},
                         {"data", data.string()}}) +
          "\n");
    return 0;
  }
  print("已入网：本节点 " + jc.code + "（" + level_name_zh(jc.code) + "），上级 " + parent.code +
        "（" + parent.endpoint + "）。\n配置已写入 " + config_file.string() +
        "。\n请启动本节点：systemctl start liandong（或 liandong run --config " +
        config_file.string() + "）\n");
  return 0;
}

}  // namespace

void add_enroll_commands(CLI::App& app, CliShared& shared, CommandSet& out) {
  auto* enroll = app.add_subcommand(
      "enroll", "enroll a new child node with a one-time join code (入网; township or county)");
  enroll->require_subcommand(1);

  struct CreateArgs {
    std::string code, expires = "72h", address;
  };
  auto ca = std::make_shared<CreateArgs>();
  auto* c_create = enroll->add_subcommand("create", "make a one-time join code for a new child");
  shared.add_data(c_create);
  c_create->add_option("code", ca->code, "the new node's division code, e.g. 360723101007")
      ->required();
  c_create->add_option("--expires", ca->expires, "valid for (default 72h; e.g. 30m, 7d)");
  c_create->add_option("--address", ca->address,
                       "host the child reaches this node at (default: [enroll] address)");
  c_create->add_flag("--json", shared.json, "print JSON");
  bool& json = shared.json;
  out.push_back({.app = c_create, .run = [ca, &json] {
                   return cmd_enroll_create(ca->code, ca->expires, ca->address, json);
                 }});

  auto* c_list = enroll->add_subcommand("list", "children enrolled here and the join codes made");
  shared.add_data(c_list);
  c_list->add_flag("--json", shared.json, "print JSON");
  std::string& data = shared.data;
  out.push_back({.app = c_list, .run = [&data, &json] { return cmd_enroll_list(data, json); }});

  struct RemoveArgs {
    std::string code, reason;
  };
  auto ra = std::make_shared<RemoveArgs>();
  auto* c_remove = enroll->add_subcommand(
      "remove", "stop admitting an enrolled child (e.g. a stolen laptop; then enroll the new one)");
  shared.add_data(c_remove);
  shared.add_actor(c_remove);
  c_remove->add_option("code", ra->code, "the child's division code")->required();
  c_remove->add_option("--reason", ra->reason, "why, e.g. 笔记本电脑被盗")->required();
  ActorOptions& actor = shared.actor;
  out.push_back({.app = c_remove, .run = [ra, &actor] {
                   return cmd_enroll_remove(ra->code, ra->reason, actor.name);
                 }});

  auto ja = std::make_shared<JoinArgs>();
  auto* c_join = app.add_subcommand(
      "join", "join the parent that gave this one-time code: makes the store and keys if none");
  c_join->add_option("join_code", ja->join_code, "the join code, LD-…")->required();
  c_join->add_option(
      "--config", ja->config,
      "config file to write or add the parent to (default /etc/liandong/liandong.toml)");
  c_join->add_option("--data", ja->data,
                     "data directory for a new config (default /var/lib/liandong)");
  c_join->add_option("--listen", ja->listen,
                     "a new township's or county's [listen] endpoint (default tcp://0.0.0.0:7601)");
  c_join->add_option("--enroll-endpoint", ja->enroll,
                     "a new township's or county's [enroll] endpoint (default tcp://0.0.0.0:7602)");
  c_join->add_flag("--json", ja->json, "print JSON");
  out.push_back({.app = c_join, .run = [ja] { return cmd_join(*ja); }});
}

}  // namespace liandong::node
