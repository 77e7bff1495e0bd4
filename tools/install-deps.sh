#!/usr/bin/env bash
# Installs, on Debian 12, everything needed to build xen-rpmb, run its
# tests and fuzzers, cross-build it for arm64 and run the QEMU/Xen
# end-to-end test. Runs itself through sudo when not started as root.
set -euo pipefail

BUILD_PKGS=(build-essential pkg-config libxen-dev libssl-dev libsqlite3-dev
	    libseccomp-dev)
TEST_PKGS=(libcmocka-dev clang libclang-rt-14-dev llvm python3 openssl xxd
	   systemd)
E2E_PKGS=(gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-system-arm
	  flex bison bc cpio xz-utils device-tree-compiler busybox-static
	  dpkg-dev kmod libelf-dev libssl-dev rsync checkpolicy m4
	  python3-pyelftools python3-cryptography u-boot-qemu)

export DEBIAN_FRONTEND=noninteractive
if [ "$(id -u)" -ne 0 ]; then
	if command -v sudo >/dev/null; then
		exec sudo "$0" "$@"
	fi
	echo "$0: run as root (apt-get install)" >&2
	exit 1
fi
if ! dpkg --print-foreign-architectures | grep -qx arm64; then
	dpkg --add-architecture arm64
fi
apt-get update -qq
apt-get install -y -qq --no-install-recommends \
	"${BUILD_PKGS[@]}" "${TEST_PKGS[@]}" "${E2E_PKGS[@]}" >/dev/null
echo "dependencies installed"
