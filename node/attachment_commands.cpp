// The attachment commands: `attachment list CASE` and `attachment get CASE
// FILE`, and what `submit --attach` and `act ... --attach` share (reading
// the files and the [attachments] settings). They parse and print; the
// rules are node/app/attachments.h's and node/app/case_files.h's.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>

#include "node/app/case_files.h"
#include "node/commands.h"
#include "node/json_text.h"
#include "node/render.h"

namespace liandong::node {

namespace fs = std::filesystem;

AttachConfig load_attach_config(const std::string& config_file, std::string& data) {
  AttachConfig out;
  out.config_file = config_file;
  if (config_file.empty()) return out;
  auto cfg = config::load_config(config_file);
  if (auto* err = std::get_if<config::ConfigError>(&cfg)) fail(Status::invalid(err->message));
  const auto& c = std::get<config::NodeConfig>(cfg);
  out.settings = c.attachments;
  if (data.empty()) data = c.data.string();
  return out;
}

std::vector<app::GivenFile> read_attachments(const std::vector<std::string>& specs) {
  std::vector<app::GivenFile> files;
  for (const auto& spec : specs) {
    const auto eq = spec.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == spec.size())
      fail(Status::invalid("--attach '" + spec + "' 应写作 材料名=文件路径 (MATERIAL=FILE)"));
    app::GivenFile f;
    f.material = spec.substr(0, eq);
    const std::string path = spec.substr(eq + 1);
    f.name = fs::path(path).filename().string();
    f.bytes = read_file(path, kMaxAttachmentBytes);
    files.push_back(std::move(f));
  }
  return files;
}

namespace {

std::string size_text(uint64_t bytes) {
  char buf[32];
  if (bytes >= (1u << 20))
    std::snprintf(buf, sizeof buf, "%.1f MB", double(bytes) / (1u << 20));
  else
    std::snprintf(buf, sizeof buf, "%.1f KB", double(bytes) / 1024);
  return buf;
}

struct AttachmentArgs {
  std::string case_id, file, out;
};

int cmd_list(const fs::path& data, const AttachmentArgs& a, bool json) {
  auto node = open_node(data);
  auto files = app::case_files(app_context(node), a.case_id);
  if (!files.ok()) fail_with(files.error());
  if (json) {
    Json list = Json::array();
    for (const auto& f : *files) {
      list.push_back(Json{{"sha256", app::hex_of(f.sha256)},
                          {"name", f.name},
                          {"material", f.material},
                          {"size", f.size},
                          {"media_type", f.media_type},
                          {"event", format_id(f.event)},
                          {"event_kind", kind_name(f.kind)},
                          {"whole", f.whole},
                          {"chunks_held", f.chunks_held},
                          {"chunks", f.chunks},
                          {"held_at", app::held_at(f)},
                          {"custody", app::custody_zh(f)}});
    }
    print(json_text(Json{{"case", a.case_id}, {"files", list}}) + "\n");
    return 0;
  }
  if (files->empty()) {
    print("办件 " + a.case_id + " 没有附件\n");
    return 0;
  }
  std::string out = "办件 " + a.case_id + " 的附件（" + std::to_string(files->size()) + " 个）：\n";
  for (const auto& f : *files) {
    out += "  " + f.name + "  材料：" + f.material + "  " + size_text(f.size) + "  " +
           f.media_type + "  " + app::file_event_zh(f.kind) + " " + format_id(f.event) + "  " +
           app::custody_zh(f) + "  sha256 " + app::hex_of(f.sha256).substr(0, 12) + "\n";
  }
  print(out);
  return 0;
}

int cmd_get(const fs::path& data, const AttachmentArgs& a) {
  auto node = open_node(data);
  const auto ctx = app_context(node);
  auto files = app::case_files(ctx, a.case_id);
  if (!files.ok()) fail_with(files.error());
  auto file = app::find_case_file(*files, a.file);
  if (!file.ok()) fail_with(file.error());
  auto bytes = app::read_case_file(ctx, *file);
  if (!bytes.ok()) fail_with(bytes.error());
  if (a.out == "-") {
    if (in_daemon()) fail(Status::invalid("--out - is for the terminal, not the daemon"));
    std::fwrite(bytes->data(), 1, bytes->size(), stdout);
    return 0;
  }
  const fs::path out = a.out.empty() ? fs::path(file->name) : fs::path(a.out);
  std::error_code ec;
  if (a.out.empty() && fs::exists(out, ec))
    refuse(Status::invalid("当前目录已有文件“" + out.string() + "”，请用 --out 指定保存位置"));
  std::ofstream f(out, std::ios::binary | std::ios::trunc);
  f.write(bytes->data(), static_cast<std::streamsize>(bytes->size()));
  f.close();
  if (!f) fail(Status::internal("无法写入 " + out.string()));
  print("已保存 " + out.string() + "（" + size_text(bytes->size()) + "）\n");
  return 0;
}

}  // namespace

void add_attachment_commands(CLI::App& app, CliShared& shared, CommandSet& out) {
  auto args = std::make_shared<AttachmentArgs>();
  auto* c = app.add_subcommand("attachment", "files attached to a case (附件)");
  c->require_subcommand(1);
  auto* c_list = c->add_subcommand("list", "list a case's files, whole here or in transit");
  shared.add_data(c_list);
  c_list->add_option("case", args->case_id, "case number")->required();
  c_list->add_flag("--json", shared.json, "print JSON");
  auto* c_get = c->add_subcommand("get", "save one of a case's files");
  shared.add_data(c_get);
  c_get->add_option("case", args->case_id, "case number")->required();
  c_get->add_option("file", args->file, "the file's name, or 8+ hex digits of its sha256")
      ->required();
  c_get->add_option("--out", args->out,
                    "where to save it (default: its name in the current directory; - for stdout)");
  auto& data = shared.data;
  auto& json = shared.json;
  out.push_back(
      {.app = c_list, .run = [args, &data, &json] { return cmd_list(data, *args, json); }});
  out.push_back({.app = c_get, .run = [args, &data] { return cmd_get(data, *args); }});
}

}  // namespace liandong::node
