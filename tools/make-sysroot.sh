#!/usr/bin/env bash
# Builds a sysroot of Debian arm64 development libraries for cross-building
# the daemon: tools/make-sysroot.sh DIR, then
#   make CROSS_COMPILE=aarch64-linux-gnu- SYSROOT=DIR BUILD=build-arm64
# A sysroot is needed because libxen-dev cannot be installed for amd64 and
# arm64 side by side. Needs root only to enable the arm64 architecture.
set -euo pipefail

ARCH=${ARCH:-arm64}
PACKAGES=(
	libxen-dev libxenmisc4.17 libxencall1 libxendevicemodel1 libxenevtchn1
	libxenforeignmemory1 libxengnttab1 libxenstore4 libxentoolcore1
	libxentoollog1 libxenhypfs1
	libssl-dev libssl3 libsqlite3-dev libsqlite3-0 libcmocka-dev libcmocka0
	libseccomp-dev libseccomp2
)

usage() {
	echo "usage: $0 SYSROOT-DIR" >&2
	exit 2
}

ensure_arch() {
	if ! dpkg --print-foreign-architectures | grep -qx "$ARCH"; then
		dpkg --add-architecture "$ARCH"
		apt-get update -qq
	fi
}

main() {
	[ $# -eq 1 ] || usage
	local root debs pkg
	root=$(realpath -m "$1")
	debs="$root/.debs"

	if [ -e "$root/.complete" ]; then
		return 0
	fi
	ensure_arch
	mkdir -p "$debs"
	(
		cd "$debs"
		local names=()
		for pkg in "${PACKAGES[@]}"; do
			names+=("$pkg:$ARCH")
		done
		apt-get download -qq "${names[@]}"
	)
	for deb in "$debs"/*.deb; do
		dpkg-deb -x "$deb" "$root"
	done
	touch "$root/.complete"
	echo "sysroot ready: $root"
}

main "$@"
