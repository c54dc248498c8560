// Writes the binary seed corpora of the fuzz targets: real sync messages
// and sealed events built with the codecs, the stored forms of a cursor and
// a folded case, and a few edge cases. Run once by hand; its output is
// checked in under tests/fuzz/corpus/ (the TOML corpora are written by hand):
//
//   build/tests/fuzz/fuzz_make_seeds tests/fuzz/corpus
//
// Events are signed with fresh keys, so each run writes different bytes.
#include <capnp/message.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <stdexcept>
#include <string>
#include <vector>

#include "node/bundle_file.h"
#include "protocol/crypto.h"
#include "protocol/event_codec.h"
#include "protocol/sync_codec.h"
#include "storage/case_fold.h"
#include "storage/store_blobs.h"
#include "storage/test_events.h"
#include "tests/fuzz/bundle_keys.h"

namespace {

using namespace liandong;
using namespace liandong::test;
namespace fs = std::filesystem;

void put(const fs::path& dir, const std::string& name, const std::string& bytes) {
  fs::create_directories(dir);
  std::ofstream out(dir / name, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (!out) throw std::runtime_error("cannot write " + (dir / name).string());
}

template <typename Fill>
std::string message(Fill fill) {
  capnp::MallocMessageBuilder msg;
  fill(msg.initRoot<proto::SyncMessage>());
  return sync::encode(msg);
}

template <typename B>
void handshake(B b, const std::string& code, const SigningKey& key, uint64_t lsn) {
  b.setVersion(sync::kProtocolVersion);
  b.setCode(code);
  b.setStoreId("3f9c2a71d04e4b8e");
  sync::write_cursor(b.initHave(), sync::CursorValue{"a81d5e0c9b7f4a12", lsn, {kCounty, 7}});
  b.initCapabilities(1).set(0, "zstd");
  auto keys = b.initKeys(1);
  keys[0].setCode(code);
  keys[0].setKey(capnp::Data::Reader(key.pub.data(), key.pub.size()));
  b.setYourNextSeq(42);
}

void batch(proto::Batch::Builder b, const std::vector<std::string>& events, bool compress,
           uint64_t from) {
  const auto packed = sync::pack_events(events, compress);
  b.setFromLsn(from);
  b.setToLsn(from + events.size() + 1);
  write_id(b.initLastId(), Id{kVillage, 9});
  b.setCount(static_cast<uint32_t>(events.size()));
  b.setCompression(packed.compressed ? proto::Compression::ZSTD : proto::Compression::NONE);
  b.setEvents(capnp::Data::Reader(reinterpret_cast<const capnp::byte*>(packed.data.data()),
                                  packed.data.size()));
  b.setRawBytes(packed.raw_bytes);
}

capnp::Data::Reader data_of(const std::string& s) {
  return capnp::Data::Reader(reinterpret_cast<const capnp::byte*>(s.data()), s.size());
}

// The attachment messages (node/transfers.h), valid and at each limit of
// node/sync/messages.h's decoding, one byte either side: 16/17 chunks a
// request, 64 KiB / 64 KiB + 1 of data, 256/257 files a query, 32/31-byte
// hashes, data with `missing`, a request for no chunk.
void transfer_seeds(const fs::path& dir) {
  auto hash = [](int i, std::size_t len = 32) {
    const std::string seed = "chunk-" + std::to_string(i);
    std::string h = storage::sha256_of(seed);
    return h.substr(0, std::min(len, h.size())) + std::string(len > 32 ? len - 32 : 0, 'x');
  };
  const std::string file = storage::sha256_of("户口簿首页.jpg");
  auto request = [&](const std::string& name, int n, std::size_t file_len, std::size_t chunk_len) {
    put(dir, name, message([&](proto::SyncMessage::Builder m) {
          auto r = m.initChunkRequest();
          const std::string f = file.substr(0, std::min(file_len, file.size()));
          r.setFile(data_of(f));
          auto cs = r.initChunks(static_cast<unsigned>(n));
          for (int i = 0; i < n; ++i)
            cs.set(static_cast<unsigned>(i), data_of(hash(i, chunk_len)));
        }));
  };
  request("chunk-request", 2, 32, 32);
  request("chunk-request-16", 16, 32, 32);
  request("chunk-request-17", 17, 32, 32);
  request("chunk-request-none", 0, 32, 32);
  request("chunk-request-file-hash-31", 1, 31, 32);
  request("chunk-request-chunk-hash-31", 3, 32, 31);

  auto chunk = [&](const std::string& name, std::size_t bytes, bool missing, std::size_t hash_len) {
    std::string payload(bytes, '\0');
    for (std::size_t i = 0; i < bytes; ++i)
      payload[i] = static_cast<char>((i * 131 + 7) & 0xff);  // not all zero: packing keeps it
    put(dir, name, message([&](proto::SyncMessage::Builder m) {
          auto c = m.initChunk();
          c.setFile(data_of(file));
          c.setHash(
              data_of(bytes ? storage::sha256_of(payload).substr(0, hash_len) : hash(0, hash_len)));
          c.setData(data_of(payload));
          c.setMissing(missing);
        }));
  };
  chunk("chunk", 3000, false, 32);
  chunk("chunk-65536", 65536, false, 32);
  chunk("chunk-65537", 65537, false, 32);
  chunk("chunk-hash-31", 100, false, 31);
  chunk("chunk-missing", 0, true, 32);
  chunk("chunk-missing-with-data", 10, true, 32);
  chunk("chunk-empty-not-missing", 0, false, 32);

  auto query = [&](const std::string& name, int n, std::size_t len) {
    put(dir, name, message([&](proto::SyncMessage::Builder m) {
          auto fs = m.initFilesQuery(static_cast<unsigned>(n));
          for (int i = 0; i < n; ++i)
            fs.set(static_cast<unsigned>(i), data_of(hash(100 + i, i == n - 1 ? len : 32)));
        }));
  };
  query("files-query", 3, 32);
  query("files-query-256", 256, 32);
  query("files-query-257", 257, 32);
  query("files-query-hash-31", 2, 31);
  query("files-query-empty", 0, 32);

  auto held = [&](const std::string& name, int n, std::size_t len) {
    put(dir, name, message([&](proto::SyncMessage::Builder m) {
          auto fs = m.initFilesHeld(static_cast<unsigned>(n));
          for (int i = 0; i < n; ++i) {
            fs[static_cast<unsigned>(i)].setFile(data_of(hash(200 + i, i == n - 1 ? len : 32)));
            fs[static_cast<unsigned>(i)].setLevels(static_cast<uint8_t>(i % 8));
          }
        }));
  };
  held("files-held", 3, 32);
  held("files-held-257", 257, 32);
  held("files-held-hash-31", 2, 31);
  put(dir, "files-held-levels-ff", message([&](proto::SyncMessage::Builder m) {
        auto fs = m.initFilesHeld(1);
        fs[0].setFile(data_of(file));
        fs[0].setLevels(0xff);
      }));
}

}  // namespace

// Bundle seeds (tests/fuzz/bundle_fuzz.cpp): the first byte picks the
// reader. A whole bundle from the village to its township with the fixed
// keys of bundle_keys.h, its header alone, and each kind of item.
void bundle_seeds(const fs::path& dir, const std::vector<std::string>& events) {
  node::BundleHeader h;
  h.kind = proto::BundleKind::UP;
  h.from = fuzz::kBundleFrom;
  h.to = fuzz::kBundleTo;
  h.from_store = "3f9c2a71d04e4b8e";
  h.created_ms = fuzz::kBundleNowMs - 3600000;
  h.expires_ms = fuzz::kBundleNowMs + 3600000;
  std::vector<node::BundleItem> items(6);
  items[0].kind = node::BundleItem::Kind::keys;
  items[0].keys = {{kVillage, fuzz::bundle_signer().pub}, {kTownship, std::nullopt}};
  items[1].kind = node::BundleItem::Kind::have;
  items[1].have = {"7d1e0c55aa904f12", 40, Id{kTownship, 40}};
  items[2].kind = node::BundleItem::Kind::range;
  items[2].range = {0, 12, Id{kVillage, 12}, {events[0], events[3]}};
  items[3].kind = node::BundleItem::Kind::chunk;
  items[3].chunk = {std::string(32, 'f'), storage::sha256_of("scan"), "scan"};
  items[4].kind = node::BundleItem::Kind::asks;
  items[4].asks = {std::string(32, 'f')};
  items[5].kind = node::BundleItem::Kind::custody;
  items[5].custody = {12, {{std::string(32, 'f'), 3}}};
  const fs::path tmp = dir / "whole.tmp";
  fs::create_directories(dir);
  auto w =
      node::BundleWriter::create(tmp, h, fuzz::bundle_signer(), fuzz::bundle_reader_keys().pub);
  if (!w.ok()) throw std::runtime_error(w.status().message());
  for (std::size_t i = 0; i < 5; ++i)
    if (auto st = (*w)->add(items[i]); !st) throw std::runtime_error(st.message());
  if (auto st = (*w)->finish(); !st) throw std::runtime_error(st.message());
  std::ifstream in(tmp, std::ios::binary);
  const std::string whole((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  fs::remove(tmp);
  put(dir, "whole", std::string(1, '\2') + whole);
  put(dir, "whole-cut", std::string(1, '\2') + whole.substr(0, whole.size() - 20));
  auto header = node::parse_bundle_header(whole);
  if (!header.ok()) throw std::runtime_error(header.status().message());
  put(dir, "header", std::string(1, '\0') + whole.substr(0, header->consumed));
  const char* names[] = {"item-keys",  "item-have", "item-range",
                         "item-chunk", "item-asks", "item-custody"};
  for (std::size_t i = 0; i < items.size(); ++i)
    put(dir, names[i], std::string(1, '\1') + node::encode_item(items[i]));
  node::BundleItem refusals;
  refusals.kind = node::BundleItem::Kind::refusals;
  refusals.refusals = {{Id{kVillage, 3}, "authority: not in the child's subtree", kTownship,
                        proto::RefusalCause::AUTHORITY, fuzz::kBundleNowMs}};
  put(dir, "item-refusals", std::string(1, '\1') + node::encode_item(refusals));
}

int main(int argc, char** argv) {
  if (argc != 2 || !crypto_ready()) {
    std::cerr << "usage: " << argv[0] << " CORPUS-DIR\n";
    return 2;
  }
  const fs::path root(argv[1]);
  Forge forge;

  // A case's life, one event of most kinds, and two broadcasts.
  std::vector<std::string> events;
  const std::string sub = forge.submit(kVillage, kVillage, hlc_at(0));
  const Id case_id{kVillage, 1};
  events.push_back(sub);
  events.push_back(forge.act(kTownship, case_id, kVillage, hlc_at(10), accepted_body()));
  events.push_back(
      forge.act(kTownship, case_id, kVillage, hlc_at(20), supplement_requested_body()));
  events.push_back(forge.act(kVillage, case_id, kVillage, hlc_at(30), supplemented_body()));
  events.push_back(forge.act(kTownship, case_id, kVillage, hlc_at(40), escalated_body(kCounty)));
  events.push_back(
      forge.act(kCounty, case_id, kVillage, hlc_at(50), assigned_body({"林业", "国土"})));
  events.push_back(forge.act(kCounty, case_id, kVillage, hlc_at(60), opinion_body("林业")));
  events.push_back(forge.act(kCounty, case_id, kVillage, hlc_at(70), decided_body(false)));
  events.push_back(forge.act(kVillage, case_id, kVillage, hlc_at(80), delivered_body()));
  events.push_back(forge.act(kVillage, case_id, kVillage, hlc_at(90), rated_body(4)));
  events.push_back(forge.act(kVillage, case_id, kVillage, hlc_at(95), fee_collected_body()));
  events.push_back(
      forge.act(kCounty, case_id, kVillage, hlc_at(100), closed_body(), {Id{kTownship, 2}}));
  events.push_back(forge.act(kVillage, case_id, kVillage, hlc_at(110), withdrawn_body()));
  events.push_back(forge.act(kVillage, case_id, kVillage, hlc_at(120), comment_body()));
  events.push_back(forge.act(kVillage, case_id, kVillage, hlc_at(130), complaint_body()));
  events.push_back(forge.act(kTownship, case_id, kVillage, hlc_at(140), replied_body()));
  events.push_back(forge.broadcast(kCounty, hlc_at(150), catalog_body("version = 1\n")));
  events.push_back(forge.broadcast(kCounty, hlc_at(160), calendar_body()));
  // Key events and the staff roster.
  const SigningKey next = generate_signing_key();
  events.push_back(
      forge.broadcast(kTownship, hlc_at(170), rotated_body(kTownship, forge.key(kTownship), next)));
  events.push_back(forge.broadcast(
      kCounty, hlc_at(180), keys_body(kVillage, next.pub, proto::KeyState::REVOKED, 9, "被盗")));
  events.push_back(forge.broadcast(kCounty, hlc_at(190), [](proto::Event::Builder ev) {
    auto r = ev.getBody().initRosterPublished();
    r.setVersion(1);
    const std::string doc =
        "version = 1\n[[staff]]\nname = \"王小红\"\nrole = \"agent\"\nnode = \"360723101007\"\n";
    r.setDocument(
        capnp::Data::Reader(reinterpret_cast<const capnp::byte*>(doc.data()), doc.size()));
  }));

  // Events that carry files (records.capnp AttachmentRef): each of the
  // three kinds, a file of one chunk and one of three (the last short).
  auto with_files = [](BodyFill body, auto list_of) -> BodyFill {
    return [body, list_of](proto::Event::Builder ev) {
      body(ev);
      auto as = list_of(ev.getBody()).initAttachments(2);
      const uint64_t sizes[] = {48213, 2 * kChunkBytes + 1000};
      const char* names[] = {"户口簿首页.jpg", "房屋危险性鉴定报告.pdf"};
      const char* types[] = {"image/jpeg", "application/pdf"};
      const char* materials[] = {"户口簿", "房屋危险性鉴定报告"};
      for (unsigned i = 0; i < 2; ++i) {
        as[i].setSha256(data_of(storage::sha256_of(names[i])));
        as[i].setSize(sizes[i]);
        as[i].setName(names[i]);
        as[i].setMediaType(types[i]);
        as[i].setMaterial(materials[i]);
        auto cs = as[i].initChunks(static_cast<unsigned>(chunk_count(sizes[i])));
        for (unsigned c = 0; c < cs.size(); ++c)
          cs.set(c, data_of(storage::sha256_of(std::string(names[i]) + std::to_string(c))));
      }
    };
  };
  std::vector<std::pair<std::string, std::string>> filed;
  filed.emplace_back("submitted-attachments",
                     forge.submit(kVillage, kVillage, hlc_at(200),
                                  with_files(submitted_body(), [](proto::Event::Body::Builder b) {
                                    return b.getSubmitted();
                                  })));
  filed.emplace_back("supplemented-attachments",
                     forge.act(kVillage, case_id, kVillage, hlc_at(210),
                               with_files(supplemented_body(), [](proto::Event::Body::Builder b) {
                                 return b.getSupplemented();
                               })));
  filed.emplace_back("decided-attachments",
                     forge.act(kCounty, case_id, kVillage, hlc_at(220),
                               with_files(decided_body(), [](proto::Event::Body::Builder b) {
                                 return b.getDecided();
                               })));

  const fs::path ev_dir = root / "signed_event";
  for (const auto& [name, e] : filed) {
    (void)must_parse(e);  // valid: validate_event accepts the refs
    put(ev_dir, name, e);
  }
  for (const auto& e : events) {
    const auto view = must_parse(e);
    put(ev_dir, std::string(kind_name(view.kind())), e);
  }
  put(ev_dir, "unsigned-submitted",
      Forge(false).submit(kVillage2, kVillage2, hlc_at(5), submitted_body("王五")));
  put(ev_dir, "edge-empty-envelope", std::string(16, '\0'));
  put(ev_dir, "edge-truncated", sub.substr(0, sub.size() / 2 / 8 * 8));

  const fs::path msg_dir = root / "sync_message";
  const auto& key = forge.key(kVillage);
  put(msg_dir, "hello",
      message([&](proto::SyncMessage::Builder m) { handshake(m.initHello(), kVillage, key, 12); }));
  put(msg_dir, "welcome", message([&](proto::SyncMessage::Builder m) {
        handshake(m.initWelcome(), kTownship, forge.key(kTownship), 0);
      }));
  put(msg_dir, "refused", message([](proto::SyncMessage::Builder m) {
        auto r = m.initRefused();
        r.setReason(proto::RefusalReason::OUTSIDE_JURISDICTION);
        r.setText("code 3607 is not a child this node admits");
      }));
  put(msg_dir, "batch-two-events", message([&](proto::SyncMessage::Builder m) {
        batch(m.initBatch(), {events[0], events[1]}, false, 0);
      }));
  put(msg_dir, "batch-zstd", message([&](proto::SyncMessage::Builder m) {
        batch(m.initBatch(), {events[2], events[3], events[16]}, true, 2);
      }));
  // Over the builder's first segment (8 KiB): a message of several segments.
  std::vector<std::string> many;
  for (int i = 0; i < 4; ++i)
    many.insert(many.end(), events.begin(), events.end());
  put(msg_dir, "batch-multi-segment",
      message([&](proto::SyncMessage::Builder m) { batch(m.initBatch(), many, false, 20); }));
  put(msg_dir, "batch-empty",
      message([&](proto::SyncMessage::Builder m) { batch(m.initBatch(), {}, false, 5); }));
  put(msg_dir, "ack-rejected", message([](proto::SyncMessage::Builder m) {
        auto a = m.initAck();
        sync::write_cursor(a.initHave(), sync::CursorValue{"", 17, {kVillage, 3}});
        a.setTopLsn(15);
        auto rej = a.initRejected(2);
        write_id(rej[0].initId(), Id{kVillage, 2});
        rej[0].setReason("bad signature on event 360723101007-000002");
        rej[1].setReason("unreadable");
      }));
  put(msg_dir, "ack-resend", message([](proto::SyncMessage::Builder m) {
        auto a = m.initAck();
        sync::write_cursor(a.initHave(), sync::CursorValue{"", 0, {}});
        a.setResend(true);
      }));
  put(msg_dir, "heartbeat", message([](proto::SyncMessage::Builder m) {
        auto h = m.initHeartbeat();
        h.setSentMs(kBaseMs);
        h.setEchoMs(kBaseMs - 40);
      }));
  put(msg_dir, "bye", message([](proto::SyncMessage::Builder m) { m.setBye(); }));
  put(msg_dir, "recover", message([](proto::SyncMessage::Builder m) { m.setRecover(); }));
  transfer_seeds(msg_dir);

  const fs::path cur_dir = root / "cursor";
  put(cur_dir, "cursor-zero", sync::encode_cursor({"3f9c2a71d04e4b8e", 0, {}}));
  put(cur_dir, "cursor-at", sync::encode_cursor({"3f9c2a71d04e4b8e", 1234, Id{kVillage, 1234}}));
  put(cur_dir, "cursor-no-store", sync::encode_cursor({"", 1, Id{kCounty, 1}}));
  std::vector<EventView> views;
  for (std::size_t i = 0; i < 12; ++i)
    views.push_back(must_parse(events[i]));
  std::vector<const EventView*> ptrs;
  for (const auto& v : views)
    ptrs.push_back(&v);
  put(cur_dir, "state-folded", storage::encode_state(storage::fold(ptrs)));
  put(cur_dir, "state-submitted", storage::encode_state(storage::fold({ptrs[0]})));
  put(cur_dir, "state-empty", storage::encode_state(storage::CaseState{}));
  bundle_seeds(root / "bundle", events);
  std::cout << "seeds written under " << root << "\n";
  return 0;
}
