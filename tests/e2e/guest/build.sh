#!/usr/bin/env bash
# Builds the guest side of the end-to-end test into $OUT (copied to /guest
# in the test domU): the virtio-rpmb test driver module, built against the
# guest kernel tree $GUEST_KDIR, and a static arm64 rpmb-guest.
set -euo pipefail

: "${GUEST_KDIR:?}" "${OUT:?}" "${REPO:?}"
CROSS_COMPILE=${CROSS_COMPILE:-aarch64-linux-gnu-}
here=$(cd "$(dirname "$0")" && pwd)
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT

# Kbuild writes next to the sources, so build from a scratch copy.
cp "$here/virtio_rpmb_test.c" "$here/Kbuild" "$scratch/"
make -s -C "$GUEST_KDIR" M="$scratch" ARCH=arm64 CROSS_COMPILE="$CROSS_COMPILE" \
	REPO="$REPO" modules
cp "$scratch/virtio_rpmb_test.ko" "$OUT/"

# Static, so the busybox-only domU needs no libraries. libcrypto.a comes
# from the arm64 sysroot (tools/make-sysroot.sh).
if [ -z "${SYSROOT:-}" ]; then
	SYSROOT=$(mktemp -d)
	"$REPO/tools/make-sysroot.sh" "$SYSROOT" >/dev/null
fi
# The client models (tests/lib/rpmb-clients.c, rc-*.c) come along: the
# same sequences the unit tests replay run against the real device.
"${CROSS_COMPILE}gcc" -std=gnu11 -O2 -Wall -Wextra -Werror -static \
	-D_GNU_SOURCE -I"$REPO/include" -I"$REPO/tests/lib" \
	-isystem "$SYSROOT/usr/include" \
	-isystem "$SYSROOT/usr/include/aarch64-linux-gnu" \
	-o "$OUT/rpmb-guest" "$REPO/tools/rpmb-guest.c" \
	"$REPO/tools/rpmb-guest-load.c" \
	"$REPO/tests/lib/rpmb-clients.c" "$REPO"/tests/lib/rc-*.c \
	"$SYSROOT/usr/lib/aarch64-linux-gnu/libcrypto.a" -lpthread -ldl
cp "$here/run.sh" "$OUT/run.sh"
chmod +x "$OUT/run.sh"
