#include "node/app/case_files.h"

#include <algorithm>

#include "storage/store.h"

namespace liandong::app {

namespace {

std::string text(capnp::Text::Reader t) {
  return std::string(t.cStr(), t.size());
}
std::string bytes_of(capnp::Data::Reader d) {
  return std::string(reinterpret_cast<const char*>(d.begin()), d.size());
}

// This node's own custody bit, by the length of its division code.
uint8_t own_level(const std::string& code) {
  if (code.size() >= 12) return storage::kHeldVillage;
  if (code.size() >= 9) return storage::kHeldTownship;
  return storage::kHeldCounty;
}

}  // namespace

std::string hex_of(const std::string& bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    out.push_back(kHex[c >> 4]);
    out.push_back(kHex[c & 15]);
  }
  return out;
}

AppResult<std::vector<CaseFile>> case_files(const Context& ctx, const std::string& case_id) {
  auto id = parse_id(case_id);
  if (!id)
    return AppError{Status::invalid(
        "'" + case_id + "' 不是办件编号，应形如 360723101007-000042 (not a case number)")};
  auto st = ctx.store.get_case(*id);
  if (!st.ok()) return AppError{st.status()};
  if (!*st)
    return AppError{
        Status::not_found("本机没有办件 " + case_id + " (no case " + case_id + " here)")};
  auto events = ctx.store.case_events(*id);
  if (!events.ok()) return AppError{events.status()};
  std::vector<CaseFile> out;
  const uint8_t own = own_level(ctx.store.code());
  for (const auto& e : *events) {
    for (auto ref : attachments_of(e.view.event())) {
      CaseFile f;
      f.sha256 = bytes_of(ref.getSha256());
      if (std::any_of(out.begin(), out.end(),
                      [&](const CaseFile& o) { return o.sha256 == f.sha256; }))
        continue;
      f.name = text(ref.getName());
      f.material = text(ref.getMaterial());
      f.media_type = text(ref.getMediaType());
      f.size = ref.getSize();
      f.event = e.view.id();
      f.kind = e.view.kind();
      f.chunks = ref.getChunks().size();
      auto rec = ctx.store.file(f.sha256);
      if (!rec.ok()) return AppError{rec.status()};
      if (*rec) {
        f.whole = (*rec)->whole;
        f.levels = (*rec)->levels;
        if (f.whole) {
          f.chunks_held = f.chunks;
          f.levels |= own;
        } else {
          auto missing = ctx.store.missing_chunks(**rec, f.chunks);
          if (!missing.ok()) return AppError{missing.status()};
          f.chunks_held = f.chunks - std::min<uint64_t>(f.chunks, missing->size());
        }
      }
      out.push_back(std::move(f));
    }
  }
  return out;
}

AppResult<CaseFile> find_case_file(const std::vector<CaseFile>& files, const std::string& key) {
  std::vector<const CaseFile*> hits;
  for (const auto& f : files)
    if (f.name == key) hits.push_back(&f);
  if (hits.empty() && key.size() >= 8) {
    std::string lower = key;
    std::transform(lower.begin(), lower.end(), lower.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    for (const auto& f : files)
      if (hex_of(f.sha256).starts_with(lower)) hits.push_back(&f);
  }
  if (hits.size() == 1) return *hits.front();
  if (hits.size() > 1)
    return AppError{Status::invalid("“" + key + "”对应多个附件，请用更长的 sha256 前缀")};
  return AppError{
      Status::not_found("本件没有附件“" + key + "”（可用文件名，或 sha256 的前 8 位以上）")};
}

AppResult<std::string> read_case_file(const Context& ctx, const CaseFile& f) {
  auto bytes = ctx.store.read_file(f.sha256);
  if (!bytes.ok()) return AppError{bytes.status()};
  if (!*bytes)
    return AppError{Status::not_found("附件尚在传输中（已收 " + std::to_string(f.chunks_held) +
                                      "/" + std::to_string(f.chunks) + " 块）"),
                    true};
  return std::move(**bytes);
}

std::string custody_zh(const CaseFile& f) {
  if (!f.whole)
    return "传输中（已收 " + std::to_string(f.chunks_held) + "/" + std::to_string(f.chunks) +
           " 块）";
  if (f.levels & storage::kHeldCounty) return "已达县";
  if (f.levels & storage::kHeldTownship) return "已达乡镇";
  return "本机";
}

std::vector<std::string> held_at(const CaseFile& f) {
  std::vector<std::string> out;
  if (f.levels & storage::kHeldVillage) out.emplace_back("village");
  if (f.levels & storage::kHeldTownship) out.emplace_back("township");
  if (f.levels & storage::kHeldCounty) out.emplace_back("county");
  return out;
}

const char* file_event_zh(EventKind kind) {
  switch (kind) {
    case EventKind::submitted:
      return "申请登记";
    case EventKind::supplemented:
      return "补正材料";
    case EventKind::decided:
      return "办结";
    default:
      return "其他";
  }
}

}  // namespace liandong::app
