#!/bin/sh
# End-to-end scenarios, run by dom0's /init inside the emulated machine
# (busybox sh), under Xen 4.20 with FLASK enforcing and Debian 13's xl.
#
# One style: each scenario is one function scn_<name> (dashes become
# underscores) that sets up its own preconditions (daemon running or not,
# fresh stores, its own guests under its own names), so that any of them
# runs alone (E2E_ONLY=<name> on the host) and none depends on what an
# earlier one left behind. Each prints exactly one line
#     E2E-RESULT: <name> PASS|FAIL|SKIP [(detail)]
# on dom0's console; the host script counts them. Guests report through
# their console, which xenconsoled logs to /var/log/xen/console/.
#
# Guests are created by the real xl from the project's example configs
# (xl-config/, copied verbatim to /etc/xen/examples), overriding only
# kernel, ramdisk, name, extra, memory and vcpus on xl's command line.
#
# Files the host put into this initramfs:
#   /e2e/domu/Image, /e2e/domu/initrd.gz   guest kernel and initramfs
#   /e2e/domu/has-guest-program            the guest program is in it
#   /e2e/dd/initrd.gz                      driver domain initramfs
#   /usr/sbin/xen-rpmb-backend             the daemon, if it was built
#   /e2e/backend-args                      its command line arguments
#   /usr/local/sbin/domain-destroy-raw     xc_domain_destroy() helper
#   /e2e/only                              optional: scenarios to run
#   /e2e/verbose                           optional: show guest consoles

EXAMPLES=/etc/xen/examples
DOMU_KERNEL=/e2e/domu/Image
DOMU_RAMDISK=/e2e/domu/initrd.gz
DD_RAMDISK=/e2e/dd/initrd.gz
BACKEND=/usr/sbin/xen-rpmb-backend
BACKEND_LOG=/var/log/xen-rpmb-backend.log
STORES=/var/lib/xen-rpmb
CONSOLE_LOGS=/var/log/xen/console
BACKEND_PID=
DAEMON_DEATHS=0

# ---------------------------------------------------------------------
# Reporting

result() {
	echo "E2E-RESULT: $1 $2${3:+ ($3)}"
}

note() {
	echo "E2E-NOTE: $*"
}

wanted() {
	[ ! -s /e2e/only ] || grep -qx "$1" /e2e/only
}

# begin NAME: the scenario's bookkeeping. WHY collects failure reasons
# (empty: pass), DETAIL is the pass detail, LOG_MARK the daemon log line
# the scenario starts at.
begin() {
	SCEN=$1
	WHY=""
	DETAIL=""
	LOG_MARK=$({ wc -l <"$BACKEND_LOG"; } 2>/dev/null || echo 0)
}

# fail MSG: adds a failure reason.
fail() {
	WHY="${WHY:+$WHY; }$*"
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
	echo "----- daemon log since this scenario (last 60 lines) -----"
	tail -n +$((LOG_MARK + 1)) "$BACKEND_LOG" | tail -n 60 | sed 's/^/  [backend] /'
	echo "----- end of daemon log -----"
}

# The daemon's log lines written during this scenario.
backend_log_since() {
	tail -n +$((LOG_MARK + 1)) "$BACKEND_LOG" 2>/dev/null
}

# report [GUESTS...]: PASS if WHY is empty, else FAIL with the guests'
# consoles and the daemon's log.
report() {
	local g
	if [ -z "$WHY" ]; then
		for g in "$@"; do
			[ -f /e2e/verbose ] && dump_guest_log "$g"
		done
		result "$SCEN" PASS "$DETAIL"
		return
	fi
	for g in "$@"; do
		dump_guest_log "$g"
	done
	dump_backend_log
	result "$SCEN" FAIL "$WHY"
}

skip() {
	result "$SCEN" SKIP "$*"
}

# Seconds since boot, with hundredths: for durations.
now() {
	cut -d' ' -f1 /proc/uptime
}

elapsed() {
	awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'
}

# ---------------------------------------------------------------------
# Guests

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

domid_of() {
	cat "/tmp/$1.domid" 2>/dev/null
}

# guest_create NAME EXAMPLE EXTRA [KEY=VALUE...]: `xl create -p` of
# /etc/xen/examples/EXAMPLE, verbatim, with the test's kernel, ramdisk,
# name, memory 128, one vCPU and EXTRA on the kernel command line; later
# KEY=VALUE arguments override (xl takes the last value). The guest stays
# paused; its domid goes to /tmp/NAME.domid.
guest_create() {
	local name=$1 example=$2 extra=$3 rc
	shift 3
	rm -f "$(guest_log "$name")" "/tmp/$name.domid"
	timeout 120 xl create -p "$EXAMPLES/$example" "name=\"$name\"" \
		"kernel=\"$DOMU_KERNEL\"" "ramdisk=\"$DOMU_RAMDISK\"" \
		"memory=128" "vcpus=1" \
		"extra=\"console=hvc0 loglevel=6 $extra\"" "$@" \
		>"/tmp/$name.create.log" 2>&1
	rc=$?
	if [ $rc -ne 0 ]; then
		sed "s/^/  [xl create $name] /" "/tmp/$name.create.log"
		return 1
	fi
	xl domid "$name" >"/tmp/$name.domid" 2>/dev/null
}

# The backend directory of device DEVID of domain F, from the frontend's
# own "backend" key (dom0's or a driver domain's).
backend_dir() {
	xenstore-read "/local/domain/$1/device/virtio/$2/backend" 2>/dev/null
}

# The devids of domain F's virtio devices.
devids_of() {
	xenstore-list "/local/domain/$1/device/virtio" 2>/dev/null
}

# wait_backend_state F STATE SECS: every virtio device of F reaches
# backend state STATE (2 = InitWait: the daemon serves it).
wait_backend_state() {
	local f=$1 want=$2 secs=$3 i=0 d ok
	while [ $i -lt $((secs * 10)) ]; do
		ok=1
		for d in $(devids_of "$f"); do
			[ "$(xenstore-read "$(backend_dir "$f" "$d")/state" 2>/dev/null)" = "$want" ] || ok=0
		done
		[ -n "$(devids_of "$f")" ] && [ $ok = 1 ] && return 0
		sleep 0.1
		i=$((i + 1))
	done
	return 1
}

# guest_start NAME EXAMPLE EXTRA [KEY=VALUE...]: the tested way to start
# a guest whose devices a daemon serves: create paused, wait until the
# backend has claimed every device (state 2), unpause. A guest that probes
# virtio-mmio before the backend claims the window takes a data abort.
guest_start() {
	local name=$1 f
	guest_create "$@" || return 1
	f=$(domid_of "$name")
	if ! wait_backend_state "$f" 2 30; then
		echo "  [start $name] backend never reached state 2 for dom$f"
		return 1
	fi
	xl unpause "$f"
}

# guest_destroy NAME: plain `xl destroy`; prints how long it took and
# what xl said (on a timeout: "unable to remove device").
guest_destroy() {
	local name=$1 t0
	t0=$(now)
	timeout 60 xl destroy "$name" >"/tmp/$name.destroy.log" 2>&1
	echo "$(elapsed "$t0")" >"/tmp/$name.destroy.secs"
	sed "s/^/  [xl destroy $name] /" "/tmp/$name.destroy.log"
}

# destroyed_quickly NAME: the last guest_destroy of NAME did not wait
# for libxl's 10 s timeout (the daemon answered state 5 with 6) and xl
# had nothing to complain about.
destroyed_quickly() {
	local secs
	secs=$(cat "/tmp/$1.destroy.secs" 2>/dev/null)
	if grep -q 'unable to remove' "/tmp/$1.destroy.log" ||
		[ "$(awk -v s="${secs:-99}" 'BEGIN { print (s < 10) }')" != 1 ]; then
		echo "xl destroy $1 took ${secs:-?} s: $(tr '\n' ' ' <"/tmp/$1.destroy.log")"
		return 1
	fi
	return 0
}

# check_gone F [BACKEND-DOMID]: the domain has left `xl list` (a domain
# that stays "dying" still has mappings or an ioreq server nobody
# released) and xenstore holds nothing of it.
check_gone() {
	local f=$1 be=${2:-0} i=0
	while xl list "$f" >/dev/null 2>&1; do
		if [ $i -ge 20 ]; then
			echo "domain $f still exists 10 s after destroy: $(xl list "$f" 2>&1 | tail -n1)"
			return 1
		fi
		sleep 0.5
		i=$((i + 1))
	done
	for p in "/local/domain/$be/backend/virtio/$f" "/local/domain/$f" "/libxl/$f"; do
		if xenstore-exists "$p" 2>/dev/null; then
			echo "$p left behind"
			return 1
		fi
	done
	return 0
}

# relay NAME PREFIX: the guest's own E2E-RESULT lines, as PREFIX/<test>.
relay() {
	grep -E '^E2E-RESULT: ' "$(guest_log "$1")" 2>/dev/null | tr -d '\r' |
		sed "s|^E2E-RESULT: |E2E-RESULT: $2/|"
}

