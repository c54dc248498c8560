#include "node/enroll.h"

#include <sodium.h>
#include <spdlog/spdlog.h>

#include <capnp/message.h>
#include <capnp/serialize.h>
#include <cstring>
#include <sstream>

#include "config/value_checks.h"
#include "node/join_code.h"
#include "protocol/enroll.capnp.h"
#include "protocol/hlc.h"
#include "protocol/ids.h"

namespace liandong::node {

namespace {

constexpr std::string_view kCodePrefix = "enroll/code/";
constexpr std::string_view kChildPrefix = "enroll/child/";
constexpr std::size_t kMaxEnrollMessageBytes = 8192;
// Joins answered per 10 s; more wait (a guesser gains nothing by speed).
constexpr int kJoinsPerWindow = 30;

std::string secret_hash(const JoinSecret& s) {
  unsigned char h[32];
  crypto_generichash(h, sizeof h, s.data(), s.size(), nullptr, 0);
  return to_hex(std::string_view(reinterpret_cast<const char*>(h), sizeof h));
}

std::string data_text(capnp::Data::Reader d) {
  return std::string(reinterpret_cast<const char*>(d.begin()), d.size());
}

std::string encode(capnp::MallocMessageBuilder& m) {
  auto words = capnp::messageToFlatArray(m);
  auto bytes = words.asBytes();
  return std::string(reinterpret_cast<const char*>(bytes.begin()), bytes.size());
}

std::string refusal(const std::string& why) {
  capnp::MallocMessageBuilder m;
  m.initRoot<proto::EnrollMessage>().setRefused(why);
  return encode(m);
}

// The port of "tcp://HOST:PORT", 0 if none.
uint16_t port_of(const std::string& endpoint) {
  const auto colon = endpoint.rfind(':');
  if (colon == std::string::npos) return 0;
  try {
    const int p = std::stoi(endpoint.substr(colon + 1));
    return p > 0 && p < 65536 ? static_cast<uint16_t>(p) : 0;
  } catch (...) {
    return 0;
  }
}

std::string host_of(const std::string& endpoint) {
  std::string s = endpoint.rfind("tcp://", 0) == 0 ? endpoint.substr(6) : endpoint;
  const auto colon = s.rfind(':');
  if (colon != std::string::npos) s.resize(colon);
  if (s == "*" || s == "0.0.0.0" || s == "[::]" || s == "::") return "";
  return s;
}

}  // namespace

Result<std::vector<EnrolledChild>> enrolled_children(const storage::Store& store) {
  auto rows = store.sync_scan(kChildPrefix);
  if (!rows.ok()) return rows.status();
  std::vector<EnrolledChild> out;
  for (const auto& [key, value] : *rows) {
    EnrolledChild c;
    c.code = key.substr(kChildPrefix.size());
    std::istringstream in(value);
    in >> c.curve_key >> c.sign_key >> c.at_ms;
    if (!in || !valid_code(c.code))
      return Status::corruption("enrolled child entry '" + key + "' is malformed");
    out.push_back(std::move(c));
  }
  return out;
}

Result<std::vector<JoinCodeRecord>> join_code_records(const storage::Store& store) {
  auto rows = store.sync_scan(kCodePrefix);
  if (!rows.ok()) return rows.status();
  std::vector<JoinCodeRecord> out;
  for (const auto& [key, value] : *rows) {
    JoinCodeRecord r;
    r.code = key.substr(kCodePrefix.size());
    std::istringstream in(value);
    std::string version, hash;
    in >> version >> hash >> r.created_ms >> r.expires_ms >> r.state;
    if (!in) return Status::corruption("join code entry '" + key + "' is malformed");
    out.push_back(std::move(r));
  }
  return out;
}

std::vector<config::Child> admitted_children(const config::NodeConfig& cfg,
                                             const std::vector<EnrolledChild>& enrolled) {
  std::vector<config::Child> out = cfg.children;
  for (const auto& e : enrolled) {
    bool named = false;
    for (const auto& c : cfg.children)
      named = named || c.code == e.code || c.curve_key == e.curve_key;
    if (!named) out.push_back(config::Child{e.code, e.curve_key, e.sign_key});
  }
  return out;
}

Status Enrollment::open(zmq::context_t& ctx) {
  if (!d_.cfg.enroll.endpoint) return Status::ok();
  sock_ = std::make_unique<zmq::socket_t>(ctx, zmq::socket_type::router);
  sock_->set(zmq::sockopt::linger, 0);
  sock_->set(zmq::sockopt::maxmsgsize, static_cast<int64_t>(kMaxEnrollMessageBytes));
  sock_->set(zmq::sockopt::router_mandatory, 0);
  try {
    sock_->bind(*d_.cfg.enroll.endpoint);
  } catch (const zmq::error_t& e) {
    return Status::invalid("cannot listen for joins on " + *d_.cfg.enroll.endpoint + ": " +
                           e.what());
  }
  port_ = port_of(sock_->get(zmq::sockopt::last_endpoint));
  spdlog::info("taking joins (入网) on {}", sock_->get(zmq::sockopt::last_endpoint));
  return Status::ok();
}

void Enrollment::close() {
  if (sock_) sock_->close();
  sock_.reset();
}

void Enrollment::drain(int max) {
  if (!sock_) return;
  for (int i = 0; i < max; ++i) {
    zmq::message_t rid, body;
    try {
      if (!sock_->recv(rid, zmq::recv_flags::dontwait)) return;
      if (!rid.more()) continue;
      if (!sock_->recv(body)) return;
      // Anything more in the message is not ours to read.
      for (bool more = body.more(); more;) {
        zmq::message_t extra;
        if (!sock_->recv(extra)) return;
        more = extra.more();
      }
    } catch (const zmq::error_t& e) {
      d_.log.warn("enroll receive", "receive on the enrollment socket failed: {}", e.what());
      return;
    }
    std::string address;
    try {
      address = body.gets("Peer-Address");
    } catch (const zmq::error_t&) {
    }
    const std::string reply = answer(body.to_string(), address);
    try {
      sock_->send(rid, zmq::send_flags::sndmore);
      sock_->send(zmq::buffer(reply), zmq::send_flags::dontwait);
    } catch (const zmq::error_t& e) {
      d_.log.warn("enroll send", "reply on the enrollment socket failed: {}", e.what());
    }
  }
}

void Enrollment::refused(const std::string& code, const std::string& address,
                         const std::string& reason) {
  d_.log.warn("join refused", "join refused{}{} from {}: {}", code.empty() ? "" : " for ", code,
              address, reason);
  d_.audit.record(audit_note(proto::AuditWhat::ENROLL_REFUSED, valid_code(code) ? code : "",
                             address, "join", reason));
}

std::string Enrollment::answer(const std::string& bytes, const std::string& address) {
  if (bytes.empty() || bytes.size() % sizeof(capnp::word) != 0 ||
      bytes.size() > kMaxEnrollMessageBytes) {
    refused("", address, "malformed join message");
    return refusal("入网请求格式有误");
  }
  std::vector<capnp::word> words(bytes.size() / sizeof(capnp::word));
  std::memcpy(words.data(), bytes.data(), bytes.size());
  try {
    capnp::ReaderOptions opts;
    opts.traversalLimitInWords = words.size() * 2 + 256;
    opts.nestingLimit = 8;
    capnp::FlatArrayMessageReader reader(
        kj::ArrayPtr<const capnp::word>(words.data(), words.size()), opts);
    auto msg = reader.getRoot<proto::EnrollMessage>();
    if (msg.isHello()) {
      capnp::MallocMessageBuilder m;
      auto k = m.initRoot<proto::EnrollMessage>().initKeys();
      k.setCode(d_.cfg.code);
      k.setCurveKey(capnp::Data::Reader(d_.id.curve.pub.data(), 32));
      k.setSignKey(capnp::Data::Reader(d_.id.sign.pub.data(), 32));
      k.setSyncPort(d_.sync_port ? d_.sync_port() : 0);
      return encode(m);
    }
    if (!msg.isJoin()) {
      refused("", address, "unexpected enrollment message");
      return refusal("入网请求格式有误");
    }
    const auto now = std::chrono::steady_clock::now();
    if (now - window_start_ >= std::chrono::seconds(10)) {
      window_start_ = now;
      window_joins_ = 0;
    }
    if (++window_joins_ > kJoinsPerWindow) return refusal("入网请求过多，请稍后再试");
    auto j = msg.getJoin();
    const std::string sender = data_text(j.getCurveKey());
    const std::string nonce = data_text(j.getNonce());
    const std::string box = data_text(j.getBox());
    if (sender.size() != crypto_box_PUBLICKEYBYTES || nonce.size() != crypto_box_NONCEBYTES ||
        box.size() < crypto_box_MACBYTES || box.size() > 4096) {
      refused("", address, "malformed sealed join");
      return refusal("入网请求格式有误");
    }
    std::string plain(box.size() - crypto_box_MACBYTES, '\0');
    if (crypto_box_open_easy(reinterpret_cast<unsigned char*>(plain.data()),
                             reinterpret_cast<const unsigned char*>(box.data()), box.size(),
                             reinterpret_cast<const unsigned char*>(nonce.data()),
                             reinterpret_cast<const unsigned char*>(sender.data()),
                             d_.id.curve.secret.data()) != 0) {
      refused("", address, "sealed join does not open with this node's key");
      return refusal("入网请求无法解密：入网码不是本节点生成的");
    }
    std::string reason;
    const std::string code = join(sender, plain, address, reason);
    capnp::MallocMessageBuilder am;
    auto a = am.initRoot<proto::JoinAnswer>();
    a.setOk(reason.empty());
    a.setReason(reason);
    a.setCode(d_.cfg.code);
    const std::string answer_plain = encode(am);
    std::string out_nonce(crypto_box_NONCEBYTES, '\0');
    randombytes_buf(out_nonce.data(), out_nonce.size());
    std::string sealed(answer_plain.size() + crypto_box_MACBYTES, '\0');
    if (crypto_box_easy(
            reinterpret_cast<unsigned char*>(sealed.data()),
            reinterpret_cast<const unsigned char*>(answer_plain.data()), answer_plain.size(),
            reinterpret_cast<const unsigned char*>(out_nonce.data()),
            reinterpret_cast<const unsigned char*>(sender.data()), d_.id.curve.secret.data()) != 0)
      return refusal("本节点无法加密答复");
    capnp::MallocMessageBuilder m;
    auto s = m.initRoot<proto::EnrollMessage>().initAnswer();
    s.setCurveKey(capnp::Data::Reader(d_.id.curve.pub.data(), 32));
    s.setNonce(
        capnp::Data::Reader(reinterpret_cast<const uint8_t*>(out_nonce.data()), out_nonce.size()));
    s.setBox(capnp::Data::Reader(reinterpret_cast<const uint8_t*>(sealed.data()), sealed.size()));
    return encode(m);
  } catch (const kj::Exception& e) {
    refused("", address, std::string("malformed join message: ") + e.getDescription().cStr());
    return refusal("入网请求格式有误");
  }
}

std::string Enrollment::join(const std::string& sender, const std::string& request,
                             const std::string& address, std::string& reason) {
  if (request.empty() || request.size() % sizeof(capnp::word) != 0) {
    reason = "入网请求格式有误";
    refused("", address, "malformed join request");
    return "";
  }
  std::vector<capnp::word> words(request.size() / sizeof(capnp::word));
  std::memcpy(words.data(), request.data(), request.size());
  capnp::ReaderOptions opts;
  opts.traversalLimitInWords = words.size() * 2 + 256;
  opts.nestingLimit = 4;
  capnp::FlatArrayMessageReader reader(kj::ArrayPtr<const capnp::word>(words.data(), words.size()),
                                       opts);
  auto r = reader.getRoot<proto::JoinRequest>();
  const std::string code(r.getCode().cStr());
  const std::string secret = data_text(r.getSecret());
  const std::string sign = data_text(r.getSignKey());
  auto fail = [&](const std::string& zh, const std::string& why) {
    reason = zh;
    refused(code, address, why);
    return code;
  };
  if (!valid_code(code) || secret.size() != 8 || sign.size() != 32)
    return fail("入网请求格式有误", "malformed join request");
  if (!config::is_strict_ancestor(d_.cfg.code, code))
    return fail(code + " 不在本节点（" + d_.cfg.code + "）辖区内",
                "a join for " + code + ", outside this node's jurisdiction");
  auto held = d_.store.sync_get(std::string(kCodePrefix) + code);
  if (!held.ok()) return fail("本节点存储出错，请稍后再试", held.status().message());
  if (!*held)
    return fail("本节点没有为 " + code + " 生成入网码", "no join code was made for " + code);
  std::istringstream in(**held);
  std::string version, hash, state;
  uint64_t created = 0, expires = 0;
  in >> version >> hash >> created >> expires >> state;
  if (state == "used")
    return fail("入网码已使用过，每个入网码只能用一次", "the join code was used already");
  if (wall_clock_ms() > expires) return fail("入网码已过期，请重新生成", "the join code expired");
  JoinSecret s{};
  std::memcpy(s.data(), secret.data(), s.size());
  const std::string got = secret_hash(s);
  if (got.size() != hash.size() || sodium_memcmp(got.data(), hash.data(), got.size()) != 0)
    return fail("入网码不符，请核对后重输", "wrong secret");
  const std::string curve_z85 = to_z85(sender);
  auto enrolled = enrolled_children(d_.store);
  if (!enrolled.ok()) return fail("本节点存储出错，请稍后再试", enrolled.status().message());
  for (const auto& c : admitted_children(d_.cfg, *enrolled)) {
    if (c.curve_key == curve_z85 && c.code != code)
      return fail("该设备的连接密钥已登记给 " + c.code, "its link key is " + c.code + "'s");
  }
  PublicKey key{};
  std::memcpy(key.data(), sign.data(), key.size());
  const uint64_t now = wall_clock_ms();
  if (auto st = d_.store.sync_put(
          std::string(kCodePrefix) + code,
          "1 " + hash + " " + std::to_string(created) + " " + std::to_string(expires) + " used");
      !st)
    return fail("本节点存储出错，请稍后再试", st.message());
  if (auto st = d_.store.sync_put(std::string(kChildPrefix) + code,
                                  curve_z85 + " " + to_hex(key) + " " + std::to_string(now));
      !st)
    return fail("本节点存储出错，请稍后再试", st.message());
  auto had = d_.store.key(code);
  if (auto st = d_.store.put_key(code, key); !st)
    return fail("本节点存储出错，请稍后再试", st.message());
  if (had.ok() && *had && **had != key)
    d_.audit.record(audit_note(proto::AuditWhat::KEY_CHANGED, code, d_.cfg.code,
                               "signing key " + to_hex(key), "replaced by enrollment"));
  spdlog::info("{} joined (入网) from {}: link key {}", code, address, curve_z85);
  d_.audit.record(audit_note(proto::AuditWhat::NODE_ENROLLED, code, address,
                             "CurveZMQ " + curve_z85 + " signing key " + to_hex(key),
                             "入网：一次性入网码"));
  if (d_.children_changed) d_.children_changed();
  return code;
}

Result<IssuedCode> Enrollment::issue(const std::string& code, std::chrono::seconds valid,
                                     const std::string& address) {
  if (!sock_)
    return Status::not_found(
        "本节点未开放入网：请在配置文件中加入 [enroll] endpoint（及 address）并重新加载配置");
  if (!valid_code(code) || !config::is_strict_ancestor(d_.cfg.code, code)) {
    d_.audit.record(audit_note(
        proto::AuditWhat::ENROLL_REFUSED, valid_code(code) ? code : "", "enroll create",
        "join code", "a join code asked for " + code + ", outside this node's jurisdiction"));
    return Status::invalid(code + " 不在本节点（" + d_.cfg.code + "）辖区内，不能为其生成入网码");
  }
  if (valid < std::chrono::minutes(1) || valid > std::chrono::hours(24 * 30))
    return Status::invalid("有效期须在 1 分钟到 30 天之间");
  auto enrolled = enrolled_children(d_.store);
  if (!enrolled.ok()) return enrolled.status();
  for (const auto& c : admitted_children(d_.cfg, *enrolled)) {
    if (c.code == code)
      return Status::not_found(code + " 已是本节点的下级；更换设备请先 `liandong enroll remove " +
                               code + "`（配置文件中列出的须从文件中删除）");
  }
  std::string host = address.empty() ? d_.cfg.enroll.address : address;
  if (host.empty()) host = host_of(*d_.cfg.enroll.endpoint);
  if (host.empty())
    return Status::not_found(
        "不知道下级用什么地址连接本节点：请在配置文件 [enroll] 中填写 address，或用 --address "
        "指定");
  if (host.size() > 63) return Status::invalid("地址过长（至多 63 个字符）");
  JoinCode jc;
  jc.code = code;
  jc.host = host;
  jc.port = port_;
  jc.fingerprint = key_fingerprint(d_.id.curve.pub, d_.id.sign.pub);
  randombytes_buf(jc.secret.data(), jc.secret.size());
  const uint64_t now = wall_clock_ms();
  const uint64_t expires = now + static_cast<uint64_t>(valid.count()) * 1000;
  if (auto st = d_.store.sync_put(std::string(kCodePrefix) + code,
                                  "1 " + secret_hash(jc.secret) + " " + std::to_string(now) + " " +
                                      std::to_string(expires) + " pending");
      !st)
    return st;
  return IssuedCode{format_join_code(jc), code, host, port_, expires};
}

Status Enrollment::remove(const std::string& code, const std::string& reason,
                          const std::string& actor) {
  auto held = d_.store.sync_get(std::string(kChildPrefix) + code);
  if (!held.ok()) return held.status();
  if (!*held) {
    for (const auto& c : d_.cfg.children)
      if (c.code == code)
        return Status::not_found(code + " 是配置文件中列出的下级：请从配置文件中删除后重新加载");
    return Status::not_found(code + " 不是经入网码加入的下级");
  }
  const std::vector<std::string> keys = {std::string(kChildPrefix) + code,
                                         std::string(kCodePrefix) + code};
  if (auto st = d_.store.sync_erase(keys); !st) return st;
  AuditNote n =
      audit_note(proto::AuditWhat::NODE_ENROLLED, code, actor, "enroll remove", "移出：" + reason);
  n.actor_name = actor;
  n.actor_role = proto::Role::DIRECTOR;
  d_.audit.record(n);
  spdlog::info("{} removed from the enrolled children: {}", code, reason);
  if (d_.children_changed) d_.children_changed();
  return Status::ok();
}

}  // namespace liandong::node
