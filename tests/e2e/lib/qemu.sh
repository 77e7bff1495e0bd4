# shellcheck shell=bash disable=SC2034 # (sourced by run.sh; variables are shared)
# Boots Xen + dom0 under QEMU (TCG: no KVM, and Xen needs EL2 anyway) and
# evaluates the E2E-RESULT lines on the serial console.
#
# Xen takes its boot modules (dom0 kernel, dom0 initramfs, XSM policy) from
# /chosen/module@... nodes of the device tree. QEMU's guest-loader device
# writes such nodes for kernels and initrds only, so the test writes all
# three itself: QEMU dumps the machine's own device tree (-machine
# dumpdtb), fdtput adds the module nodes, and the machine boots with that
# tree (-dtb) and the files placed by generic -device loader.

QEMU_PID=

# Load addresses of the boot modules (RAM starts at 0x40000000; QEMU puts
# Xen near the start and the device tree at 0x48000000).
DOM0_KERNEL_ADDR=0x49000000
XSM_POLICY_ADDR=0x4f000000
DOM0_INITRD_ADDR=0x50000000

# Never leave QEMU behind, whatever ends this script.
kill_qemu() {
	if [ -n "$QEMU_PID" ] && kill -0 "$QEMU_PID" 2>/dev/null; then
		kill -TERM "$QEMU_PID" 2>/dev/null || true
		sleep 1
		kill -KILL "$QEMU_PID" 2>/dev/null || true
	fi
}

# The emulated machine; the same for dumping the device tree and booting.
QEMU_MACHINE=(-machine virt,virtualization=on,gic-version=3 -cpu cortex-a57
	-smp 2 -m 2048 -display none -no-reboot -nic none)

# add_module DTB ADDR FILE COMPATIBLE...: a /chosen/module@ADDR node for
# FILE (Xen's docs/misc/arm/device-tree/booting.txt; reg in the root's
# two address and two size cells, as guest-loader writes it).
add_module() {
	local dtb=$1 addr=$2 file=$3 node size
	shift 3
	node=/chosen/module@${addr#0x}
	size=$(stat -c %s "$file")
	fdtput -c "$dtb" "$node"
	fdtput -t s "$dtb" "$node" compatible "$@"
	fdtput -t x "$dtb" "$node" reg 0 "$addr" 0 "$(printf '%x' "$size")"
}

# Writes the boot device tree: QEMU's own plus the three modules.
make_boot_dtb() {
	local dtb=$1 dom0_args=$2
	rm -f "$dtb"
	qemu-system-aarch64 "${QEMU_MACHINE[@]}" -machine dumpdtb="$dtb" \
		>/dev/null 2>&1 </dev/null
	[ -s "$dtb" ] || die "qemu -machine dumpdtb wrote no device tree"
	add_module "$dtb" "$DOM0_KERNEL_ADDR" "$DOM0_KERNEL" multiboot,kernel multiboot,module
	fdtput -t s "$dtb" "/chosen/module@${DOM0_KERNEL_ADDR#0x}" bootargs "$dom0_args"
	add_module "$dtb" "$DOM0_INITRD_ADDR" "$RUN_DIR/dom0-initrd.gz" multiboot,ramdisk multiboot,module
	add_module "$dtb" "$XSM_POLICY_ADDR" "$XSM_POLICY" xen,xsm-policy multiboot,module
	# The modules must not overlap (the initramfs may grow without bound).
	[ $((DOM0_KERNEL_ADDR + $(stat -c %s "$DOM0_KERNEL"))) -le $((XSM_POLICY_ADDR)) ] &&
		[ $((XSM_POLICY_ADDR + $(stat -c %s "$XSM_POLICY"))) -le $((DOM0_INITRD_ADDR)) ] ||
		die "boot modules overlap: move the addresses in lib/qemu.sh"
	dtc -q -I dtb -O dts "$dtb" >"${dtb%.dtb}.dts"
}

run_qemu() {
	local log=$1
	# xsm=flask flask=enforcing: every scenario runs under the policy
	# (Xen refuses to boot enforcing without one).
	local xen_args="dom0_mem=768M dom0_max_vcpus=2 console=dtuart dtuart=/pl011@9000000 console_timestamps=boot noreboot xsm=flask flask=enforcing"
	local dom0_args="console=hvc0 loglevel=4"
	local dtb=$RUN_DIR/boot.dtb
	make_boot_dtb "$dtb" "$dom0_args"
	# A stale log would feed the progress display below.
	rm -f "$log"
	# timeout(1) in its own process group would not see our SIGINT; run it
	# in the background and wait, so the EXIT trap can stop it.
	timeout -k 10 "$E2E_TIMEOUT" qemu-system-aarch64 "${QEMU_MACHINE[@]}" \
		-monitor none -serial "file:$log" -dtb "$dtb" \
		-kernel "$XEN_IMAGE" -append "$xen_args" \
		-device loader,file="$DOM0_KERNEL",addr="$DOM0_KERNEL_ADDR",force-raw=on \
		-device loader,file="$XSM_POLICY",addr="$XSM_POLICY_ADDR",force-raw=on \
		-device loader,file="$RUN_DIR/dom0-initrd.gz",addr="$DOM0_INITRD_ADDR",force-raw=on \
		</dev/null &
	QEMU_PID=$!
	wait_qemu "$log"
}

# A rare failure of the emulated machine, not ours as far as we can tell
# (it hits dom0's kernel, not our processes): a dom0 vCPU
# whose timer interrupt never comes (Linux: "rcu_sched kthread timer
# wakeup didn't happen ... Possible timer handling issue on cpu=N"). Seen
# twice in many runs (TCG, Xen 4.20, QEMU 7.2), once in each boot,
# at any point; dom0 never recovers, so the run would sit idle until
# E2E_TIMEOUT. wait_qemu stops such a boot at once and the caller boots
# again, once (run_boot).
QEMU_STALL_RE="timer wakeup didn't happen"

# wait_qemu LOG: waits for the QEMU started as $QEMU_PID and returns its
# exit status; meanwhile LOG's marker lines go to the terminal as they
# arrive, so a long boot shows its progress. Sets QEMU_STALLED=1 (and
# stops QEMU) when dom0 reports a lost timer.
wait_qemu() {
	local log=$1 tail_pid rc=0
	QEMU_STALLED=0
	tail -F -n +1 --pid="$QEMU_PID" "$log" 2>/dev/null |
		tr -d '\r' | grep --line-buffered -E 'E2E-(RESULT|NOTE|DOM0|DONE)|Panic|panic' |
		sed -u 's/^/    /' >&2 &
	tail_pid=$!
	while kill -0 "$QEMU_PID" 2>/dev/null; do
		if grep -aq "$QEMU_STALL_RE" "$log" 2>/dev/null; then
			QEMU_STALLED=1
			kill "$QEMU_PID" 2>/dev/null
			break
		fi
		sleep 2
	done
	wait "$QEMU_PID" || rc=$?
	QEMU_PID=
	wait "$tail_pid" 2>/dev/null || true
	return $rc
}

# run_boot FN LOG ARGS...: FN LOG ARGS... (a QEMU boot writing LOG); if
# dom0 stalled (see wait_qemu), keeps that log as LOG.stalled and boots
# once more. Returns the last boot's status.
run_boot() {
	local log=$2 rc=0
	"$@" || rc=$?
	[ "$QEMU_STALLED" = 1 ] || return $rc
	mv "$log" "$log.stalled"
	log "dom0 stalled in the emulator ($(grep -a -m1 "$QEMU_STALL_RE" "$log.stalled" | tr -d '\r' | cut -c1-120)); booting once more, first log kept as $log.stalled"
	rc=0
	"$@" || rc=$?
	[ "$QEMU_STALLED" = 1 ] && log "dom0 stalled again"
	return $rc
}

# is_pending NAME: the scenario waits for a change outside tests/e2e
# (E2E_PENDING, see tests/e2e/README.md).
is_pending() {
	case " $(echo $E2E_PENDING) " in *" $1 "*) return 0 ;; esac
	return 1
}