# finish_program NAME [SECONDS] [PREFIX]: waits for NAME's guest program
# to end and relays its results (as PREFIX/, default NAME/); a non-zero
# exit or a timeout is a failure.
finish_program() {
	local name=$1 exitline
	if ! xl domid "$name" >/dev/null 2>&1; then
		fail "$name: no such domain"
		return
	fi
	exitline=$(wait_guest_line "$name" 'E2E-GUEST: guest-program ' "${2:-300}") ||
		{ fail "$name: guest program did not finish"; }
	relay "$name" "${3:-$name}"
	case "$exitline" in
	"" | *exit=0) ;;
	*) fail "$name: ${exitline#E2E-GUEST: }" ;;
	esac
}

# start_program NAME EXAMPLE TEST [KEY=VALUE...]: a guest that runs the
# guest program's TEST (tests/e2e/guest/run.sh) on a served device.
start_program() {
	local name=$1 example=$2 test=$3 mode=grant
	shift 3
	case "$example" in *foreign*) mode=foreign ;; esac
	guest_start "$name" "$example" \
		"e2e.probe=1 e2e.guest=1 e2e.test=$test e2e.mode=$mode" "$@"
}

example_for() {
	case "$1" in
	grant) echo rpmb-guest.cfg ;;
	foreign) echo rpmb-guest-foreign.cfg ;;
	esac
}

have_program() {
	[ -f /e2e/domu/has-guest-program ]
}

# fresh_store NAME: no store for guest NAME yet (the scenario's own
# precondition; the daemon creates the guest's directory and its stores
# on first use).
fresh_store() {
	rm -rf "$STORES/$1"
}

# store_of NAME DEVID: guest NAME's store of device DEVID.
store_of() {
	echo "$STORES/$1/$2.rpmb"
}

# check_guest_dir NAME: the guest's directory is the workers' user's
# alone (uid 990 in this dom0, mode 0700).
check_guest_dir() {
	local got
	got=$(stat -c '%u %a' "$STORES/$1" 2>/dev/null)
	[ "$got" = "990 700" ] || { echo "$STORES/$1 is '$got', want uid 990 mode 700"; return 1; }
}

# store_info FILE: "key=<programmed|not programmed> counter=N" from
# rpmb-image, which must get the store's lock: it fails while a daemon
# still holds the store open.
store_info() {
	rpmb-image info "$1" 2>&1 | awk -F': ' '
		/^key:/ { k = $2 } /^write-counter:/ { c = $2 }
		/^rpmb-image:/ { e = $0 }
		END { if (e) print "error: " e; else printf "key=%s counter=%s\n", k, c }'
}

# ---------------------------------------------------------------------
# The daemon in dom0

daemon_running() {
	[ -n "$BACKEND_PID" ] && kill -0 "$BACKEND_PID" 2>/dev/null
}

# Starts the daemon and waits until it watches xenstore (it then serves
# any device that appears).
daemon_start() {
	local args="" i
	[ -f /e2e/backend-args ] && args=$(cat /e2e/backend-args)
	mkdir -p "$STORES"
	note "starting: $BACKEND $args"
	# shellcheck disable=SC2086 # args is a word list on purpose
	$BACKEND $args >>"$BACKEND_LOG" 2>&1 &
	BACKEND_PID=$!
	for i in $(seq 1 100); do
		daemon_running || break
		tail -n 5 "$BACKEND_LOG" | grep -q 'watching' && return 0
		sleep 0.1
	done
	daemon_running && return 0
	tail -n 20 "$BACKEND_LOG" | sed 's/^/  [backend] /'
	BACKEND_PID=
	return 1
}

# Stops the daemon with SIGTERM; fails if it does not exit within 10 s
# or exits non-zero.
daemon_stop() {
	local i rc
	daemon_running || { BACKEND_PID=; return 0; }
	kill -TERM "$BACKEND_PID"
	for i in $(seq 1 100); do
		daemon_running || break
		sleep 0.1
	done
	if daemon_running; then
		kill -KILL "$BACKEND_PID"
		BACKEND_PID=
		return 1
	fi
	wait "$BACKEND_PID"
	rc=$?
	BACKEND_PID=
	return $rc
}

# Precondition of the daemon scenarios: a daemon runs (a fresh one if
# none, e.g. when the scenario runs alone). A daemon that died in an
# earlier scenario was reported there; it is counted for backend-alive.
need_daemon() {
	if [ -n "$BACKEND_PID" ] && ! daemon_running; then
		DAEMON_DEATHS=$((DAEMON_DEATHS + 1))
		BACKEND_PID=
	fi
	daemon_running || daemon_start
}

# Precondition of the toolstack-only scenarios: nothing serves devices.
no_daemon() {
	daemon_stop || note "daemon did not stop cleanly"
}

# Postcondition of every daemon scenario: the daemon is still there.
check_daemon_alive() {
	daemon_running || fail "daemon died"
}

# ---------------------------------------------------------------------
# xenstore and device tree as xl 4.20 writes them

# xs_perms PATH: the node's permissions as xenstore-ls -p shows them on
# its parent's listing, e.g. "n0,r5".
xs_perms() {
	local base=${1##*/}
	xenstore-ls -p "${1%/*}" 2>/dev/null |
		sed -n "s/^$base = .*(\([^()]*\))\$/\1/p" | head -n1
}

# check_xs_value PATH WANT
check_xs_value() {
	local got
	got=$(xenstore-read "$1" 2>/dev/null)
	[ "$got" = "$2" ] || { echo "$1 is '$got', want '$2'"; return 1; }
}

# check_xenstore F DEVID GRANT: the nodes of one device, as libxl 4.20
# writes them for a dom0 backend (state 1: nobody serves it).
check_xenstore() {
	local f=$1 d=$2 grant=$3 be fe kv got
	be=/local/domain/0/backend/virtio/$f/$d
	fe=/local/domain/$f/device/virtio/$d
	for kv in "frontend=$fe" "frontend-id=$f" "online=1" "state=1" \
		"irq=$((33 + d))" "base=$(printf '%#x' $((0x2000000 + d * 0x200)))" \
		"type=virtio,device1c" "transport=mmio" "grant_usage=$grant"; do
		check_xs_value "$be/${kv%%=*}" "${kv#*=}" || return 1
	done
	for kv in "backend=$be" "backend-id=0" "state=1"; do
		check_xs_value "$fe/${kv%%=*}" "${kv#*=}" || return 1
	done
	# libxl's own copy of the device, which xl destroy works from.
	check_xs_value "/libxl/$f/device/virtio/$d/type" "virtio,device1c" || return 1
	# Backend owned by dom0 and readable by the guest, its parent dom0's
	# only; the frontend the other way round.
	got=$(xs_perms "$be")
	[ "$got" = "n0,r$f" ] || { echo "$be permissions ($got), want (n0,r$f)"; return 1; }
	got=$(xs_perms "${be%/*}")
	[ "$got" = "n0" ] || { echo "${be%/*} permissions ($got), want (n0)"; return 1; }
	got=$(xs_perms "$fe")
	[ "$got" = "n$f,r0" ] || { echo "$fe permissions ($got), want (n$f,r0)"; return 1; }
	return 0
}

# check_guest_dt NAME DEVID GRANT: the guest's node for device DEVID is
# libxl's: /virtio@<base> at the top level, SPI 33+DEVID edge-rising
# (cells <0 SPI-32 0xf01>), iommus (grant DMA) only with grants.
check_guest_dt() {
	local name=$1 d=$2 grant=$3 line iommus=no base spis
	[ "$grant" = 1 ] && iommus=yes
	base=$(printf '%x' $((0x2000000 + d * 0x200)))
	line=$(wait_guest_line "$name" "E2E-GUEST: dt node=/virtio@$base " 60) ||
		{ echo "guest printed no dt line for virtio@$base"; return 1; }
	echo "$line" | grep -q "compatible=virtio,mmio iommus=$iommus interrupts=00000000$(printf '%08x' $((1 + d)))00000f01 " ||
		{ echo "unexpected: $line"; return 1; }
	spis=$(echo "$line" | sed -n 's/.* spis=\([0-9]*\).*/\1/p')
	[ "${spis:-0}" -ge $((2 + d)) ] || { echo "guest GIC has too few SPIs: $line"; return 1; }
	if grep -q 'dt unexpected' "$(guest_log "$name")"; then
		echo "$(grep 'dt unexpected' "$(guest_log "$name")" | head -n1)"
		return 1
	fi
	return 0
}

# ---------------------------------------------------------------------
# Infrastructure scenarios: need no daemon.

# Xen 4.20 runs with FLASK enforcing the policy loaded at boot (with
# flask=enforcing Xen panics if no policy loads, so booting is proof too).
scn_toolstack() {
	local ver enf label
	begin toolstack
	ver=$(xl info 2>/dev/null | sed -n 's/^xen_version *: *//p')
	enf=$(xl getenforce 2>&1)
	label=$(xl list -Z 0 2>/dev/null | awk 'NR == 2 { print $NF }')
	case "$ver" in 4.20.*) ;; *) fail "xl info says Xen '$ver'" ;; esac
	[ "$enf" = Enforcing ] || fail "xl getenforce says '$enf'"
	[ "$label" = system_u:system_r:dom0_t ] || fail "dom0 label '$label'"
	DETAIL="Xen $ver, FLASK $enf, dom0 $label"
	report
}

