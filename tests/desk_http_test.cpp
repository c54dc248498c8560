// The desk's HTTP server in a real daemon (docs/DESK.md): HTTPS with the
// certificate `desk cert` made when the desk is opened beyond this machine,
// hostile requests answered with a clear error and nothing stored, a port
// already taken refused at start, and the audit trail of logins.
#include <httplib.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "node/app/test_images.h"
#include "tests/json_reader.h"
#include "tests/net_fixture.h"

using liandong::test::Net;
using liandong::test::wait_until;
using nlohmann::json;
using namespace std::chrono_literals;

namespace {

const std::string kCounty = "360723";

std::string desk_address(const Net& net, const std::string& code) {
  std::ifstream in(net.data_dir(code) / "desk" / "address");
  std::string line;
  std::getline(in, line);
  return line;
}

// "http://127.0.0.1:8701/" -> port 8701.
int port_of(const std::string& url) {
  const auto colon = url.rfind(':');
  return std::stoi(url.substr(colon + 1));
}

// The roster (with 孙八 at the county) published, 孙八's code issued.
std::string roster_and_code(const Net& net) {
  auto r = net.cli(kCounty, {"roster", "publish", "--version", "1", "--file",
                             std::string(LIANDONG_SOURCE_DIR) + "/config/roster-example.toml",
                             "--actor", "县政务服务中心管理员"});
  REQUIRE(r.exit_code == 0);
  auto code = net.cli(kCounty, {"desk", "invite", "孙八", "--json"});
  REQUIRE(code.exit_code == 0);
  return json::parse(code.out)["code"].get<std::string>();
}

}  // namespace

TEST_CASE("desk: opened beyond loopback it serves HTTPS with the certificate desk cert made",
          "[desk][security][integration]") {
  Net net({{kCounty, {}}});
  // 127.0.0.2 is not 127.0.0.1: the desk counts as opened to a LAN.
  auto cert = net.cli(kCounty, {"desk", "cert", "--host", "127.0.0.2", "--force"});
  REQUIRE(cert.exit_code == 0);
  CHECK(cert.out.find("证书指纹") != std::string::npos);
  net.set_extra_config(kCounty, "[desk]\nlisten = \"127.0.0.2:0\"\n");
  net.write_configs();
  net.start(kCounty);
  const std::string url = desk_address(net, kCounty);
  REQUIRE(url.rfind("https://127.0.0.2:", 0) == 0);
  const std::string code = roster_and_code(net);

  httplib::SSLClient tls("127.0.0.2", port_of(url));
  tls.set_ca_cert_path((net.data_dir(kCounty) / "desk" / "cert.pem").c_str());
  tls.enable_server_certificate_verification(true);
  tls.set_connection_timeout(5);
  auto people = tls.Get("/api/people");
  REQUIRE(people);  // the certificate verified against the one desk cert made
  CHECK(people->status == 200);
  CHECK(json::parse(people->body)["names"].dump().find("孙八") != std::string::npos);

  // Logging in over TLS: the session cookie is Secure, HttpOnly, Strict.
  auto login = tls.Post("/api/password",
                        json{{"name", "孙八"}, {"code", code}, {"password", "sunba-2026"}}.dump(),
                        "application/json");
  REQUIRE(login);
  CHECK(login->status == 200);
  const std::string cookie = login->get_header_value("Set-Cookie");
  CHECK(cookie.find("liandong_360723=") == 0);
  CHECK(cookie.find("Secure") != std::string::npos);
  CHECK(cookie.find("HttpOnly") != std::string::npos);
  CHECK(cookie.find("SameSite=Strict") != std::string::npos);

  // Plain HTTP on the same port gets no page.
  httplib::Client plain("127.0.0.2", port_of(url));
  plain.set_connection_timeout(2);
  plain.set_read_timeout(2);
  auto clear = plain.Get("/api/people");
  CHECK((!clear || clear->status != 200));

  // `desk info` shows the address and the fingerprint of that certificate.
  auto info = net.cli(kCounty, {"desk", "info", "--json"});
  REQUIRE(info.exit_code == 0);
  auto j = json::parse(info.out);
  CHECK(j["address"] == url);
  CHECK(j["fingerprint_sha256"].get<std::string>().size() == 95);  // 32 bytes as AB:CD:...
  CHECK(net.stop(kCounty) == 0);
}

