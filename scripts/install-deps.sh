#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Installs every Debian package podrun builds with, and everything its tests and benchmarks use
# (peers such as runc, crun, podman; the QEMU lane's qemu and kernel tools).
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive

BUILD_PKGS=(build-essential autoconf automake libtool pkg-config clang
  libseccomp-dev libcap-dev libyajl-dev libsystemd-dev libssl-dev
  libarchive-dev libcurl4-openssl-dev libmnl-dev libnftnl-dev libyaml-dev libzstd-dev
  libprotobuf-c-dev protobuf-c-compiler libnghttp2-dev zlib1g-dev)
TEST_PKGS=(bats jq busybox-static iproute2 time util-linux procps psmisc
  runc crun podman conmon hyperfine
  skopeo umoci docker-registry containernetworking-plugins nftables zstd python3 python3-yaml bc
  strace curl catatonit dnsmasq-base
  protobuf-compiler python3-protobuf python3-grpcio python3-h2
  qemu-system-x86 kmod cpio xz-utils
  nginx-light tzdata)

missing=()
for p in "${BUILD_PKGS[@]}" "${TEST_PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "installing: ${missing[*]}"
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
