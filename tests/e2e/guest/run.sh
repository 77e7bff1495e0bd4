#!/bin/sh
# Entry point of the guest side in the test domU (busybox sh). The dom0
# scenario picks what to check with E2E_TEST:
#   all       fresh device: every request type and failure (rpmb-guest test),
#             then the state it leaves, read back through the other
#             descriptor shape
#   persist   a guest that comes back: key, counter 2 and data still there
#   fresh     a new guest (e.g. reusing a domid): no key programmed
#   bench     latency, throughput and MMIO exits per operation
#   garbage   hostile register and ring traffic, driver unbound first
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

unbind_virtio_mmio() {
	for dev in /sys/bus/platform/drivers/virtio-mmio/*2000000*; do
		[ -e "$dev" ] && echo "$(basename "$dev")" >/sys/bus/platform/drivers/virtio-mmio/unbind
	done
	return 0
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
	load_driver && rpmb-guest bench --ops "${E2E_OPS:-100}"
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