TEST_CASE("desk: hostile requests get a clear error, store nothing, and the desk keeps serving",
          "[desk][hostile][integration]") {
  Net net({{kCounty, {}}});
  net.start(kCounty);
  const std::string url = desk_address(net, kCounty);
  REQUIRE(url.rfind("http://127.0.0.1:", 0) == 0);
  const std::string code = roster_and_code(net);
  httplib::Client c("127.0.0.1", port_of(url));
  c.set_read_timeout(10);

  auto login = c.Post("/api/password",
                      json{{"name", "孙八"}, {"code", code}, {"password", "sunba-2026"}}.dump(),
                      "application/json");
  REQUIRE(login);
  REQUIRE(login->status == 200);
  std::string cookie = login->get_header_value("Set-Cookie");
  cookie = cookie.substr(0, cookie.find(';'));
  httplib::Headers auth = {{"Cookie", cookie}};
  auto session = c.Get("/api/session", auth);
  REQUIRE(session);
  REQUIRE(session->status == 200);
  const std::string csrf = json::parse(session->body)["csrf"];
  httplib::Headers writer = {{"Cookie", cookie}, {"X-CSRF-Token", csrf}};

  auto error_of = [](const httplib::Result& r) {
    if (!r) return std::string("(no answer)");
    auto j = json::parse(r->body, nullptr, false);
    return j.is_object() && j.contains("error") ? j["error"].get<std::string>() : r->body;
  };

  SECTION("malformed JSON, wrong types, unknown actions") {
    auto r = c.Post("/api/cases", writer, "{\"item\": ", "application/json");
    CHECK(r->status == 400);
    CHECK(error_of(r) == "请求内容不是 JSON 对象");
    r = c.Post("/api/cases", writer, "[1,2,3]", "application/json");
    CHECK(r->status == 400);
    r = c.Post("/api/cases", writer, json{{"item", 42}}.dump(), "application/json");
    CHECK(r->status == 400);
    CHECK(json::parse(r->body)["part"] == "item");
    r = c.Post("/api/cases/360723-000001/act", writer, json{{"action", "explode"}}.dump(),
               "application/json");
    CHECK(r->status == 400);
    CHECK(error_of(r).find("没有这种操作") == 0);
    r = c.Post("/api/cases/360723-999999/act", writer, json{{"action", "accept"}}.dump(),
               "application/json");
    CHECK(r->status == 404);
  }
  SECTION("an application the rules refuse names the field") {
    auto r = c.Post(
        "/api/cases", writer,
        json{{"item", "MZ-001"}, {"applicant", "张三"}, {"id_number", "360723198805123410"}}.dump(),
        "application/json");
    CHECK(r->status == 400);
    CHECK(json::parse(r->body)["part"] == "id_number");
  }
  SECTION("a body over 1 MiB, unknown routes, paths out of the tree") {
    auto r = c.Post("/api/cases", writer, std::string(2 << 20, 'x'), "application/json");
    CHECK((!r || r->status == 413));
    r = c.Get("/api/nothing", auth);
    CHECK(r->status == 404);
    CHECK(error_of(r) == "没有这个接口");
    r = c.Get("/../../etc/passwd");
    CHECK(r->status != 200);
    r = c.Get("/assets/../../data/keys/sign.key");
    CHECK(r->status != 200);
  }
  SECTION("another Host (DNS rebinding), another Origin, no session") {
    auto r = c.Get("/api/people", {{"Host", "evil.example:80"}});
    CHECK(r->status == 421);
    r = c.Post("/api/cases",
               {{"Cookie", cookie}, {"X-CSRF-Token", csrf}, {"Origin", "http://evil.example"}},
               "{}", "application/json");
    CHECK(r->status == 403);
    r = c.Get("/api/desk");
    CHECK(r->status == 401);
    r = c.Get("/api/desk", {{"Cookie", "liandong_360723=" + std::string(64, '0')}});
    CHECK(r->status == 401);
  }
  // Nothing stored but audit notes; the desk still answers.
  auto again = c.Get("/api/desk", auth);
  REQUIRE(again);
  CHECK(again->status == 200);
  CHECK(wait_until([&] { return net.status(kCounty).running; }, 5s));
  auto cases = net.cases(kCounty);
  CHECK(cases.empty());
  CHECK(net.stop(kCounty) == 0);
}

