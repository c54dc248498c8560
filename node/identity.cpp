#include "node/identity.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include <array>
#include <cstring>
#include <fstream>
#include <sstream>

#include "config/input_file.h"
#include "node/input_files.h"

namespace liandong::node {

namespace fs = std::filesystem;

fs::path store_dir(const fs::path& data) {
  return data / "store";
}
fs::path keys_dir(const fs::path& data) {
  return data / "keys";
}

namespace {

Status write_secret_file(const fs::path& path, const std::string& text) {
  const fs::path tmp = path.string() + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return Status::invalid("cannot write " + tmp.string() + ": " + std::strerror(errno));
  const std::string line = text + "\n";
  const bool ok = ::write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size()) &&
                  ::fsync(fd) == 0;
  ::close(fd);
  if (!ok || ::rename(tmp.c_str(), path.c_str()) != 0) {
    ::unlink(tmp.c_str());
    return Status::invalid("cannot write " + path.string() + ": " + std::strerror(errno));
  }
  return Status::ok();
}

Result<std::string> read_key_file(const fs::path& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0)
    return Status::not_found("missing key file " + path.string() + " (run `liandong init`)");
  if ((st.st_mode & 077) != 0)
    return Status::invalid("key file " + path.string() +
                           " may be read by other users: chmod 600 it");
  // A regular file of a few bytes (node/input_files.h), read without
  // blocking: a FIFO or device put in its place is refused at once.
  auto file = config::read_input_file(path, kMaxKeyFileBytes);
  if (!file.ok) return Status::invalid("key file " + path.string() + " " + file.error);
  std::istringstream in(file.bytes);
  std::string text;
  if (!(in >> text)) return Status::invalid("key file " + path.string() + " is empty");
  return text;
}

}  // namespace

Result<Identity> create_identity(const fs::path& data) {
  const fs::path dir = keys_dir(data);
  std::error_code ec;
  if (fs::exists(dir / "sign.key", ec))
    return Status::invalid("keys already exist in " + dir.string());
  fs::create_directories(dir, ec);
  if (ec) return Status::invalid("cannot create " + dir.string() + ": " + ec.message());
  ::chmod(dir.c_str(), 0700);
  Identity id{generate_signing_key(), generate_curve_keypair()};
  auto bytes = [](const auto& a) {
    return std::string(reinterpret_cast<const char*>(a.data()), a.size());
  };
  if (auto s = write_secret_file(dir / "sign.key", to_hex(id.sign.secret)); !s) return s;
  if (auto s = write_secret_file(dir / "sign.pub", to_hex(id.sign.pub)); !s) return s;
  if (auto s = write_secret_file(dir / "curve.key", to_z85(bytes(id.curve.secret))); !s) return s;
  if (auto s = write_secret_file(dir / "curve.pub", to_z85(bytes(id.curve.pub))); !s) return s;
  return id;
}

Result<Identity> load_identity(const fs::path& data) {
  const fs::path dir = keys_dir(data);
  Identity id;
  auto sign_hex = read_key_file(dir / "sign.key");
  if (!sign_hex.ok()) return sign_hex.status();
  auto secret = from_hex(*sign_hex);
  auto key = secret ? signing_key_from_secret(*secret) : std::nullopt;
  if (!key) return Status::invalid("key file " + (dir / "sign.key").string() + " is malformed");
  id.sign = *key;
  for (const auto& [name, out] :
       {std::pair{"curve.key", &id.curve.secret}, std::pair{"curve.pub", &id.curve.pub}}) {
    auto text = read_key_file(dir / name);
    if (!text.ok()) return text.status();
    auto raw = from_z85(*text);
    if (!raw || raw->size() != 32)
      return Status::invalid("key file " + (dir / name).string() + " is malformed");
    std::memcpy(out->data(), raw->data(), 32);
  }
  std::array<uint8_t, 32> derived{};
  if (crypto_scalarmult_base(derived.data(), id.curve.secret.data()) != 0 ||
      derived != id.curve.pub)
    return Status::invalid("link key files " + (dir / "curve.key").string() +
                           " and curve.pub do not match (an interrupted `keys rotate --link`? "
                           "run it again)");
  return id;
}

Status stage_signing_key(const fs::path& data, const SigningKey& next) {
  return write_secret_file(keys_dir(data) / "sign.key.next", to_hex(next.secret));
}

std::optional<SigningKey> staged_signing_key(const fs::path& data) {
  const fs::path next = keys_dir(data) / "sign.key.next";
  std::error_code ec;
  if (!fs::exists(next, ec)) return std::nullopt;
  auto hex = read_key_file(next);
  if (!hex.ok()) return std::nullopt;
  auto secret = from_hex(*hex);
  return secret ? signing_key_from_secret(*secret) : std::nullopt;
}

Status promote_signing_key(const fs::path& data) {
  const fs::path dir = keys_dir(data);
  auto next = staged_signing_key(data);
  if (!next) return Status::invalid("no key rotation under way in " + dir.string());
  if (auto s = write_secret_file(dir / "sign.pub", to_hex(next->pub)); !s) return s;
  std::error_code ec;
  fs::rename(dir / "sign.key.next", dir / "sign.key", ec);
  if (ec) return Status::invalid("cannot put the new signing key in place: " + ec.message());
  return Status::ok();
}

Status finish_rotation(const fs::path& data, bool stored) {
  if (stored) return promote_signing_key(data);
  std::error_code ec;
  fs::remove(keys_dir(data) / "sign.key.next", ec);
  return Status::ok();
}

Status replace_link_key(const fs::path& data, const CurveKeyPair& next) {
  const fs::path dir = keys_dir(data);
  auto bytes = [](const auto& a) {
    return std::string(reinterpret_cast<const char*>(a.data()), a.size());
  };
  // A crash between the two writes leaves files that disagree:
  // load_identity refuses them, and the rotation can simply be run again.
  if (auto s = write_secret_file(dir / "curve.key", to_z85(bytes(next.secret))); !s) return s;
  return write_secret_file(dir / "curve.pub", to_z85(bytes(next.pub)));
}

}  // namespace liandong::node
