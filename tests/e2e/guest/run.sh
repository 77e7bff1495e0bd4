#!/bin/sh
# Entry point of the guest side in the test domU (busybox sh). The dom0
# scenario picks what to check with E2E_TEST:
#   all       fresh device: every request type and failure (rpmb-guest test),
#             then the state it leaves, read back through the other
#             descriptor shape
#   persist   a guest that comes back: key, counter 2 and data still there
#   fresh     a new guest (e.g. reusing a domid): no key programmed
#   bench     program the key, then latency, throughput and MMIO exits
#             per operation
#   traffic   program the key, then requests until the domain is destroyed
#   restart   'all', then, after the daemon was restarted in dom0 (dom0
#             waits for our "restart-ready" line and has 20 s before we
#             touch the device again), re-initialise the driver stack
#             against the new device model and check the state again
#   garbage   hostile register and ring traffic, driver unbound first
#   clients   the real clients' models (rpmb-guest client NAME), one per
#             device: the guest has as many fresh devices as there are
#             models, in the order of CLIENTS below
# E2E_MODE (grant or foreign) is informational: the device tree decides.
PATH=/guest:$PATH

load_driver() {
	insmod /guest/virtio_rpmb_test.ko || return 1
	for i in $(seq 1 50); do
		[ -c /dev/vrpmb0 ] && return 0
		sleep 0.1
	done
	echo "E2E-RESULT: driver FAIL no /dev/vrpmb0"
	return 1
}

CLIENTS="optee mmc-utils u-boot linux-v2 spec-draft"

# Waits for /dev/vrpmb$1 (devices probe one after the other).
wait_dev() {
	for i in $(seq 1 50); do
		[ -c "/dev/vrpmb$1" ] && return 0
		sleep 0.1
	done
	echo "E2E-RESULT: driver FAIL no /dev/vrpmb$1"
	return 1
}

VMMIO=/sys/bus/platform/drivers/virtio-mmio

mmio_device() {
	for dev in $VMMIO/*2000000*; do
		[ -e "$dev" ] && basename "$dev"
	done
}

unbind_virtio_mmio() {
	local dev
	dev=$(mmio_device)
	[ -n "$dev" ] && echo "$dev" >$VMMIO/unbind
	return 0
}

# A restarted backend serves a freshly reset device: unloading the driver
# resets the device and frees its queue, loading it negotiates features
# and sets the queue up again. (Rebinding virtio-mmio itself does not
# work with Xen grant DMA on Linux 6.1: "grant DMA data is already
# created".)
reprobe() {
	rmmod virtio_rpmb_test && load_driver
}

case "${E2E_TEST:-all}" in
all)
	load_driver || exit 1
	rpmb-guest test || exit 1
	rpmb-guest --one-sg check-state --counter 2
	;;
persist)
	load_driver && rpmb-guest check-state --counter 2
	;;
fresh)
	load_driver && rpmb-guest fresh
	;;
bench)
	load_driver || exit 1
	rpmb-guest test >/dev/null
	rpmb-guest bench --ops "${E2E_OPS:-100}"
	;;
traffic)
	load_driver || exit 1
	rpmb-guest test >/dev/null
	echo "E2E-GUEST: traffic-started"
	rpmb-guest bench --ops 1000000
	;;
restart)
	load_driver || exit 1
	rpmb-guest test || exit 1
	echo "E2E-GUEST: restart-ready"
	sleep 20
	reprobe || exit 1
	rpmb-guest check-state --counter 2
	;;
clients)
	load_driver || exit 1
	n=0 rc=0
	for c in $CLIENTS; do
		wait_dev $n && rpmb-guest --dev "/dev/vrpmb$n" client "$c" || rc=1
		n=$((n + 1))
	done
	exit $rc
	;;
garbage)
	unbind_virtio_mmio
	rpmb-guest garbage --base 0x2000000 --seed "${E2E_SEED:-1}" --iterations 3000
	;;
*)
	echo "E2E-RESULT: run.sh FAIL unknown E2E_TEST '$E2E_TEST'"
	exit 1
	;;
esac
