#!/bin/sh
# End-to-end scenarios, run by dom0's /init inside the emulated machine
# (busybox sh). Each scenario prints exactly one line
#     E2E-RESULT: <name> PASS|FAIL|SKIP [(detail)]
# on dom0's console; the host script counts them. A domU reports through
# its console, which xenconsoled logs to /var/log/xen/console/.
#
# Files the host put into this initramfs:
#   /e2e/domu/Image, /e2e/domu/initrd.gz   guest kernel and initramfs
#   /e2e/domu/has-guest-program            present if the guest helper's
#                                          /guest/run.sh is in the initrd
#   /usr/sbin/xen-rpmb-backend              the daemon, if it was built
#   /e2e/backend-args                       its command line arguments
#   /e2e/only                               optional: scenario names to run
#   /e2e/verbose                            optional: show all guest consoles

DOMU_KERNEL=/e2e/domu/Image
DOMU_RAMDISK=/e2e/domu/initrd.gz
BACKEND=/usr/sbin/xen-rpmb-backend
BACKEND_LOG=/var/log/xen-rpmb-backend.log
CONSOLE_LOGS=/var/log/xen/console
XLV="sh /usr/local/sbin/xl-virtio-rpmb"
BACKEND_PID=

result() {
	echo "E2E-RESULT: $1 $2${3:+ ($3)}"
}

note() {
	echo "E2E-NOTE: $*"
}

wanted() {
	[ ! -s /e2e/only ] || grep -qx "$1" /e2e/only
}

guest_log() {
	echo "$CONSOLE_LOGS/guest-$1.log"
}

# Prints a domU's console log with a prefix (so its marker lines are not
# counted as dom0's).
dump_guest_log() {
	echo "----- console of guest $1 -----"
	sed "s/^/  [$1] /" "$(guest_log "$1")" 2>/dev/null
	echo "----- end of console of guest $1 -----"
}

dump_backend_log() {
	[ -f "$BACKEND_LOG" ] || return 0
	echo "----- backend log (last 60 lines) -----"
	tail -n 60 "$BACKEND_LOG" | sed 's/^/  [backend] /'
	echo "----- end of backend log -----"
}

# Waits up to $3 s for a line matching the extended regex $2 in the console
# log of guest $1; prints the line. Gives up early if the guest kernel
# oopsed or panicked.
wait_guest_line() {
	local name=$1 re=$2 secs=$3 i=0 log
	log=$(guest_log "$name")
	while [ $i -lt $((secs * 2)) ]; do
		if grep -Eq "$re" "$log" 2>/dev/null; then
			grep -E "$re" "$log" | tr -d '\r' | head -n1
			return 0
		fi
		if grep -Eq 'Internal error: Oops|Kernel panic|Unable to handle kernel' "$log" 2>/dev/null; then
			sleep 1
			return 1
		fi
		sleep 0.5
		i=$((i + 1))
	done
	return 1
}

# Writes an xl config for a test guest; $2 is appended to the kernel
# command line.
guest_config() {
	local name=$1 extra=$2 cfg=/tmp/$1.cfg
	cat >"$cfg" <<-EOF
	name = "$name"
	kernel = "$DOMU_KERNEL"
	ramdisk = "$DOMU_RAMDISK"
	extra = "console=hvc0 loglevel=6 $extra"
	memory = 128
	vcpus = 1
	on_crash = "preserve"
	EOF
	echo "$cfg"
}

# create NAME grant|foreign EXTRA [xl-virtio-rpmb create options]
create_guest() {
	local name=$1 mode=$2 extra=$3 cfg
	shift 3
	rm -f "$(guest_log "$name")"
	cfg=$(guest_config "$name" "$extra")
	$XLV create "--$mode" "$@" "$cfg" >/tmp/$name.domid 2>/tmp/$name.create.log
	local rc=$?
	sed "s/^/  [create $name] /" /tmp/$name.create.log
	return $rc
}

domid_of() {
	cat "/tmp/$1.domid"
}