# A guest from an example config gets the device's xenstore nodes and
# device tree node; it boots (it never touches the device: nothing serves
# it) and xl destroy removes everything, after libxl's 10 s wait for a
# backend that never answers.
toolstack_one() {
	local mode=$1 grant=0 name=ts-$1 f why
	[ "$mode" = grant ] && grant=1
	begin "toolstack-$mode"
	no_daemon
	if ! guest_create "$name" "$(example_for "$mode")" ""; then
		fail "xl create"
		report
		return
	fi
	f=$(domid_of "$name")
	why=$(check_xenstore "$f" 0 "$grant") || fail "$why"
	xl unpause "$f"
	why=$(check_guest_dt "$name" 0 "$grant") || fail "$why"
	guest_destroy "$name"
	why=$(check_gone "$f") || fail "$why"
	DETAIL="$(grep 'E2E-GUEST: dt node' "$(guest_log "$name")" | tr -d '\r' | sed 's/.*dt //'), destroy $(cat /tmp/$name.destroy.secs) s"
	report "$name"
}

scn_toolstack_grant() {
	toolstack_one grant
}

scn_toolstack_foreign() {
	toolstack_one foreign
}

# Two guests with a device each at the same time (one grant, one foreign).
scn_toolstack_two_guests() {
	local a b why
	begin toolstack-two-guests
	no_daemon
	guest_create ts-two-a rpmb-guest.cfg "" || fail "create ts-two-a"
	guest_create ts-two-b rpmb-guest-foreign.cfg "" || fail "create ts-two-b"
	a=$(domid_of ts-two-a)
	b=$(domid_of ts-two-b)
	if [ -z "$WHY" ]; then
		why=$(check_xenstore "$a" 0 1) || fail "$why"
		why=$(check_xenstore "$b" 0 0) || fail "$why"
		xl unpause "$a"
		xl unpause "$b"
		why=$(check_guest_dt ts-two-a 0 1) || fail "$why"
		why=$(check_guest_dt ts-two-b 0 0) || fail "$why"
	fi
	# Both 10 s waits at once.
	guest_destroy ts-two-a &
	guest_destroy ts-two-b
	wait
	[ -n "$a" ] && { why=$(check_gone "$a") || fail "$why"; }
	[ -n "$b" ] && { why=$(check_gone "$b") || fail "$why"; }
	DETAIL="domids $a $b"
	report ts-two-a ts-two-b
}

# ---------------------------------------------------------------------
# Scenarios with the daemon in dom0.

# need_daemon_or_skip [program]: the scenario's preconditions; returns
# non-zero (after a SKIP or FAIL line) if they cannot be met.
need_daemon_or_skip() {
	if [ ! -x "$BACKEND" ]; then
		skip "xen-rpmb-backend was not built"
		return 1
	fi
	if [ "$1" = program ] && ! have_program; then
		skip "no tests/e2e/guest/build.sh output"
		return 1
	fi
	if ! need_daemon; then
		fail "daemon exited at once"
		report
		return 1
	fi
	return 0
}

# The guest loads virtio-mmio; the daemon answers the probe: the guest
# sees a virtio device with id 28 (0x001c). xl destroy: the daemon answers
# state 5 with 6 at once, the domain and its nodes go away.
probe_one() {
	local mode=$1 name=probe-$1 f line why
	begin "backend-probe-$mode"
	need_daemon_or_skip || return
	if ! guest_start "$name" "$(example_for "$mode")" "e2e.probe=1"; then
		fail "backend did not reach InitWait"
		report
		return
	fi
	f=$(domid_of "$name")
	line=$(wait_guest_line "$name" 'E2E-GUEST: virtio ' 60) ||
		fail "guest printed no virtio line"
	[ -z "$line" ] || echo "$line" | grep -q 'device=0x001c' || fail "unexpected: $line"
	guest_destroy "$name"
	why=$(destroyed_quickly "$name") || fail "$why"
	why=$(check_gone "$f") || fail "$why"
	check_daemon_alive
	DETAIL="${line#*virtio }, destroy $(cat /tmp/$name.destroy.secs) s"
	report "$name"
}

scn_backend_probe_grant() {
	probe_one grant
}

scn_backend_probe_foreign() {
	probe_one foreign
}

# Two guests (grant and foreign) served at the same time.
scn_backend_two_guests() {
	local l1 l2 why
	begin backend-two-guests
	need_daemon_or_skip || return
	guest_start pair-a rpmb-guest.cfg "e2e.probe=1" || fail "start pair-a"
	guest_start pair-b rpmb-guest-foreign.cfg "e2e.probe=1" || fail "start pair-b"
	if [ -z "$WHY" ]; then
		l1=$(wait_guest_line pair-a 'E2E-GUEST: virtio ' 60) &&
			l2=$(wait_guest_line pair-b 'E2E-GUEST: virtio ' 60) ||
			fail "a guest printed no virtio line"
		echo "$l1 $l2" | grep -q 'device=0x001c.*device=0x001c' ||
			fail "unexpected: $l1 / $l2"
	fi
	guest_destroy pair-a
	guest_destroy pair-b
	why=$(check_gone "$(domid_of pair-a)") || fail "$why"
	why=$(check_gone "$(domid_of pair-b)") || fail "$why"
	check_daemon_alive
	report pair-a pair-b
}

# The guest program's full check on a fresh store; its own E2E-RESULT
# lines are relayed as guest-<mode>/<test>.
program_one() {
	local mode=$1 name=guest-$1 why
	begin "guest-program-$mode"
	need_daemon_or_skip program || return
	fresh_store "$name"
	start_program "$name" "$(example_for "$mode")" all || { fail "start"; report; return; }
	finish_program "$name" 300 "guest-$mode"
	guest_destroy "$name"
	why=$(check_gone "$(domid_of "$name")") || fail "$why"
	check_daemon_alive
	report "$name"
}

scn_guest_program_grant() {
	program_one grant
}

scn_guest_program_foreign() {
	program_one foreign
}

# A guest destroyed and created again under the same name (a new domid)
# finds its key, counter and data: it first makes that state itself.
scn_guest_recreate_keeps_state() {
	local name=keep-recreate old
	begin guest-recreate-keeps-state
	need_daemon_or_skip program || return
	fresh_store $name
	start_program $name rpmb-guest.cfg all || { fail "start"; report; return; }
	finish_program $name 300 $name/first
	old=$(domid_of $name)
	guest_destroy $name
	if [ -z "$WHY" ]; then
		start_program $name rpmb-guest.cfg persist || fail "start again"
		[ -z "$WHY" ] && finish_program $name 120 $name/again
		guest_destroy $name
	fi
	check_daemon_alive
	DETAIL="domid $old then $(domid_of $name)"
	report $name
}

# wait_domain_gone NAME SECS: the domain of that name has left xl list.
wait_domain_gone() {
	local i=0
	while xl domid "$1" >/dev/null 2>&1; do
		[ $i -ge $(($2 * 2)) ] && return 1
		sleep 0.5
		i=$((i + 1))
	done
	return 0
}

# A guest that powers itself off: xl (on_poweroff = "destroy", the
# default) destroys it, the daemon closes its device; the guest created
# again under its name finds its state.
scn_guest_poweroff_keeps_state() {
	local name=keep-poweroff old why
	begin guest-poweroff-keeps-state
	need_daemon_or_skip program || return
	fresh_store $name
	start_program $name rpmb-guest.cfg poweroff || { fail "start"; report; return; }
	old=$(domid_of $name)
	wait_guest_line $name 'E2E-GUEST: powering-off' 300 >/dev/null ||
		fail "guest did not get to power off"
	relay $name $name/first
	wait_domain_gone $name 30 || fail "domain still there 30 s after poweroff"
	why=$(check_gone "$old") || fail "$why"
	if [ -z "$WHY" ]; then
		start_program $name rpmb-guest.cfg persist || fail "start again"
		[ -z "$WHY" ] && finish_program $name 120 $name/again
		guest_destroy $name
	fi
	check_daemon_alive
	DETAIL="domid $old then $(domid_of $name)"
	report $name
}

# A guest that reboots itself: xl restarts it (on_reboot = "restart", the
# default) as a new domain under the same name, which xl unpauses itself:
# the daemon, already running, claims the device before the new guest's
# kernel probes it. The new domain finds the state the first one left.
scn_guest_reboot_keeps_state() {
	local name=keep-reboot old new i
	begin guest-reboot-keeps-state
	need_daemon_or_skip program || return
	fresh_store $name
	start_program $name rpmb-guest.cfg reboot || { fail "start"; report; return; }
	old=$(domid_of $name)
	wait_guest_line $name 'E2E-GUEST: rebooting' 300 >/dev/null ||
		fail "guest did not get to reboot"
	new=$old
	for i in $(seq 1 60); do
		new=$(xl domid $name 2>/dev/null)
		[ -n "$new" ] && [ "$new" != "$old" ] && break
		sleep 0.5
	done
	[ -n "$new" ] && [ "$new" != "$old" ] || fail "no new domain after the reboot"
	echo "$new" >/tmp/$name.domid
	[ -z "$WHY" ] && finish_program $name 180 $name
	grep -q 'E2E-GUEST: rebooted' "$(guest_log $name)" || fail "second boot did not check the state"
	guest_destroy $name
	check_daemon_alive
	DETAIL="domid $old then $new"
	report $name
}

