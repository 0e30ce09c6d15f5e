#!/usr/bin/env bash
# Installs, from Debian's archive, every package fwchain builds, tests or runs with.
# Idempotent and quick when everything is present: apt is only called for what is missing.
set -euo pipefail

PKGS=(
  build-essential cmake pkg-config clang llvm   # compiler, build, libFuzzer + sanitizers
  libsecp256k1-dev libsodium-dev libssl-dev     # BIP-340, Ed25519/Argon2id/XChaCha20, SHA-256
  libsqlite3-dev libmicrohttpd-dev libcurl4-openssl-dev libjansson-dev  # node and client
  mosquitto libmosquitto-dev                    # MQTT notifications
  curl python3                                  # test drivers
  wrk nginx-light                               # HTTP benchmarks (load generator, reference)
)

missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "install-deps: missing packages: ${missing[*]} (run as root, or install them)" >&2
  exit 1
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