# With E2E_VERBOSE=1 on the host, every guest console is shown.
verbose_guest_log() {
	[ -f /e2e/verbose ] && dump_guest_log "$1"
	return 0
}

# destroy_guest NAME [SECONDS to wait for the backend to close]
destroy_guest() {
	verbose_guest_log "$1"
	XL_VIRTIO_RPMB_DESTROY_TIMEOUT=${2:-10} $XLV destroy "$1" 2>&1 | sed "s/^/  [destroy $1] /"
}

# Checks the xenstore nodes of guest $1 against what libxl 4.18 writes;
# prints the first mismatch.
check_xenstore() {
	local domid=$1 grant=$2 be fe key want got
	be=/local/domain/0/backend/virtio/$domid/0
	fe=/local/domain/$domid/device/virtio/0
	for kv in "frontend=$fe" "frontend-id=$domid" "online=1" "irq=33" \
		"base=0x2000000" "type=virtio,device1c" "transport=mmio" \
		"grant_usage=$grant"; do
		key=${kv%%=*}
		want=${kv#*=}
		got=$(xenstore-read "$be/$key" 2>/dev/null)
		[ "$got" = "$want" ] || { echo "$be/$key is '$got', want '$want'"; return 1; }
	done
	for kv in "backend=$be" "backend-id=0" "state=1"; do
		key=${kv%%=*}
		want=${kv#*=}
		got=$(xenstore-read "$fe/$key" 2>/dev/null)
		[ "$got" = "$want" ] || { echo "$fe/$key is '$got', want '$want'"; return 1; }
	done
	# Permissions: backend owned by dom0 and readable by the guest, and
	# the other way round for the frontend.
	got=$(xenstore-ls -p "${be%/0}" 2>/dev/null | sed -n 's/^0 = "".*  \((.*)\)$/\1/p')
	case "$got" in
	"(n0,r$domid)") ;;
	*) echo "backend permissions '$got', want (n0,r$domid)"; return 1 ;;
	esac
	return 0
}

# Checks that guest $1's device tree node is what libxl 4.18 would give.
check_guest_dt() {
	local name=$1 grant=$2 line iommus=no spis
	[ "$grant" = 1 ] && iommus=yes
	line=$(wait_guest_line "$name" 'E2E-GUEST: dt ' 60) || { echo "guest printed no dt line"; return 1; }
	echo "$line" | grep -q "compatible=virtio,mmio iommus=$iommus interrupts=000000000000000100000f01 " ||
		{ echo "unexpected: $line"; return 1; }
	# SPI 33 is SPI number 1: the guest's GIC must implement at least 2.
	spis=$(echo "$line" | sed -n 's/.* spis=\([0-9]*\).*/\1/p')
	[ "${spis:-0}" -ge 2 ] || { echo "guest GIC has too few SPIs: $line"; return 1; }
	return 0
}

# A destroyed domain may stay "dying" for a moment while Xen frees its
# memory; one that stays longer (e.g. an ioreq server nobody destroyed, or
# grants still mapped) is a failure.
check_gone() {
	local domid=$1 i=0
	while xl list "$domid" >/dev/null 2>&1; do
		if [ $i -ge 20 ]; then
			echo "domain $domid still exists 10 s after destroy: $(xl list "$domid" 2>&1 | tail -n1)"
			return 1
		fi
		sleep 0.5
		i=$((i + 1))
	done
	if xenstore-exists "/local/domain/0/backend/virtio/$domid" 2>/dev/null; then
		echo "backend nodes of $domid left behind"
		return 1
	fi
	return 0
}

# ---------------------------------------------------------------------
# Infrastructure scenarios: need no backend.

scenario_toolstack() {
	local ver
	ver=$(xl info 2>/dev/null | sed -n 's/^xen_version *: *//p')
	if [ -n "$ver" ] && xl list 0 >/dev/null 2>&1; then
		result toolstack PASS "Xen $ver"
	else
		result toolstack FAIL "xl info/list failed"
	fi
}