# The guest's domain destroyed below the toolstack (xc_domain_destroy, no
# xenstore change): the daemon learns it from @releaseDomain, releases
# its mappings and ioreq server (the domain leaves xl list within a few
# seconds instead of staying a zombie) and closes the store; the next
# guest of that name gets its state back.
scn_guest_dies_alone() {
	local name=alone f state t0 i gone="" info
	begin guest-dies-alone
	need_daemon_or_skip program || return
	fresh_store $name
	start_program $name rpmb-guest.cfg all || { fail "start"; report; return; }
	finish_program $name 300 $name/first
	f=$(domid_of $name)
	t0=$(now)
	domain-destroy-raw "$f" || fail "domain-destroy-raw $f failed"
	for i in $(seq 1 40); do
		xl list "$f" >/dev/null 2>&1 || { gone=$(elapsed "$t0"); break; }
		sleep 0.25
	done
	if [ -z "$gone" ]; then
		fail "dom$f still listed 10 s after xc_domain_destroy: $(xl list "$f" 2>&1 | tail -n1)"
	fi
	backend_log_since | grep -q "dom$f) is gone" ||
		fail "daemon did not log that dom$f is gone"
	# Nobody touched xenstore: the device still says what the daemon wrote.
	state=$(xenstore-read /local/domain/0/backend/virtio/$f/0/state 2>/dev/null)
	[ "$state" = 2 ] || fail "backend state changed to '$state'"
	info=$(store_info $(store_of $name 0))
	[ "$info" = "key=programmed counter=2" ] || fail "store after the death: $info"
	# What libxl would have removed: the toolstack never learnt of it.
	xenstore-rm /local/domain/0/backend/virtio/$f 2>/dev/null
	xenstore-rm /local/domain/$f 2>/dev/null
	xenstore-rm /libxl/$f 2>/dev/null
	if [ -z "$WHY" ]; then
		start_program $name rpmb-guest.cfg persist || fail "start again"
		[ -z "$WHY" ] && finish_program $name 120 $name/again
		guest_destroy $name
	fi
	check_daemon_alive
	DETAIL="dom$f gone from xl list ${gone:-?} s after xc_domain_destroy; store $info"
	report $name
}

# Two guests run the whole check at the same time, each on its own fresh
# store.
scn_backend_two_guests_separate_stores() {
	begin backend-two-guests-separate-stores
	need_daemon_or_skip program || return
	fresh_store pair-grant
	fresh_store pair-foreign
	start_program pair-grant rpmb-guest.cfg all || fail "start pair-grant"
	start_program pair-foreign rpmb-guest-foreign.cfg all || fail "start pair-foreign"
	finish_program pair-grant
	finish_program pair-foreign
	guest_destroy pair-grant
	guest_destroy pair-foreign
	for g in pair-grant pair-foreign; do
		[ -f $(store_of $g 0) ] || fail "missing store $g/0.rpmb: $(ls $STORES | tr '\n' ' ')"
		why=$(check_guest_dir $g) || fail "$why"
	done
	check_daemon_alive
	DETAIL="pair-grant/0.rpmb $(store_info $(store_of pair-grant 0)), pair-foreign/0.rpmb $(store_info $(store_of pair-foreign 0))"
	report pair-grant pair-foreign
}

# Requests in flight when xl destroys the guest outright: the daemon
# survives, the domain goes away, and a differently named guest created
# next (Xen may hand it the same domid) finds a fresh store.
scn_backend_destroy_during_traffic() {
	local f new why
	begin backend-destroy-during-traffic
	need_daemon_or_skip program || return
	fresh_store traffic
	fresh_store newcomer
	start_program traffic rpmb-guest-foreign.cfg traffic || { fail "start traffic"; report; return; }
	wait_guest_line traffic 'E2E-GUEST: traffic-started' 120 >/dev/null ||
		fail "traffic never started"
	f=$(domid_of traffic)
	sleep 2
	guest_destroy traffic
	why=$(destroyed_quickly traffic) || fail "$why"
	why=$(check_gone "$f") || fail "$why"
	check_daemon_alive
	if [ -z "$WHY" ]; then
		start_program newcomer rpmb-guest.cfg fresh || fail "start newcomer"
		[ -z "$WHY" ] && finish_program newcomer
		new=$(domid_of newcomer)
		guest_destroy newcomer
		DETAIL="destroyed dom$f mid-traffic; newcomer got dom$new$([ "$new" = "$f" ] && echo ' (reused)')"
	fi
	report traffic newcomer
}

# A hostile guest (garbage in registers and rings, foreign mode so the
# daemon really maps what it is pointed at) next to a normal one.
scn_backend_garbage_guest() {
	local line
	begin backend-garbage-guest
	need_daemon_or_skip program || return
	fresh_store victim
	start_program garbage rpmb-guest-foreign.cfg garbage || fail "start garbage"
	start_program victim rpmb-guest.cfg all || fail "start victim"
	finish_program victim
	line=$(wait_guest_line garbage 'E2E-GUEST: garbage done' 120) ||
		line="hostile guest did not report (it may have crashed itself)"
	DETAIL="${line#E2E-GUEST: }"
	guest_destroy garbage
	guest_destroy victim
	check_daemon_alive
	report garbage victim
}

# The comparison figures, from inside a grant-mode guest.
scn_guest_bench() {
	begin guest-bench
	need_daemon_or_skip program || return
	fresh_store bench
	start_program bench rpmb-guest.cfg bench || { fail "start"; report; return; }
	finish_program bench
	grep -E 'BENCH op=' "$(guest_log bench)" | tr -d '\r' | sed 's/^/E2E-NOTE: /'
	[ "$(grep -c 'BENCH op=' "$(guest_log bench)")" -eq 5 ] || fail "expected 5 BENCH lines"
	guest_destroy bench
	check_daemon_alive
	report bench
}

# SIGTERM and restart of the daemon while a guest runs: the restarted
# daemon serves the device again and the guest's state is intact.
scn_backend_restart() {
	local rc
	begin backend-restart
	need_daemon_or_skip program || return
	fresh_store restart
	start_program restart rpmb-guest.cfg restart || { fail "start"; report; return; }
	wait_guest_line restart 'E2E-GUEST: restart-ready' 180 >/dev/null ||
		fail "guest never got ready"
	if [ -z "$WHY" ]; then
		daemon_stop
		rc=$?
		DETAIL="daemon exit status $rc"
		[ $rc -eq 0 ] || fail "daemon exit status $rc on SIGTERM"
		daemon_start || fail "daemon did not start again"
	fi
	[ -z "$WHY" ] && finish_program restart
	guest_destroy restart
	check_daemon_alive
	report restart
}

# One guest with two virtio-rpmb devices (two entries in its config): two
# windows, two SPIs, two stores with their own keys and counters, both
# used at once; destroying the guest releases both.
scn_two_devices() {
	local name=two-dev f why d info
	begin two-devices
	need_daemon_or_skip program || return
	fresh_store $name
	no_daemon
	guest_create $name rpmb-guest-two-devices.cfg "e2e.probe=1 e2e.guest=1 e2e.test=two e2e.mode=grant" ||
		{ fail "xl create"; report; return; }
	f=$(domid_of $name)
	# libxl's layout first (nothing serves the devices yet)...
	why=$(check_xenstore "$f" 0 1) || fail "$why"
	why=$(check_xenstore "$f" 1 1) || fail "$why"
	# ...then the daemon claims both, and the guest may run.
	need_daemon || fail "daemon did not start"
	wait_backend_state "$f" 2 30 || fail "devices not served"
	xl unpause "$f"
	for d in 0 1; do
		why=$(check_guest_dt $name $d 1) || fail "$why"
	done
	[ "$(grep -c 'E2E-GUEST: virtio .*device=0x001c' "$(guest_log $name)")" = 2 ] ||
		wait_guest_line $name 'E2E-GUEST: virtio ' 60 >/dev/null
	finish_program $name 300
	[ "$(grep -c 'E2E-GUEST: virtio .*device=0x001c' "$(guest_log $name)")" = 2 ] ||
		fail "guest does not see two virtio-rpmb devices"
	guest_destroy $name
	why=$(destroyed_quickly $name) || fail "$why"
	why=$(check_gone "$f") || fail "$why"
	DETAIL=""
	for d in 0 1; do
		info=$(store_info $(store_of $name $d))
		[ "$info" = "key=programmed counter=2" ] || fail "$name/$d.rpmb: $info"
		DETAIL="$DETAIL$name/$d.rpmb $info; "
	done
	check_daemon_alive
	report $name
}

