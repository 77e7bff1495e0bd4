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
#   poweroff  'all', then the guest powers itself off
#   reboot    first boot (fresh device): 'all', then the guest reboots
#             itself (xl restarts it: new domid, same name, same command
#             line); the next boot finds the key and checks the state
#   two       two virtio-rpmb devices: 'all' on both at once, each with
#             its own key, then each device's state with the other's key
#             must fail (independent keys and counters)
#   smp       requests from every vCPU at once: rpmb-guest smp --threads
#             $E2E_THREADS (SKIP line if this rpmb-guest has no 'smp')
#   soak      writes and reads for $E2E_SECONDS that survive the device
#             being reset under them (its backend worker killed): no
#             acknowledged write lost, the counter never back
#   flood     a hostile guest: the queue kept full and notified without
#             pause for $E2E_SECONDS
# E2E_MODE (grant or foreign) is informational: the device tree decides.
PATH=/guest:$PATH

# load_driver [N]: loads the test driver and waits for N (default 1)
# /dev/vrpmbX nodes, one per virtio-rpmb device.
load_driver() {
	local want=${1:-1} n=0
	insmod /guest/virtio_rpmb_test.ko || return 1
	for i in $(seq 1 50); do
		n=$(ls /dev/vrpmb* 2>/dev/null | wc -l)
		[ "$n" -ge "$want" ] && return 0
		sleep 0.1
	done
	echo "E2E-RESULT: driver FAIL $n /dev/vrpmbN nodes, want $want"
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

# A second test key (the default is OP-TEE's public test key).
KEY1=00112233445566778899AABBCCDDEEFF00112233445566778899AABBCCDDEEFF
KEY0=D3EB3EC36E334C9F988CE2C0B85954610D2BCF8664844DF2AB56E6C61BB701E4

# prefixed PREFIX CMD...: runs CMD with its E2E-RESULT lines renamed
# PREFIX/<test>; returns CMD's status (busybox sh has no pipefail).
prefixed() {
	local p=$1 out rc
	shift
	out=/tmp/out.$$.$p
	"$@" >"$out" 2>&1
	rc=$?
	sed "s|^E2E-RESULT: |E2E-RESULT: $p/|" "$out"
	return $rc
}

# Both devices at once, each with its own key; then each device's state
# checked with the other device's key must not verify.
two_devices() {
	local rc0 rc1
	load_driver 2 || return 1
	prefixed dev0 rpmb-guest --dev /dev/vrpmb0 --key $KEY0 test &
	p0=$!
	prefixed dev1 rpmb-guest --dev /dev/vrpmb1 --key $KEY1 test &
	p1=$!
	wait $p0; rc0=$?
	wait $p1; rc1=$?
	[ $rc0 -eq 0 ] && [ $rc1 -eq 0 ] || return 1
	prefixed dev0 rpmb-guest --dev /dev/vrpmb0 --key $KEY0 check-state --counter 2 || return 1
	prefixed dev1 rpmb-guest --dev /dev/vrpmb1 --key $KEY1 check-state --counter 2 || return 1
	if rpmb-guest --dev /dev/vrpmb1 --key $KEY0 check-state --counter 2 >/dev/null 2>&1 ||
		rpmb-guest --dev /dev/vrpmb0 --key $KEY1 check-state --counter 2 >/dev/null 2>&1; then
		echo "E2E-RESULT: keys-independent FAIL a device verified with the other one's key"
		return 1
	fi
	echo "E2E-RESULT: keys-independent PASS each device answers only to its own key"
}

# rpmb-guest's smp command is added by the rpmb-guest owner; until then
# its usage text does not list it.
smp_requests() {
	load_driver || return 1
	if ! rpmb-guest 2>&1 | grep -q '^ *smp'; then
		echo "E2E-GUEST: smp unsupported (rpmb-guest has no smp command)"
		return 0
	fi
	echo "E2E-GUEST: smp vcpus=$(grep -c ^processor /proc/cpuinfo) threads=${E2E_THREADS:-2}"
	rpmb-guest smp --threads "${E2E_THREADS:-2}"
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
poweroff)
	load_driver || exit 1
	rpmb-guest test || exit 1
	echo "E2E-GUEST: powering-off"
	poweroff -f
	;;
reboot)
	load_driver || exit 1
	if rpmb-guest fresh >/dev/null 2>&1; then
		rpmb-guest test || exit 1
		echo "E2E-GUEST: rebooting"
		reboot -f
	fi
	echo "E2E-GUEST: rebooted"
	rpmb-guest check-state --counter 2
	;;
two)
	two_devices
	;;
smp)
	smp_requests
	;;
soak)
	load_driver || exit 1
	rpmb-guest soak --seconds "${E2E_SECONDS:-60}"
	;;
flood)
	load_driver || exit 1
	rpmb-guest flood --seconds "${E2E_SECONDS:-30}"
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