# A guest gets the virtio-mmio node and xenstore nodes, boots, and goes
# away cleanly. No backend: the guest must not touch the device.
scenario_dt() {
	local mode=$1 grant=0 name=dt-$1 domid why=""
	[ "$mode" = grant ] && grant=1
	if ! create_guest "$name" "$mode" "" --no-wait; then
		result "toolstack-$mode" FAIL "create"
		return
	fi
	domid=$(domid_of "$name")
	why=$(check_xenstore "$domid" "$grant") &&
		why=$(check_guest_dt "$name" "$grant") && why=""
	destroy_guest "$name" 1
	[ -z "$why" ] && { why=$(check_gone "$domid") && why=""; }
	if [ -z "$why" ]; then
		result "toolstack-$mode" PASS "$(grep 'E2E-GUEST: dt' "$(guest_log "$name")" | tr -d '\r' | sed 's/.*dt //')"
	else
		dump_guest_log "$name"
		result "toolstack-$mode" FAIL "$why"
	fi
}

# Two guests with a device each at the same time (one grant, one foreign).
scenario_two_guests() {
	local why="" a b
	create_guest two-a grant "" --no-wait || why="create two-a"
	[ -z "$why" ] && { create_guest two-b foreign "" --no-wait || why="create two-b"; }
	if [ -z "$why" ]; then
		a=$(domid_of two-a)
		b=$(domid_of two-b)
		why=$(check_xenstore "$a" 1) && why=$(check_xenstore "$b" 0) &&
			why=$(check_guest_dt two-a 1) && why=$(check_guest_dt two-b 0) && why=""
	fi
	destroy_guest two-a 1
	destroy_guest two-b 1
	if [ -z "$why" ]; then
		why=$(check_gone "$a") && why=$(check_gone "$b") && why=""
	fi
	if [ -z "$why" ]; then
		result toolstack-two-guests PASS "domids $a $b"
	else
		dump_guest_log two-a
		dump_guest_log two-b
		result toolstack-two-guests FAIL "$why"
	fi
}

# ---------------------------------------------------------------------
# Scenarios with the daemon.

start_backend() {
	local args=""
	[ -f /e2e/backend-args ] && args=$(cat /e2e/backend-args)
	mkdir -p /var/lib/xen-rpmb
	note "starting: $BACKEND $args"
	# shellcheck disable=SC2086 # args is a word list on purpose
	$BACKEND $args >"$BACKEND_LOG" 2>&1 &
	BACKEND_PID=$!
	sleep 2
	if ! kill -0 "$BACKEND_PID" 2>/dev/null; then
		dump_backend_log
		BACKEND_PID=
		return 1
	fi
	return 0
}

# The guest loads virtio-mmio; the daemon answers the probe: the guest
# sees a virtio device with id 28 (0x001c), and the device is closed
# properly (state 6) when the guest is destroyed.
scenario_probe() {
	local mode=$1 name=probe-$1 domid why="" line
	if ! create_guest "$name" "$mode" "e2e.probe=1"; then
		dump_backend_log
		result "backend-probe-$mode" FAIL "backend did not reach InitWait"
		return
	fi
	domid=$(domid_of "$name")
	line=$(wait_guest_line "$name" 'E2E-GUEST: virtio ' 60) ||
		why="guest printed no virtio line (its console follows)"
	if [ -z "$why" ]; then
		echo "$line" | grep -q 'device=0x001c' || why="unexpected: $line"
	fi
	destroy_guest "$name" >/tmp/$name.destroy.log
	cat /tmp/$name.destroy.log
	grep -q 'backend closed the device' /tmp/$name.destroy.log ||
		why="${why:+$why; }backend did not write state 6"
	sleep 1
	[ -z "$why" ] && { why=$(check_gone "$domid") && why=""; }
	note "store dir after $name: $(ls /var/lib/xen-rpmb 2>/dev/null | tr '\n' ' ')"
	if [ -z "$why" ]; then
		result "backend-probe-$mode" PASS "${line#*virtio }"
	else
		dump_guest_log "$name"
		dump_backend_log
		result "backend-probe-$mode" FAIL "$why"
	fi
}