# Prints the summary and returns non-zero on any failure, skip (unless
# E2E_ALLOW_SKIP=1), timeout or missing end marker. A FAIL or SKIP of a
# pending scenario is listed as such and does not fail the run; a pending
# scenario that passes is pointed out (take it off E2E_PENDING).
evaluate_console() {
	local log=$1 qemu_rc=$2 results line name status rest pass=0 fail=0 skip=0
	local pending=0 ok=1
	results=$(tr -d '\r' <"$log" | grep -aE '^(\(d0\) )?E2E-RESULT: ' |
		sed -E 's/^\(d0\) //' || true)
	echo "===== end-to-end results ====="
	while read -r _ name status rest; do
		[ -n "$name" ] || continue
		line="$name $status${rest:+ $rest}"
		if is_pending "$name" && [ "$status" != PASS ]; then
			pending=$((pending + 1))
			echo "  $line  [pending: E2E_PENDING]"
			continue
		fi
		echo "  $line"
		is_pending "$name" && echo "  ^ $name is on E2E_PENDING but passed: take it off"
		case "$status" in
		PASS) pass=$((pass + 1)) ;;
		FAIL) fail=$((fail + 1)) ;;
		SKIP) skip=$((skip + 1)) ;;
		esac
	done <<<"$results"
	if [ "$qemu_rc" -eq 124 ] || [ "$qemu_rc" -eq 137 ]; then
		echo "  TIMEOUT: QEMU killed after $E2E_TIMEOUT s"
		ok=0
	fi
	if ! tr -d '\r' <"$log" | grep -aq 'E2E-DONE'; then
		echo "  dom0 did not reach the end of its scenarios (crash, hang or timeout)"
		ok=0
	fi
	[ "$fail" -eq 0 ] || ok=0
	[ "$skip" -eq 0 ] || [ "${E2E_ALLOW_SKIP:-0}" = 1 ] || ok=0
	[ $((pass + fail + skip + pending)) -gt 0 ] || ok=0
	echo "console log: $log"
	# The summary goes last: CI reads the closing line.
	echo "$pass passed, $fail failed, $skip skipped, $pending pending"
	if [ $ok -eq 0 ]; then
		[ "$skip" -gt 0 ] && [ "${E2E_ALLOW_SKIP:-0}" != 1 ] &&
			echo "(skipped scenarios count as failure; E2E_ALLOW_SKIP=1 accepts them)"
		echo "===== last 80 console lines ====="
		tail -n 80 "$log" | tr -d '\r'
		return 1
	fi
	return 0
}