TEST_CASE("desk: a port already in use is refused at start in one line",
          "[desk][config][integration]") {
  // Hold a loopback port, then configure the desk on it.
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(fd >= 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
  REQUIRE(::listen(fd, 1) == 0);
  socklen_t len = sizeof a;
  REQUIRE(::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0);
  const int port = ntohs(a.sin_port);

  Net net({{kCounty, {}}});
  net.set_extra_config(kCounty, "[desk]\nlisten = \"127.0.0.1:" + std::to_string(port) + "\"\n");
  net.write_configs();
  auto r = net.cli_raw({"run", "--config", net.config_path(kCounty).string()}, 20s);
  ::close(fd);
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("办事台无法监听 127.0.0.1:" + std::to_string(port)) != std::string::npos);
  CHECK(r.err.find("端口已被占用") != std::string::npos);
}

TEST_CASE("desk: a certificate whose key does not match is refused at start in one line",
          "[desk][security][integration]") {
  Net net({{kCounty, {}}});
  REQUIRE(net.cli(kCounty, {"desk", "cert", "--host", "127.0.0.2", "--force"}).exit_code == 0);
  // Another node's key in place of this one's.
  Net other(std::vector<liandong::test::NodeSpec>{{"360724", {}}});
  const auto key = net.data_dir(kCounty) / "desk" / "key.pem";
  std::filesystem::copy_file(other.data_dir("360724") / "desk" / "key.pem", key,
                             std::filesystem::copy_options::overwrite_existing);
  net.set_extra_config(kCounty, "[desk]\nlisten = \"127.0.0.2:0\"\n");
  net.write_configs();
  auto r = net.cli_raw({"run", "--config", net.config_path(kCounty).string()}, 20s);
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("办事台证书不能使用") != std::string::npos);
}