# Guests with 2 and 4 vCPUs issue requests from every vCPU at once
# (rpmb-guest smp --threads N, pinned); Xen runs 4 vCPUs on the 2 pCPUs.
scn_smp_guest() {
	local n why unsupported=0 line
	begin smp-guest
	need_daemon_or_skip program || return
	for n in 2 4; do
		fresh_store smp$n
		start_program smp$n rpmb-guest.cfg smp "vcpus=$n" "extra=\"console=hvc0 loglevel=6 e2e.probe=1 e2e.guest=1 e2e.test=smp e2e.mode=grant e2e.threads=$n\"" ||
			fail "start smp$n"
	done
	for n in 2 4; do
		finish_program smp$n 300
		grep -q 'E2E-GUEST: smp unsupported' "$(guest_log smp$n)" && unsupported=$((unsupported + 1))
		line=$(backend_log_since | grep "dom$(domid_of smp$n): ioreq server" | head -n1)
		echo "$line" | grep -q "with $n vCPU" || fail "smp$n: daemon log has no $n-vCPU server: '$line'"
		grep -q "E2E-GUEST: boot .* cpus=$n " "$(guest_log smp$n)" || fail "smp$n: guest does not see $n CPUs"
		guest_destroy smp$n
		why=$(check_gone "$(domid_of smp$n)") || fail "$why"
	done
	check_daemon_alive
	if [ -z "$WHY" ] && [ $unsupported -gt 0 ]; then
		skip "rpmb-guest has no 'smp --threads N' command yet; guests with 2 and 4 vCPUs were served"
		return
	fi
	report smp2 smp4
}

# ---------------------------------------------------------------------
# Real clients, least privilege, crashes and neighbours.

# The real clients' models (OP-TEE 4.10, mmc-utils, U-Boot, the Linux
# virtio-rpmb v2 driver, the spec-draft driver), each on a fresh device
# of its own, laid out in buffers as its frontend does: one guest with
# five virtio-rpmb devices.
real_clients_one() {
	local mode=$1 grant=0 name=clients-$1 f why
	[ "$mode" = grant ] && grant=1
	begin "real-clients-$mode"
	need_daemon_or_skip program || return
	fresh_store "$name"
	start_program "$name" "$(example_for "$mode")" clients \
		"virtio=[$(for i in 1 2 3 4 5; do printf '"type=virtio,device1c,transport=mmio,grant_usage=%s",' $grant; done | sed 's/,$//')]" ||
		fail "start $name"
	f=$(domid_of "$name")
	finish_program "$name" 600
	[ "$(devids_of "$f" | wc -w)" = 5 ] || fail "dom$f has $(devids_of "$f" | wc -w) devices, want 5"
	guest_destroy "$name"
	why=$(check_gone "$f") || fail "$why"
	check_daemon_alive
	DETAIL="$(grep -c 'E2E-RESULT: client-.* PASS' "$(guest_log "$name")") client checks passed on 5 devices"
	report "$name"
}

scn_real_clients_grant() {
	real_clients_one grant
}

scn_real_clients_foreign() {
	real_clients_one foreign
}

# worker_of F: the pid of the worker serving dom F (its name is
# rpmb-dom<F>), empty if none.
worker_of() {
	local p
	for p in /proc/[0-9]*; do
		[ "$(cat "$p/comm" 2>/dev/null)" = "rpmb-dom$1" ] && { echo "${p#/proc/}"; return 0; }
	done
	return 1
}

# status_field PID NAME: a field of /proc/PID/status, whitespace folded.
status_field() {
	sed -n "s/^$2:[[:space:]]*//p" "/proc/$1/status" | tr -s ' \t' ' '
}

# daemon_memory: the daemon's memory as "the sum of PSS over its
# processes": the supervisor (comm xen-rpmb-backend) and every worker
# (rpmb-dom<N>). PSS, not RSS, so the pages the workers share with each
# other and with the supervisor (libraries, the forked image) count once.
# Guest pages a worker has mapped (grant or foreign mappings of
# /dev/xen/*) are the guest's memory, not dom0's: counted apart.
daemon_memory() {
	local p c kib g sup=0 wk=0 n=0 gm=0
	for p in /proc/[0-9]*; do
		c=$(cat "$p/comm" 2>/dev/null) || continue
		case $c in
		xen-rpmb-backe*|rpmb-dom*) ;;
		*) continue ;;
		esac
		set -- $(awk '/^[0-9a-f]+-[0-9a-f]+ / { xen = ($6 ~ /^\/dev\/xen\//) }
			/^Pss:/ { if (xen) g += $2; else t += $2 }
			END { print t + 0, g + 0 }' "$p/smaps" 2>/dev/null)
		kib=${1:-0} g=${2:-0}
		gm=$((gm + g))
		case $c in
		rpmb-dom*) wk=$((wk + kib)); n=$((n + 1)) ;;
		*) sup=$((sup + kib)) ;;
		esac
	done
	echo "daemon PSS $((sup + wk)) KiB: supervisor $sup KiB, $n workers $wk KiB (guest pages mapped: $gm KiB, not counted)"
}

# A guest's worker as the kernel sees it: the workers' user, no
# capabilities, no new privileges, seccomp filter mode, chrooted into the
# guest's own directory; its Xen handles (opened by the same code,
# backend/xen-handles.c) work on its guest and are refused on another.
scn_worker_privileges() {
	local a b pa f g why
	begin worker-privileges
	need_daemon_or_skip program || return
	fresh_store priv-a
	fresh_store priv-b
	start_program priv-a rpmb-guest.cfg all || fail "start priv-a"
	start_program priv-b rpmb-guest-foreign.cfg all || fail "start priv-b"
	a=$(domid_of priv-a)
	b=$(domid_of priv-b)
	pa=$(worker_of "$a") || fail "no worker process rpmb-dom$a"
	if [ -n "$pa" ]; then
		[ -z "$(status_field "$pa" Groups | tr -d ' ')" ] ||
			fail "worker $pa has supplementary groups: $(status_field "$pa" Groups)"
		for f in "Uid 990 990 990 990" "Gid 990 990 990 990" \
			"CapInh 0000000000000000" "CapPrm 0000000000000000" \
			"CapEff 0000000000000000" "CapBnd 0000000000000000" \
			"CapAmb 0000000000000000" "NoNewPrivs 1" "Seccomp 2"; do
			g=$(status_field "$pa" "${f%% *}")
			[ "${g% }" = "${f#* }" ] || fail "worker $pa ${f%% *}: '$g', want '${f#* }'"
		done
		g=$(readlink "/proc/$pa/root")
		[ "$g" = "$STORES/priv-a" ] || fail "worker $pa root is '$g', want $STORES/priv-a"
		why=$(check_guest_dir priv-a) || fail "$why"
	fi
	if [ -x /usr/local/sbin/restrict-check ]; then
		g=$(restrict-check "$a" "$b") || fail "$g"
		note "$g"
	else
		fail "restrict-check was not built"
	fi
	note "worker-privileges: $(daemon_memory) (guests served: 2)"
	DETAIL="worker $pa: uid $(status_field "$pa" Uid 2>/dev/null | cut -d' ' -f1), Seccomp $(status_field "$pa" Seccomp 2>/dev/null), root $(readlink "/proc/$pa/root" 2>/dev/null); ${g#restrict-check: }"
	finish_program priv-a
	finish_program priv-b
	guest_destroy priv-a
	guest_destroy priv-b
	check_daemon_alive
	report priv-a priv-b
}

# soak_result NAME: the guest's soak line.
soak_result() {
	grep 'E2E-RESULT: soak ' "$(guest_log "$1")" | tr -d '\r' | tail -n1
}

# SIGKILL one guest's worker while two guests write and read: the other
# guest sees no error and no reset; the killed guest's device comes back
# (the supervisor restarts the worker, which adopts the ioreq server and
# asks for a reset), and no acknowledged write is lost on either.
scn_worker_killed() {
	local a b pa line ra rb
	begin worker-killed
	need_daemon_or_skip program || return
	fresh_store kill-a
	fresh_store kill-b
	start_program kill-a rpmb-guest.cfg soak "extra=\"console=hvc0 loglevel=6 e2e.probe=1 e2e.guest=1 e2e.test=soak e2e.mode=grant e2e.seconds=60\"" ||
		fail "start kill-a"
	start_program kill-b rpmb-guest-foreign.cfg soak "extra=\"console=hvc0 loglevel=6 e2e.probe=1 e2e.guest=1 e2e.test=soak e2e.mode=foreign e2e.seconds=60\"" ||
		fail "start kill-b"
	a=$(domid_of kill-a)
	b=$(domid_of kill-b)
	wait_guest_line kill-a 'E2E-GUEST: soak-started' 180 >/dev/null || fail "kill-a never started"
	wait_guest_line kill-b 'E2E-GUEST: soak-started' 180 >/dev/null || fail "kill-b never started"
	if [ -z "$WHY" ]; then
		sleep 10
		pa=$(worker_of "$a") || fail "no worker for dom$a"
		[ -n "$pa" ] && kill -KILL "$pa"
		note "killed worker $pa of dom$a"
	fi
	finish_program kill-a 400
	finish_program kill-b 400
	ra=$(soak_result kill-a)
	rb=$(soak_result kill-b)
	case "$ra" in *PASS*resets=0*) fail "kill-a saw no reset: $ra" ;; *PASS*) ;; *) fail "kill-a: $ra" ;; esac
	case "$rb" in *PASS*resets=0\ unanswered=0*) ;; *) fail "kill-b (not killed) was disturbed: $rb" ;; esac
	line=$(backend_log_since | grep "dom$a.*adopting" | head -n1)
	[ -n "$line" ] || fail "no worker restart adopting dom$a's server in the daemon's log"
	guest_destroy kill-a
	guest_destroy kill-b
	why=$(check_gone "$a") || fail "$why"
	why=$(check_gone "$b") || fail "$why"
	check_daemon_alive
	DETAIL="killed: ${ra#E2E-RESULT: }; other: ${rb#E2E-RESULT: }"
	report kill-a kill-b
}

