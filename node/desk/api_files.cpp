// The desk API's attached files (附件): the upload parts of a new
// application or an action (multipart/form-data), a case's file list,
// and one file: whole, as a thumbnail, or as a download.

#include <httplib.h>

#include <string>

#include "node/app/attachments.h"
#include "node/app/case_files.h"
#include "node/desk/api.h"
#include "node/desk/api_parts.h"

namespace liandong::desk {

using node::Json;
using namespace api_parts;

Json file_json(const app::CaseFile& f) {
  return Json{{"sha256", app::hex_of(f.sha256)},
              {"name", f.name},
              {"material", f.material},
              {"size", f.size},
              {"media_type", f.media_type},
              {"event", format_id(f.event)},
              {"event_zh", app::file_event_zh(f.kind)},
              {"whole", f.whole},
              {"chunks_held", f.chunks_held},
              {"chunks", f.chunks},
              {"held_at", app::held_at(f)},
              {"custody_zh", app::custody_zh(f)}};
}

std::optional<Json> Api::request_body(const Req& req, Res& res,
                                      std::vector<app::GivenFile>& files) {
  if (!req.is_multipart_form_data()) {
    if (req.body.size() > kMaxBodyBytes) {
      fail(res, 413, "请求内容过大（超过 1 MiB）");
      return std::nullopt;
    }
    return body_object(req, res);
  }
  // Parts: "request" (the JSON object a JSON body would be) and one
  // "attach:MATERIAL" per file.
  std::optional<Json> body;
  for (const auto& [name, part] : req.files) {
    if (name == "request" && part.filename.empty() && !body) {
      Json j = Json::parse(part.content, nullptr, false);
      if (j.is_discarded() || !j.is_object()) {
        fail(res, 400, "上传内容格式不正确：申请内容不是 JSON 对象");
        return std::nullopt;
      }
      body = std::move(j);
    } else if (name.starts_with("attach:") && name.size() > 7) {
      if (part.content.empty()) continue;  // a file input left empty
      if (files.size() >= 32) {
        fail(res, 400, "一次最多上传 32 个附件", "files");
        return std::nullopt;
      }
      files.push_back(app::GivenFile{name.substr(7), part.filename, part.content});
    } else {
      fail(res, 400, "上传内容格式不正确：不认识的部分 “" + name + "”");
      return std::nullopt;
    }
  }
  if (!body) {
    fail(res, 400, "上传内容格式不正确：缺少申请内容");
    return std::nullopt;
  }
  return body;
}

void Api::files(const Req& req, Res& res) {
  auto s = session(req, res);
  if (!s) return;
  app::Context ctx{store_, read_key(), o_.now};
  auto files = app::case_files(ctx, req.matches[1]);
  if (!files.ok()) return fail(res, files.error());
  Json list = Json::array();
  for (const auto& f : *files)
    list.push_back(file_json(f));
  reply(res, 200, Json{{"case", std::string(req.matches[1])}, {"files", std::move(list)}});
}

void Api::file(const Req& req, Res& res) {
  auto s = session(req, res);
  if (!s) return;
  app::Context ctx{store_, read_key(), o_.now};
  auto files = app::case_files(ctx, req.matches[1]);
  if (!files.ok()) return fail(res, files.error());
  const std::string sha = req.matches[2];
  const app::CaseFile* found = nullptr;
  for (const auto& f : *files)
    if (app::hex_of(f.sha256) == sha) found = &f;
  if (found == nullptr) return fail(res, 404, "本件没有这个附件");
  if (!found->whole) return fail(res, 409, "附件" + app::custody_zh(*found));
  auto bytes = app::read_case_file(ctx, *found);
  if (!bytes.ok()) return fail(res, bytes.error());
  res.set_header("Cache-Control", "private, max-age=86400");  // a file never changes
  if (req.get_param_value("thumb") == "1") {
    // TODO(perf): thumbnails are made on every request (the browser keeps
    // them a day); keep them in DATA/desk/ if the case page grows slow.
    auto thumb = app::thumbnail_jpeg(*bytes, kThumbSide);
    if (!thumb) return fail(res, 415, "此附件没有缩略图");
    res.set_content(std::move(*thumb), "image/jpeg");
    return;
  }
  const bool download = req.get_param_value("download") == "1";
  res.set_header("Content-Disposition", content_disposition(download, found->name));
  res.set_content(std::move(*bytes), found->media_type);
}

}  // namespace liandong::desk