# The guest helper's program (/guest/run.sh in the domU) runs its tests;
# its own E2E-RESULT lines are relayed as <scenario>/<test>.
scenario_guest_program() {
	local mode=$1 name=guest-$1 why="" exitline
	if [ ! -f /e2e/domu/has-guest-program ]; then
		result "guest-program-$mode" SKIP "no tests/e2e/guest/build.sh output"
		return
	fi
	if ! create_guest "$name" "$mode" "e2e.probe=1 e2e.guest=1 e2e.test=all e2e.mode=$mode"; then
		dump_backend_log
		result "guest-program-$mode" FAIL "backend did not reach InitWait"
		return
	fi
	exitline=$(wait_guest_line "$name" 'E2E-GUEST: guest-program ' 300) ||
		why="guest program did not finish in 300 s"
	grep -E '^E2E-RESULT: ' "$(guest_log "$name")" | tr -d '\r' |
		sed "s|^E2E-RESULT: |E2E-RESULT: guest-$mode/|"
	destroy_guest "$name"
	[ -z "$why" ] && case "$exitline" in
		*exit=0) ;;
		*) why="${exitline#E2E-GUEST: }" ;;
		esac
	[ -z "$why" ] && { why=$(check_gone "$(domid_of "$name")") && why=""; }
	if [ -z "$why" ]; then
		result "guest-program-$mode" PASS
	else
		dump_guest_log "$name"
		dump_backend_log
		result "guest-program-$mode" FAIL "$why"
	fi
}

# Two guests served at the same time by the one daemon.
scenario_probe_two() {
	local why="" l1 l2
	create_guest pair-a grant "e2e.probe=1" || why="create pair-a"
	[ -z "$why" ] && { create_guest pair-b foreign "e2e.probe=1" || why="create pair-b"; }
	if [ -z "$why" ]; then
		l1=$(wait_guest_line pair-a 'E2E-GUEST: virtio ' 60) &&
			l2=$(wait_guest_line pair-b 'E2E-GUEST: virtio ' 60) ||
			why="a guest printed no virtio line"
	fi
	[ -z "$why" ] && ! echo "$l1 $l2" | grep -q 'device=0x001c.*device=0x001c' &&
		why="unexpected: $l1 / $l2"
	destroy_guest pair-a
	destroy_guest pair-b
	if [ -z "$why" ]; then
		why=$(check_gone "$(domid_of pair-a)") &&
			why=$(check_gone "$(domid_of pair-b)") && why=""
	fi
	if [ -z "$why" ]; then
		result backend-two-guests PASS
	else
		dump_guest_log pair-a
		dump_guest_log pair-b
		dump_backend_log
		result backend-two-guests FAIL "$why"
	fi
}

# start_guest_program NAME MODE TEST: creates NAME running the guest
# program's TEST (see tests/e2e/guest/run.sh).
start_guest_program() {
	create_guest "$1" "$2" "e2e.probe=1 e2e.guest=1 e2e.test=$3 e2e.mode=$2"
}

# finish_guest_program NAME [SECONDS]: waits for NAME's program to end,
# relays its E2E-RESULT lines as NAME/<test>; sets WHY (empty: exit 0).
finish_guest_program() {
	local name=$1 exitline
	WHY=""
	exitline=$(wait_guest_line "$name" 'E2E-GUEST: guest-program ' "${2:-300}") ||
		WHY="$name: guest program did not finish"
	grep -E '^E2E-RESULT: ' "$(guest_log "$name")" | tr -d '\r' |
		sed "s|^E2E-RESULT: |E2E-RESULT: $name/|"
	[ -z "$WHY" ] && case "$exitline" in
		*exit=0) ;;
		*) WHY="$name: ${exitline#E2E-GUEST: }" ;;
		esac
	return 0
}

# report SCENARIO [GUESTS...]: PASS if WHY is empty, else FAIL with logs.
report() {
	local scen=$1 g
	shift
	if [ -z "$WHY" ]; then
		result "$scen" PASS "$DETAIL"
		return
	fi
	for g in "$@"; do
		dump_guest_log "$g"
	done
	dump_backend_log
	result "$scen" FAIL "$WHY"
}

