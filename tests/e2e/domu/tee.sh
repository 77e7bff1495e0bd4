#!/bin/busybox sh
# The OP-TEE part of a TEE test domU (e2e.tee=1 on the kernel command
# line; domu/init runs it after virtio-mmio is loaded). Loads our
# virtio-rpmb driver, starts tee-supplicant and runs the xtest cases named
# by e2e.xtest (comma separated). Prints E2E-GUEST lines that dom0's
# scenarios judge: the driver's registration line, the RPMB routing model
# OP-TEE's Linux driver chose, and per xtest case its sub-test counts
# (xtest exits 0 even when its storage init failed, so its exit status
# says nothing).

say() {
	echo "E2E-GUEST: $*"
}

insmod /tee/virtio_rpmb.ko || say "tee insmod virtio_rpmb failed"
sleep 1
dmesg | grep -i 'virtio_rpmb\|rpmb' | while read -r line; do
	say "tee dmesg $line"
done
# "kernel": OP-TEE routes RPMB frames through the kernel's RPMB subsystem
# (our driver); "user" would mean tee-supplicant's eMMC path.
say "tee rpmb_routing_model=$(cat /sys/class/tee/tee0/rpmb_routing_model 2>/dev/null || echo none)"

# tee-supplicant still loads the TAs from /lib/optee_armtz; OP-TEE is
# built RPMB-only, so all secure storage is on our device and a rebooted
# guest loses nothing with its tmpfs.
mkdir -p /data/tee
tee-supplicant -d || say "tee tee-supplicant failed to start"
sleep 1

# Steps, comma separated: xtest case ids; "sleepN" gives dom0 N seconds
# with the device idle (optee-rpmb-persists restarts the daemon and rolls
# the store back then); "put:ID:DATA" and "get:ID" store and fetch one
# object on RPMB through tee-object.
for id in $(echo "$1" | tr ',' ' '); do
	case "$id" in
	sleep*)
		say "tee sleeping ${id#sleep} s"
		sleep "${id#sleep}"
		continue
		;;
	put:*:*)
		step=${id#put:}
		say "tee-object $(tee-object put "${step%%:*}" "${step#*:}" 2>&1)"
		continue
		;;
	get:*)
		say "tee-object $(tee-object get "${id#get:}" 2>&1)"
		continue
		;;
	esac
	xtest "$id" >"/tmp/xtest-$id.log" 2>&1
	rc=$?
	# "N subtests of which M failed" is xtest's own verdict.
	sum=$(grep -E '^[0-9]+ subtests of which [0-9]+ failed' "/tmp/xtest-$id.log" | tail -n1)
	bad=$(grep -c 'init_storage_info() failed' "/tmp/xtest-$id.log")
	say "xtest $id rc=$rc ${sum:-no summary} storage_init_failed=$bad"
	grep -E 'FAILED|failed' "/tmp/xtest-$id.log" | grep -v 'subtests of which\|test cases* of which' |
		head -n 5 | sed "s/^/E2E-GUEST: xtest $id detail /"
done
say "tee dmesg-end $(dmesg | grep -i virtio_rpmb | tail -n 1)"
say "tee done"