# SIGKILL the whole daemon (the supervisor; its workers follow it) while a
# guest writes and reads, then start it again: the new daemon adopts the
# guest's ioreq server, the guest's driver resets the device, nothing
# acknowledged is lost.
scn_backend_killed() {
	local f r
	begin backend-killed
	need_daemon_or_skip program || return
	fresh_store bk
	start_program bk rpmb-guest.cfg soak "extra=\"console=hvc0 loglevel=6 e2e.probe=1 e2e.guest=1 e2e.test=soak e2e.mode=grant e2e.seconds=60\"" ||
		fail "start bk"
	f=$(domid_of bk)
	wait_guest_line bk 'E2E-GUEST: soak-started' 180 >/dev/null || fail "bk never started"
	if [ -z "$WHY" ]; then
		sleep 10
		kill -KILL "$BACKEND_PID"
		wait "$BACKEND_PID" 2>/dev/null
		BACKEND_PID=
		sleep 2
		worker_of "$f" >/dev/null && fail "dom$f's worker outlived its supervisor"
		daemon_start || fail "daemon did not start again"
	fi
	finish_program bk 400
	r=$(soak_result bk)
	case "$r" in *PASS*) ;; *) fail "bk: $r" ;; esac
	backend_log_since | grep -q "dom$f: adopted ioreq server" ||
		fail "the new daemon did not adopt dom$f's ioreq server"
	guest_destroy bk
	why=$(check_gone "$f") || fail "$why"
	check_daemon_alive
	DETAIL="${r#E2E-RESULT: }"
	report bk
}

# bench_line NAME OP: the guest's BENCH line for OP.
bench_line() {
	grep "BENCH op=$2 " "$(guest_log "$1")" | tr -d '\r' | tail -n1 | sed 's/.*BENCH //'
}

# A reader guest's latency alone, then beside a guest that writes without
# pause and a hostile guest that keeps its queue full and notifies
# without pause from another vCPU; the daemon still stops on SIGTERM in
# the middle of the flood, and comes back.
scn_isolation() {
	local alone beside w h rw rh
	begin isolation
	need_daemon_or_skip program || return
	fresh_store iso-r1
	start_program iso-r1 rpmb-guest.cfg bench || fail "start iso-r1"
	finish_program iso-r1 600 iso-alone
	alone=$(bench_line iso-r1 read-1)
	guest_destroy iso-r1
	fresh_store iso-w
	fresh_store iso-h
	start_program iso-w rpmb-guest.cfg soak "extra=\"console=hvc0 loglevel=6 e2e.probe=1 e2e.guest=1 e2e.test=soak e2e.mode=grant e2e.seconds=200\"" ||
		fail "start iso-w"
	start_program iso-h rpmb-guest-foreign.cfg flood "vcpus=2" "extra=\"console=hvc0 loglevel=6 e2e.probe=1 e2e.guest=1 e2e.test=flood e2e.mode=foreign e2e.seconds=200\"" ||
		fail "start iso-h"
	wait_guest_line iso-w 'E2E-GUEST: soak-started' 180 >/dev/null || fail "writer never started"
	wait_guest_line iso-h 'E2E-GUEST: flood-started' 180 >/dev/null || fail "flood never started"
	fresh_store iso-r2
	start_program iso-r2 rpmb-guest.cfg bench || fail "start iso-r2"
	finish_program iso-r2 600 iso-beside
	beside=$(bench_line iso-r2 read-1)
	guest_destroy iso-r2
	# SIGTERM in the middle of the flood: the daemon stops in time.
	daemon_stop || fail "daemon did not stop on SIGTERM within 10 s during the flood"
	daemon_start || fail "daemon did not start again"
	finish_program iso-w 400
	finish_program iso-h 400
	rw=$(grep 'E2E-RESULT: soak ' "$(guest_log iso-w)" | tr -d '\r' | tail -n1)
	rh=$(grep 'E2E-RESULT: flood ' "$(guest_log iso-h)" | tr -d '\r' | tail -n1)
	note "isolation: reader alone: $alone"
	note "isolation: reader beside writer and flood: $beside"
	note "isolation: writer ${rw#E2E-RESULT: }; hostile ${rh#E2E-RESULT: }"
	w=$(domid_of iso-w)
	h=$(domid_of iso-h)
	guest_destroy iso-w
	guest_destroy iso-h
	why=$(check_gone "$w") || fail "$why"
	why=$(check_gone "$h") || fail "$why"
	check_daemon_alive
	DETAIL="read-1 alone: $(echo "$alone" | sed 's/.*\(median_us=[0-9.]*\) \(p99_us=[0-9.]*\).*/\1 \2/'); beside: $(echo "$beside" | sed 's/.*\(median_us=[0-9.]*\) \(p99_us=[0-9.]*\).*/\1 \2/')"
	report iso-w iso-h
}

# ---------------------------------------------------------------------
# Driver domain: the daemon runs in "rpmb-dd" (type rpmb_dd_t), dom0 runs
# none. The FLASK module rpmb_dd.te lets rpmb_dd_t serve rpmb_guest_t
# guests only: two of them are served at once; a third of type domU_t is
# refused by Xen, the daemon says so and goes on serving the two.

DD=rpmb-dd

# dd_start: the driver domain from its example config, daemon up.
dd_start() {
	rm -f "$(guest_log $DD)"
	timeout 120 xl -vvv create "$EXAMPLES/rpmb-driver-domain.cfg" \
		"kernel=\"$DOMU_KERNEL\"" "ramdisk=\"$DD_RAMDISK\"" "memory=128" \
		>/tmp/$DD.create.log 2>&1 ||
		{ tail -n 30 /tmp/$DD.create.log | sed "s/^/  [xl create $DD] /"; return 1; }
	xl domid $DD >/tmp/$DD.domid
	wait_guest_line $DD 'watching ' 60 >/dev/null
}

# dd_guest_create NAME EXTRA [KEY=VALUE...]: a guest of
# rpmb-guest-driver-domain.cfg, paused, with read access to its name
# granted to the driver domain (libxl makes it readable by dom0 and the
# guest only).
dd_guest_create() {
	local name=$1 f dd
	shift
	guest_create "$name" rpmb-guest-driver-domain.cfg "$@" || return 1
	f=$(domid_of "$name")
	dd=$(domid_of $DD)
	xenstore-chmod "/local/domain/$f/name" n0 "r$f" "r$dd"
}

# dd_guest_destroy NAME: xl destroy, which must not wait for a timeout.
# libxl in dom0 waits for state 6, then for the driver domain to remove
# the backend directory (10 s each at most); the daemon removes it about a
# second after the 6. Had it gone before libxl read the 6, libxl would log
# "unable to remove device" ("wanted state 6 but it was removed") although
# nothing is left behind (check_gone): reported as a note.
dd_guest_destroy() {
	local name=$1 t0 secs
	t0=$(now)
	timeout 60 xl -vvv destroy "$name" >"/tmp/$name.destroy.log" 2>&1
	secs=$(elapsed "$t0")
	# libxl's wait for state 6 timed out (10 s, "rc -9"): the daemon did
	# not answer.
	if grep -q 'wanted state 6 *timed out' "/tmp/$name.destroy.log" ||
		[ "$(awk -v s="$secs" 'BEGIN { print (s < 10) }')" != 1 ]; then
		fail "xl destroy $name took $secs s"
		# libxl's own account of the wait, for whoever reads the failure.
		grep -a 'devstate\|state 6\|timed out\|unable\|backend' "/tmp/$name.destroy.log" |
			tail -n 12 | sed "s/^/E2E-NOTE: $name destroy: /"
	fi
	if grep -q 'unable to remove' "/tmp/$name.destroy.log"; then
		note "$name: xl destroy ($secs s) logged: $(grep -m1 'but it was removed\|still waiting\|timed out' "/tmp/$name.destroy.log" | sed 's/.*: backend/backend/')"
	fi
}

# dd_serving F: the driver domain claimed F's device (state 2 in its own
# backend directory).
dd_serving() {
	local f=$1 dd
	dd=$(domid_of $DD)
	[ "$(backend_dir "$f" 0)" = "/local/domain/$dd/backend/virtio/$f/0" ] ||
		{ echo "dom$f backend is '$(backend_dir "$f" 0)'"; return 1; }
	wait_backend_state "$f" 2 30 || { echo "dom$f not served by the driver domain"; return 1; }
}

