// The desk's HTTPS certificate: made once at `liandong init` (a self-signed
// certificate for the node's addresses), shown as a SHA-256 fingerprint for
// staff to compare with what their browser shows, and checked when the desk
// starts (docs/DESK.md, "Where it listens").
//
// Files are PEM: the certificate ("CERTIFICATE") and an unencrypted PKCS#8
// private key ("PRIVATE KEY"). Errors are one line, Chinese first, with the
// path and the reason: "证书文件无法读取: PATH (No such file or directory)".
//
// Time comes from the caller (`now_ms`, Unix milliseconds); randomness is
// OpenSSL's (the key and the serial number).
//
// Thread contract: any thread may call any function (OpenSSL 3 keeps its
// error queue per thread).
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "protocol/status.h"

namespace liandong::desk {

// Makes an ECDSA P-256 key and a self-signed X.509 v3 certificate for it:
// a random 159-bit serial, valid from one day before `now_ms` for ten
// calendar years, subject and issuer CN = `common_name`, O = Liandong,
// subjectAltName DNS:name for each host name and IP:address for each IPv4 or
// IPv6 address in `dns_names_or_ips`, basicConstraints CA:FALSE, keyUsage
// digitalSignature, extendedKeyUsage serverAuth, signed with SHA-256.
// The key is written with mode 0600 and the certificate with mode 0644, each
// to a temporary file that is synced, then linked to its name without
// replacing anything; the directories must exist. On any error neither file
// is left behind.
// invalid: `common_name` is empty or longer than 64 bytes, `dns_names_or_ips`
//   is empty or holds something that is neither an address nor a host name,
//   or either file already exists ("证书文件已存在，不覆盖: PATH").
// no_space: the disk is full. internal: a file cannot be written, OpenSSL failed.
Status make_self_signed(const std::filesystem::path& cert_pem, const std::filesystem::path& key_pem,
                        const std::string& common_name,
                        const std::vector<std::string>& dns_names_or_ips, uint64_t now_ms);

// The SHA-256 of the certificate's DER, as upper-case hex pairs joined by
// colons ("AB:CD:..."), as browsers and `openssl x509 -fingerprint` show it.
// not_found: no such file. invalid: unreadable or not a PEM certificate.
Result<std::string> cert_fingerprint(const std::filesystem::path& cert_pem);

// Whether the desk can serve with this pair: both files are readable PEM,
// the key is the certificate's, and the certificate is valid at `now_ms`.
// not_found: a file is missing. invalid: unreadable, not PEM, the key does
// not match, or the certificate is not yet valid or has expired.
Status check_cert_pair(const std::filesystem::path& cert_pem, const std::filesystem::path& key_pem,
                       uint64_t now_ms);

}  // namespace liandong::desk
