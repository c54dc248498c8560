#!/usr/bin/env bash
# Installs every Debian package Liandong's build, tests and benchmarks need.
# Idempotent: quiet and quick when everything is already present. Needs root
# (or sudo) only when something is missing.
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config clang-14 libclang-rt-14-dev lld clang-format
  libzmq3-dev cppzmq-dev liblmdb-dev lmdb-utils capnproto libcapnp-dev
  libspdlog-dev libfmt-dev catch2 libsodium-dev libzstd-dev
  libtomlplusplus-dev libcli11-dev
  nlohmann-json3-dev libzip-dev libexpat1-dev libxlsxwriter-dev
  libcpp-httplib-dev libssl-dev zlib1g-dev libbrotli-dev libqrencode-dev libvips-dev
  chromium chromium-driver python3-selenium python3-openpyxl fonts-noto-cjk poppler-utils
  libjs-chart.js prometheus
  # The PostgreSQL export (docs/ANALYTICS.md) and its test's own cluster.
  postgresql libpqxx-dev
  iproute2 nftables procps python3 time
  # The package's tests (tests/deploy.cmake): cpack's dpkg-shlibdeps,
  # systemd-analyze, man; deploy/package-test.sh: a Debian 12 root booted
  # with systemd-nspawn, a photo made with vips.
  dpkg-dev systemd man-db
  debootstrap systemd-container libvips-tools
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

[ ${#missing[@]} -eq 0 ] && exit 0

echo "install-deps: installing ${missing[*]}" >&2
sudo=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "install-deps: need root to install: ${missing[*]}" >&2; exit 1; }
  sudo="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