# Debugging aid (E2E_VERBOSE=1): what the driver domain and Xen say.
dd_watchdog() {
	while sleep 15; do
		echo "----- watchdog $(now) -----"
		xl list -Z 2>&1 | sed 's/^/  [xl list] /'
		tail -n 15 "$(guest_log $DD)" | sed 's/^/  [dd] /'
		xl dmesg 2>&1 | grep avc | tail -n 10 | sed 's/^/  [avc] /'
	done
}

scn_driver_domain() {
	local dd a b c why line n watchdog
	begin driver-domain
	if [ ! -x "$BACKEND" ] || [ ! -f "$DD_RAMDISK" ]; then
		skip "xen-rpmb-backend was not built"
		return
	fi
	have_program || { skip "no guest program"; return; }
	no_daemon
	pidof xen-rpmb-backend >/dev/null && fail "a daemon still runs in dom0"
	if ! dd_start; then
		fail "driver domain did not come up"
		report $DD
		xl destroy $DD 2>/dev/null
		return
	fi
	dd=$(domid_of $DD)
	watchdog=
	if [ -f /e2e/verbose ]; then
		dd_watchdog &
		watchdog=$!
	fi
	note "driver domain dom$dd up"
	# Two guests of the served type, at once, through grants.
	for n in a b; do
		dd_guest_create dd-$n "e2e.probe=1 e2e.guest=1 e2e.test=all e2e.mode=grant" ||
			fail "create dd-$n"
		note "created dd-$n: dom$(domid_of dd-$n)"
	done
	a=$(domid_of dd-a)
	b=$(domid_of dd-b)
	for f in $a $b; do
		why=$(dd_serving "$f") || fail "$why"
	done
	if [ -z "$WHY" ]; then
		xl unpause "$a"
		xl unpause "$b"
		# A third guest, of a type the policy does not give rpmb_dd_t.
		dd_guest_create dd-c "" 'seclabel="system_u:system_r:domU_t"' || fail "create dd-c"
		c=$(domid_of dd-c)
	fi
	if [ -n "$c" ]; then
		# (Its first "cannot read .../name" may come before the chmod.)
		line=$(wait_guest_line $DD "dom$c: cannot [^r].*Permission denied" 30) ||
			fail "driver domain logged no refusal for dom$c"
		[ "$(xenstore-read /local/domain/$dd/backend/virtio/$c/0/state 2>/dev/null)" = 1 ] ||
			fail "dom$c device state is not 1"
		xl dmesg | grep 'avc:  denied' | grep -q 'rpmb_dd_t.*domU_t' ||
			fail "no FLASK denial rpmb_dd_t -> domU_t in xl dmesg"
		# The served guests are unaffected.
		finish_program dd-a 300
		finish_program dd-b 300
	fi
	for n in c a b; do
		xl domid dd-$n >/dev/null 2>&1 && dd_guest_destroy dd-$n
	done
	for f in $a $b $c; do
		why=$(check_gone "$f" "$dd") || fail "$why"
	done
	grep -q 'E2E-DD: daemon exited' "$(guest_log $DD)" && fail "daemon in the driver domain exited"
	DETAIL="$(xl list -Z $DD | awk 'NR == 2 { print $NF }') served dom$a and dom$b; dom$c refused: ${line#*] }"
	xl destroy $DD
	[ -n "$watchdog" ] && kill "$watchdog"
	report $DD dd-a dd-b dd-c
}

# ---------------------------------------------------------------------
# Last: the daemon that served the scenarios stops cleanly on SIGTERM,
# and none of them killed it.
scn_backend_alive() {
	local rc
	begin backend-alive
	need_daemon_or_skip || return
	daemon_stop
	rc=$?
	[ $rc -eq 0 ] || fail "daemon exit status $rc on SIGTERM (or ignored it for 10 s)"
	[ $DAEMON_DEATHS -eq 0 ] || fail "the daemon died $DAEMON_DEATHS times during the scenarios"
	DETAIL="stopped on SIGTERM, no unexpected deaths"
	report
}

# ---------------------------------------------------------------------
# OP-TEE (the OP-TEE boot only: TF-A with the SPM dispatcher, OP-TEE as
# S-EL1 SPMC with one partition per domain, Xen's FF-A mediator). The
# guests run OP-TEE's own test suite (domu/tee.sh); OP-TEE sends its RPMB
# frames through the guest kernel's RPMB subsystem to our virtio-rpmb
# driver, hence to the daemon and the guest's store.

TEE_RAMDISK=/e2e/tee/initrd.gz
# OP-TEE's public test key (CFG_RPMB_TESTKEY): the key OP-TEE uses for
# every device when built for tests.
OPTEE_TEST_KEY=D3EB3EC36E334C9F988CE2C0B85954610D2BCF8664844DF2AB56E6C61BB701E4
# xtest's secure storage cases. OP-TEE is built RPMB-only, so each runs
# on the RPMB storage id only (TEE_STORAGE_PRIVATE is RPMB too).
OPTEE_XTEST=6001,6002,6003,6004,6005,6006,6009,6010,6016,6018,6020

# provision_store NAME: a fresh store for device 0 of guest NAME holding
# OP-TEE's key, as a factory provisions an eMMC: OP-TEE's in-kernel RPMB
# path never programs a key. The workers' user owns it (uid 990).
provision_store() {
	local dir=$STORES/$1
	rm -rf "$dir"
	mkdir -p "$dir"
	echo "$OPTEE_TEST_KEY" >/tmp/optee.key
	chmod 600 /tmp/optee.key
	rpmb-image create --capacity 512K "$dir/0.rpmb" >/dev/null &&
		rpmb-image program-key --key-file /tmp/optee.key "$dir/0.rpmb" >/dev/null ||
		{ echo "cannot provision $dir/0.rpmb"; return 1; }
	chown -R 990:990 "$dir"
	chmod 700 "$dir"
}

# tee_guest_start NAME EXAMPLE [KEY=VALUE...]: a TEE guest running the
# xtest cases of $OPTEE_XTEST (override with XTEST=) on its device.
tee_guest_start() {
	local name=$1 example=$2
	shift 2
	guest_start "$name" "$example" \
		"e2e.probe=1 e2e.tee=1 e2e.xtest=${XTEST:-$OPTEE_XTEST}" \
		"ramdisk=\"$TEE_RAMDISK\"" "memory=192" 'tee="ffa"' "$@"
}

# tee_judge NAME SECS: waits for NAME's tee.sh to end, then checks the
# driver registered, OP-TEE's Linux driver routes RPMB through the kernel
# and every xtest case ran sub-tests without failures. Adds to DETAIL.
tee_judge() {
	local name=$1 log total=0 failed=0 ids=0 line n m
	log=$(guest_log "$name")
	wait_guest_line "$name" 'E2E-GUEST: tee done' "$2" >/dev/null ||
		{ fail "$name: tee.sh did not finish in $2 s"; return; }
	line=$(grep -a 'E2E-GUEST: tee dmesg .*virtio_rpmb.*128 KiB' "$log" | tr -d '\r' | head -n1)
	[ -n "$line" ] || fail "$name: no virtio_rpmb registration line"
	note "$name: ${line#E2E-GUEST: tee dmesg }"
	grep -aq 'E2E-GUEST: tee rpmb_routing_model=kernel' "$log" ||
		fail "$name: $(grep -a 'rpmb_routing_model' "$log" | tr -d '\r')"
	while read -r line; do
		ids=$((ids + 1))
		n=$(echo "$line" | sed -n 's/.* \([0-9]*\) subtests of which \([0-9]*\) failed.*/\1/p')
		m=$(echo "$line" | sed -n 's/.* \([0-9]*\) subtests of which \([0-9]*\) failed.*/\2/p')
		case "$line" in
		*storage_init_failed=0*) ;;
		*) fail "$name: ${line#E2E-GUEST: }" ;;
		esac
		if [ -z "$n" ] || [ "$n" -eq 0 ] || [ "$m" -ne 0 ]; then
			fail "$name: ${line#E2E-GUEST: }"
			continue
		fi
		total=$((total + n))
		failed=$((failed + m))
	done <<EOT
$(grep -a 'E2E-GUEST: xtest [0-9]* rc=' "$log" | tr -d '\r')
EOT
	[ $ids -gt 0 ] || fail "$name: no xtest result"
	DETAIL="${DETAIL:+$DETAIL; }$name: $ids xtest cases, $total sub-tests, $failed failed"
}

# tee_store_note NAME: the store's counter after the guest: OP-TEE's
# authenticated writes landed in our store, through our daemon.
tee_store_note() {
	local info
	info=$(store_info "$(store_of "$1" 0)")
	note "$1: store $(store_of "$1" 0): $info"
	backend_log_since | grep -a 'serving at' | sed 's/^/E2E-NOTE: daemon: /'
	case "$info" in
	*"counter=0" | error*) fail "$1: OP-TEE wrote nothing to its store ($info)" ;;
	esac
	DETAIL="${DETAIL:+$DETAIL; }$1 store $info"
}

# OP-TEE's secure storage regression cases on a grant-mode device.
scn_optee_rpmb_storage() {
	local name=tee-storage
	begin optee-rpmb-storage
	need_daemon_or_skip || return
	provision_store $name || { fail "provision"; report; return; }
	tee_guest_start $name rpmb-guest-optee.cfg || { fail "start"; report $name; return; }
	tee_judge $name 2400
	guest_destroy $name
	tee_store_note $name
	check_daemon_alive
	report $name
}