TEST_CASE(
    "desk: files uploaded with an application are listed, shown small and downloaded; "
    "hostile uploads change nothing",
    "[desk][attachments][integration]") {
  Net net({{kCounty, {}}});
  net.start(kCounty);
  const std::string url = desk_address(net, kCounty);
  roster_and_code(net);
  // 李建国, the county's director, may register an application.
  auto invite = net.cli(kCounty, {"desk", "invite", "李建国", "--json"});
  REQUIRE(invite.exit_code == 0);
  const std::string code = json::parse(invite.out)["code"].get<std::string>();
  httplib::Client c("127.0.0.1", port_of(url));
  c.set_read_timeout(30);
  auto login =
      c.Post("/api/password",
             json{{"name", "李建国"}, {"code", code}, {"password", "lijianguo-2026"}}.dump(),
             "application/json");
  REQUIRE(login);
  REQUIRE(login->status == 200);
  std::string cookie = login->get_header_value("Set-Cookie");
  cookie = cookie.substr(0, cookie.find(';'));
  httplib::Headers auth = {{"Cookie", cookie}};
  const std::string csrf = json::parse(c.Get("/api/session", auth)->body)["csrf"];
  httplib::Headers writer = {{"Cookie", cookie}, {"X-CSRF-Token", csrf}};
  auto error_of = [](const httplib::Result& r) {
    if (!r) return std::string("(no answer)");
    auto j = json::parse(r->body, nullptr, false);
    return j.is_object() && j.contains("error") ? j["error"].get<std::string>() : r->body;
  };
  const std::string application =
      json{{"item", "MZ-001"},
           {"applicant", "王五"},
           {"id_number", "360723197603021158"},
           {"materials", json::array({json{{"name", "居民身份证"}}, json{{"name", "户口簿"}}})}}
          .dump();
  const std::string photo = liandong::test::make_image(4000, 3000, "jpeg");
  const std::string png = liandong::test::make_image(1200, 900, "png");

  SECTION("hostile uploads") {
    // A type that is not a photo or a PDF.
    auto r = c.Post("/api/cases", writer,
                    httplib::MultipartFormDataItems{
                        {"request", application, "", "application/json"},
                        {"attach:居民身份证", "MZ\x90\0 not an image", "a.exe", "image/jpeg"}});
    REQUIRE(r);
    CHECK(r->status == 400);
    CHECK(error_of(r) == "不支持的文件类型：仅可上传 JPG、PNG、HEIC 照片或 PDF 扫描件");
    // A material the application does not list.
    r = c.Post("/api/cases", writer,
               httplib::MultipartFormDataItems{{"request", application, "", "application/json"},
                                               {"attach:结婚证", png, "a.png", "image/png"}});
    CHECK(r->status == 400);
    CHECK(error_of(r).find("不在本件的申报材料中") != std::string::npos);
    // Too big for max_file_mib (20 by default).
    r = c.Post(
        "/api/cases", writer,
        httplib::MultipartFormDataItems{
            {"request", application, "", "application/json"},
            {"attach:户口簿", "%PDF-" + std::string(21 << 20, 'p'), "h.pdf", "application/pdf"}});
    CHECK(r->status == 400);
    CHECK(error_of(r).find("超过 20 MB") != std::string::npos);
    // Over the upload limit: refused before it is read.
    r = c.Post("/api/cases", writer, std::string(65 << 20, 'x'),
               "multipart/form-data; boundary=xyz");
    CHECK((!r || r->status == 413));
    // Broken multipart, an unknown part, no application part.
    r = c.Post("/api/cases", writer, "--xyz\r\nContent-Disposition: form-data\r\n\r\nzz",
               "multipart/form-data; boundary=xyz");
    CHECK((!r || r->status == 400));
    r = c.Post("/api/cases", writer,
               httplib::MultipartFormDataItems{{"request", application, "", "application/json"},
                                               {"evil", "x", "", "text/plain"}});
    CHECK(r->status == 400);
    CHECK(error_of(r).find("上传内容格式不正确") == 0);
    r = c.Post("/api/cases", writer,
               httplib::MultipartFormDataItems{{"attach:户口簿", png, "a.png", "image/png"}});
    CHECK(r->status == 400);
    CHECK(net.cases(kCounty).empty());
  }

  SECTION("two photos: stored reduced, listed, thumbnails, download with the Chinese name") {
    auto r = c.Post("/api/cases", writer,
                    httplib::MultipartFormDataItems{
                        {"request", application, "", "application/json"},
                        {"attach:居民身份证", photo, "身份证正面.jpg", "image/jpeg"},
                        {"attach:户口簿", png, "户口簿.png", "image/png"}});
    REQUIRE(r);
    INFO(r->body);
    REQUIRE(r->status == 201);
    const std::string id = json::parse(r->body)["case"];
    CHECK(json::parse(r->body)["files"] == 2);
    auto list = c.Get("/api/cases/" + id + "/files", auth);
    REQUIRE(list->status == 200);
    const auto files = json::parse(list->body)["files"];
    REQUIRE(files.size() == 2);
    CHECK(files[0]["name"] == "身份证正面.jpg");
    CHECK(files[0]["material"] == "居民身份证");
    CHECK(files[0]["custody_zh"] == "已达县");
    CHECK(files[0]["whole"] == true);
    CHECK(files[0]["size"].get<size_t>() < photo.size());
    CHECK(files[1]["name"] == "户口簿.jpg");
    CHECK(files[1]["media_type"] == "image/jpeg");
    auto shown = c.Get("/api/cases/" + id, auth);
    CHECK(json::parse(shown->body)["files"].size() == 2);
    const std::string sha = files[0]["sha256"];
    auto thumb = c.Get("/api/cases/" + id + "/files/" + sha + "?thumb=1", auth);
    REQUIRE(thumb->status == 200);
    CHECK(thumb->get_header_value("Content-Type") == "image/jpeg");
    CHECK(liandong::test::image_size(thumb->body) == std::pair{240, 180});
    auto whole = c.Get("/api/cases/" + id + "/files/" + sha + "?download=1", auth);
    REQUIRE(whole->status == 200);
    CHECK(liandong::test::image_size(whole->body) == std::pair{1600, 1200});
    // cpp-httplib's client decodes %XX in header values: the RFC 5987 name
    // (filename*=UTF-8''%E8%BA%AB...) arrives here decoded.
    CHECK(whole->get_header_value("Content-Disposition") ==
          "attachment; filename=\"file.jpg\"; filename*=UTF-8''身份证正面.jpg");
    // No session, no file; an unknown file is 404.
    CHECK(c.Get("/api/cases/" + id + "/files/" + sha)->status == 401);
    CHECK(c.Get("/api/cases/" + id + "/files/" + std::string(64, '0'), auth)->status == 404);
    // The CLI lists the same files.
    auto cli = net.cli(kCounty, {"attachment", "list", id, "--json"});
    REQUIRE(cli.exit_code == 0);
    CHECK(json::parse(cli.out)["files"].size() == 2);
  }
  CHECK(net.stop(kCounty) == 0);
}