backend_alive() {
	kill -0 "$BACKEND_PID" 2>/dev/null
}

# Two guests run the whole RPMB check at the same time, each on its own
# store (a fresh one each: both must find no key, program their own).
scenario_two_stores() {
	local w1
	WHY="" DETAIL=""
	start_guest_program pair-grant grant all || WHY="create pair-grant"
	[ -z "$WHY" ] && { start_guest_program pair-foreign foreign all || WHY="create pair-foreign"; }
	if [ -z "$WHY" ]; then
		finish_guest_program pair-grant
		w1=$WHY
		finish_guest_program pair-foreign
		WHY="$w1${w1:+${WHY:+; }}$WHY"
	fi
	destroy_guest pair-grant
	destroy_guest pair-foreign
	# One directory per guest, the workers' user's alone.
	for g in pair-grant pair-foreign; do
		if [ ! -f /var/lib/xen-rpmb/$g/0.rpmb ]; then
			WHY="${WHY:+$WHY; }missing store $g/0.rpmb: $(ls /var/lib/xen-rpmb | tr '\n' ' ')"
		elif [ "$(stat -c '%u %a' /var/lib/xen-rpmb/$g)" != "990 700" ]; then
			WHY="${WHY:+$WHY; }$g/ is $(stat -c 'uid %u mode %a' /var/lib/xen-rpmb/$g), not the workers' own"
		fi
	done
	DETAIL="stores: $(ls -d /var/lib/xen-rpmb/pair-*/*.rpmb | tr '\n' ' ')"
	report backend-two-guests-separate-stores pair-grant pair-foreign
}

# A guest that goes away and comes back under the same name (as after a
# reboot: a new domid) finds its key, counter and data. guest-grant left
# counter 2 in guest-program-grant.
scenario_reboot_keeps_state() {
	local old
	WHY="" DETAIL=""
	old=$(domid_of guest-grant 2>/dev/null)
	start_guest_program guest-grant grant persist || WHY="create"
	[ -z "$WHY" ] && finish_guest_program guest-grant
	DETAIL="domid ${old:-?} then $(domid_of guest-grant)"
	destroy_guest guest-grant
	report guest-reboot-keeps-state guest-grant
}

# Requests in flight when the toolstack destroys the guest outright: the
# daemon survives, the domain goes away, and a different guest created
# next (Xen may hand it the same domid) finds a fresh store.
scenario_destroy_during_traffic() {
	local domid new
	WHY="" DETAIL=""
	start_guest_program traffic foreign traffic || WHY="create traffic"
	[ -z "$WHY" ] && { wait_guest_line traffic 'E2E-GUEST: traffic-started' 120 >/dev/null ||
		WHY="traffic never started"; }
	domid=$(domid_of traffic)
	sleep 2
	xl destroy "$domid"
	$XLV cleanup 2>&1 | sed 's/^/  [cleanup] /'
	sleep 1
	backend_alive || WHY="${WHY:+$WHY; }daemon died"
	[ -z "$WHY" ] && { WHY=$(check_gone "$domid") && WHY=""; }
	if [ -z "$WHY" ]; then
		start_guest_program newcomer grant fresh || WHY="create newcomer"
		[ -z "$WHY" ] && finish_guest_program newcomer
		new=$(domid_of newcomer)
		destroy_guest newcomer
		DETAIL="destroyed domid $domid mid-traffic; newcomer got domid $new$([ "$new" = "$domid" ] && echo ' (reused)')"
	fi
	report backend-destroy-during-traffic traffic newcomer
}