# tee_object_ok NAME WANT WHAT: NAME's console has a tee-object line
# starting with WANT (e.g. "get kept = v1"); otherwise fails with WHAT
# and what it said.
tee_object_ok() {
	local log got
	log=$(guest_log "$1")
	tr -d '\r' <"$log" | grep -aqF "E2E-GUEST: tee-object $2" && return 0
	got=$(grep -a "E2E-GUEST: tee-object ${2%% =*}" "$log" | tr -d '\r' | head -n1)
	fail "$1: $3: ${got:-no tee-object line}"
	return 1
}

# Two TEE guests at once, one per mode, each its own OP-TEE partition and
# store: each runs the storage cases on its own RPMB, and what one stores
# the other never sees. Each first stores "mine" (its own name) and
# "only-<name>"; after its xtest cases (minutes later, so the other's puts
# are long done) it reads "mine" back unchanged and finds no
# "only-<other>": an object of the same TA with the same id in the other
# guest is invisible, not shared or overwritten.
scn_optee_two_guests() {
	local a=tee-grant b=tee-foreign cases=${OPTEE_XTEST_TWO:-6001,6002,6009}
	begin optee-two-guests
	need_daemon_or_skip || return
	provision_store $a && provision_store $b || { fail "provision"; report; return; }
	XTEST="put:mine:$a,put:only-$a:1,$cases,get:mine,get:only-$b" \
		tee_guest_start $a rpmb-guest-optee.cfg || fail "start $a"
	XTEST="put:mine:$b,put:only-$b:1,$cases,get:mine,get:only-$a" \
		tee_guest_start $b rpmb-guest-foreign.cfg || fail "start $b"
	if [ -z "$WHY" ]; then
		tee_judge $a 2400
		tee_judge $b 2400
		tee_object_ok $a "put mine ok" "put"
		tee_object_ok $b "put mine ok" "put"
		tee_object_ok $a "get mine = $a" "its own object"
		tee_object_ok $b "get mine = $b" "its own object"
		tee_object_ok $a "get only-$b error 0xffff0008" "the other guest's object"
		tee_object_ok $b "get only-$a error 0xffff0008" "the other guest's object"
	fi
	guest_destroy $a
	guest_destroy $b
	tee_store_note $a
	tee_store_note $b
	check_daemon_alive
	[ -z "$WHY" ] && DETAIL="$DETAIL; each reads back its own 'mine', the other's 'only-' object is not found (0xffff0008)"
	report $a $b
}

# count_guest_lines NAME RE: how many lines of NAME's console match RE.
count_guest_lines() {
	grep -Eac "$2" "$(guest_log "$1")" 2>/dev/null
}

# wait_guest_count NAME RE N SECS: NAME's console has N lines matching RE.
wait_guest_count() {
	local i=0
	while [ "$(count_guest_lines "$1" "$2")" -lt "$3" ]; do
		[ $i -ge $(($4 * 2)) ] && return 1
		sleep 0.5
		i=$((i + 1))
	done
}

# xtest_pass_ok LINE: an xtest line with sub-tests and none failed.
xtest_pass_ok() {
	case "$1" in *"storage_init_failed=0"*) ;; *) return 1 ;; esac
	case "$1" in *" 0 subtests of which"*) return 1 ;; esac
	echo "$1" | grep -q ' subtests of which 0 failed'
}

# A TA's object on RPMB survives a daemon restart under the running guest
# and a guest reboot (a new domain, so a new OP-TEE partition that reads
# everything back from our store), and a store rolled back under a
# running guest is refused. Boot 1 stores "kept", runs a case, pauses
# while dom0 restarts the daemon (taking a copy of the stopped store),
# then reads "kept" and stores "after". Boot 2 reads both, runs a case
# (OP-TEE now has the device's write counter cached) and pauses while
# dom0 puts the old copy in place; its next write carries a counter the
# old copy is behind, the device answers COUNTER_FAILURE to each of
# OP-TEE's 10 tries, OP-TEE gives up (the TA gets an error, RPMB is
# dead for that partition) and the store's counter stays the old copy's.
# OP-TEE's own lines about it are on the secure console, which the host
# checks (optee_rollback_check in lib/optee-boot.sh).
scn_optee_rpmb_persists() {
	local name=tee-persist store snap=/tmp/tee-persist.old before after line
	local v1 v2
	begin optee-rpmb-persists
	need_daemon_or_skip || return
	provision_store $name || { fail "provision"; report; return; }
	store=$(store_of $name 0)
	v1="kept-$(date +%s)"
	v2="after-$$"
	XTEST="put:kept:$v1,6001,sleep60,get:kept,put:after:$v2" \
		tee_guest_start $name rpmb-guest-optee.cfg || { fail "start"; report $name; return; }
	wait_guest_count $name 'E2E-GUEST: tee sleeping' 1 1200 || fail "boot 1 did not pause"
	if [ -z "$WHY" ]; then
		# The store is SQLite in WAL mode: while the daemon has it open
		# its latest state is in the -wal file. The copy is taken with
		# the daemon stopped (closed and checkpointed), every file of it.
		daemon_stop || fail "daemon did not stop"
		rm -rf "$snap"
		mkdir -p "$snap"
		cp -p "$store"* "$snap/"
		before=$(store_info "$store")
		need_daemon || fail "daemon did not start again"
		note "$name: daemon restarted under the running guest; old copy: $before"
	fi
	wait_guest_line $name 'E2E-GUEST: tee done' 1200 >/dev/null || fail "boot 1 did not end"
	line=$(grep -a 'E2E-GUEST: xtest 6001 ' "$(guest_log $name)" | tr -d '\r' | head -n1)
	xtest_pass_ok "$line" || fail "boot 1: ${line:-no xtest 6001}"
	tee_object_ok $name "put kept ok" "boot 1"
	tee_object_ok $name "get kept = $v1" "after the daemon restart"
	tee_object_ok $name "put after ok" "after the daemon restart"
	guest_destroy $name
	[ -n "$WHY" ] && { report $name; return; }

	XTEST="get:kept,get:after,6001,sleep60,put:late:x" \
		tee_guest_start $name rpmb-guest-optee.cfg || { fail "reboot"; report $name; return; }
	wait_guest_count $name 'E2E-GUEST: tee sleeping' 1 1200 || fail "boot 2 did not pause"
	if [ -z "$WHY" ]; then
		daemon_stop || fail "daemon did not stop"
		rm -f "$store"-wal "$store"-shm
		cp -p "$snap"/* "$STORES/$name/"
		chown 990:990 "$STORES/$name"/*
		need_daemon || fail "daemon did not start again"
		note "$name: store rolled back to the old copy under the running guest"
	fi
	wait_guest_line $name 'E2E-GUEST: tee done' 1200 >/dev/null || fail "boot 2 did not end"
	tee_object_ok $name "get kept = $v1" "after the guest reboot"
	tee_object_ok $name "get after = $v2" "after the guest reboot"
	line=$(grep -a 'E2E-GUEST: xtest 6001 ' "$(guest_log $name)" | tr -d '\r' | head -n1)
	xtest_pass_ok "$line" || fail "boot 2: ${line:-no xtest 6001}"
	line=$(grep -a 'E2E-GUEST: tee-object put late' "$(guest_log $name)" | tr -d '\r' | head -n1)
	case "$line" in
	*"put late error"*) ;;
	*) fail "rollback not detected: ${line:-no tee-object line}" ;;
	esac
	guest_destroy $name
	after=$(store_info "$store")
	note "$name: after the rollback: ${line#E2E-GUEST: }; store $after (old copy $before)"
	[ "${after#*counter=}" = "${before#*counter=}" ] ||
		fail "the rolled-back store accepted writes: $after, old copy $before"
	check_daemon_alive
	DETAIL="object kept across a daemon restart and a guest reboot; after the rollback: ${line#E2E-GUEST: tee-object }, store $after = old copy"
	report $name
}

OPTEE_SCENARIOS="optee-rpmb-storage optee-two-guests optee-rpmb-persists"

SCENARIOS="toolstack toolstack-grant toolstack-foreign toolstack-two-guests
	backend-probe-grant backend-probe-foreign backend-two-guests
	guest-program-grant guest-program-foreign
	guest-recreate-keeps-state guest-poweroff-keeps-state
	guest-reboot-keeps-state guest-dies-alone
	backend-two-guests-separate-stores backend-destroy-during-traffic
	backend-garbage-guest guest-bench backend-restart
	two-devices smp-guest real-clients-grant real-clients-foreign
	worker-privileges worker-killed backend-killed isolation
	driver-domain backend-alive"

# The OP-TEE boot runs only its own scenarios, the direct boot only the
# others (tests/e2e/lib/optee-boot.sh).
[ -f /e2e/optee-boot ] && SCENARIOS=$OPTEE_SCENARIOS

for s in $SCENARIOS; do
	wanted "$s" || continue
	"scn_$(echo "$s" | tr - _)"
done