# SIGTERM and restart of the daemon while a guest runs: the restarted
# daemon serves the device again and the guest's state is intact.
scenario_backend_restart() {
	local i
	WHY="" DETAIL=""
	start_guest_program restart grant restart || WHY="create restart"
	[ -z "$WHY" ] && { wait_guest_line restart 'E2E-GUEST: restart-ready' 180 >/dev/null ||
		WHY="guest never got ready"; }
	if [ -z "$WHY" ]; then
		kill -TERM "$BACKEND_PID"
		for i in $(seq 1 20); do
			backend_alive || break
			sleep 0.5
		done
		if backend_alive; then
			WHY="daemon ignored SIGTERM"
		else
			wait "$BACKEND_PID"
			DETAIL="daemon exit status $?"
			mv "$BACKEND_LOG" "$BACKEND_LOG.before-restart"
			start_backend || WHY="daemon did not start again"
		fi
	fi
	[ -z "$WHY" ] && finish_guest_program restart
	destroy_guest restart
	report backend-restart restart
}

# A hostile guest (garbage in registers and rings, foreign mode so the
# daemon really maps what it is pointed at) next to a normal one.
scenario_garbage_guest() {
	local line
	WHY="" DETAIL=""
	start_guest_program garbage foreign garbage || WHY="create garbage"
	[ -z "$WHY" ] && { start_guest_program victim grant all || WHY="create victim"; }
	[ -z "$WHY" ] && finish_guest_program victim
	line=$(wait_guest_line garbage 'E2E-GUEST: garbage done' 120) ||
		line="hostile guest did not report (it may have crashed itself)"
	DETAIL="${line#E2E-GUEST: }"
	destroy_guest garbage
	destroy_guest victim
	backend_alive || WHY="${WHY:+$WHY; }daemon died"
	report backend-garbage-guest garbage victim
}

# The comparison figures, from inside a grant-mode guest.
scenario_bench() {
	WHY="" DETAIL=""
	start_guest_program bench grant bench || WHY="create bench"
	[ -z "$WHY" ] && finish_guest_program bench
	grep -E 'BENCH op=' "$(guest_log bench)" | tr -d '\r' | sed 's/^/E2E-NOTE: /'
	[ "$(grep -c 'BENCH op=' "$(guest_log bench)")" -eq 5 ] ||
		WHY="${WHY:+$WHY; }expected 5 BENCH lines"
	destroy_guest bench
	report guest-bench bench
}

stop_backend() {
	local i
	if ! kill -0 "$BACKEND_PID" 2>/dev/null; then
		dump_backend_log
		result backend-alive FAIL "daemon died during the scenarios"
		return
	fi
	kill -TERM "$BACKEND_PID"
	for i in $(seq 1 20); do
		kill -0 "$BACKEND_PID" 2>/dev/null || break
		sleep 0.5
	done
	if kill -0 "$BACKEND_PID" 2>/dev/null; then
		kill -KILL "$BACKEND_PID"
		dump_backend_log
		result backend-alive FAIL "daemon ignored SIGTERM for 10 s"
	else
		result backend-alive PASS "ran all scenarios, stopped on SIGTERM"
	fi
}

run_backend_scenarios() {
	if [ -s /e2e/only ] && ! grep -Eq '^(backend|guest)' /e2e/only; then
		return
	fi
	if [ ! -x "$BACKEND" ]; then
		result backend SKIP "xen-rpmb-backend was not built"
		return
	fi
	if ! start_backend; then
		result backend-start FAIL "daemon exited at once"
		return
	fi
	wanted backend-probe-grant && scenario_probe grant
	wanted backend-probe-foreign && scenario_probe foreign
	wanted backend-two-guests && scenario_probe_two
	wanted guest-program-grant && scenario_guest_program grant
	wanted guest-program-foreign && scenario_guest_program foreign
	if [ -f /e2e/domu/has-guest-program ]; then
		wanted guest-reboot-keeps-state && scenario_reboot_keeps_state
		wanted backend-two-guests-separate-stores && scenario_two_stores
		wanted backend-destroy-during-traffic && scenario_destroy_during_traffic
		wanted backend-garbage-guest && scenario_garbage_guest
		wanted guest-bench && scenario_bench
		wanted backend-restart && scenario_backend_restart
	fi
	stop_backend
}

wanted toolstack && scenario_toolstack
wanted toolstack-grant && scenario_dt grant
wanted toolstack-foreign && scenario_dt foreign
wanted toolstack-two-guests && scenario_two_guests
run_backend_scenarios
