# shellcheck shell=bash disable=SC2034 # (sourced by run.sh; variables are shared)
# Boots Xen + dom0 under QEMU (TCG: no KVM, and Xen needs EL2 anyway),
# with the dom0 kernel and initramfs handed over by QEMU's guest-loader,
# and evaluates the E2E-RESULT lines on the serial console.

QEMU_PID=

# Never leave QEMU behind, whatever ends this script.
kill_qemu() {
	if [ -n "$QEMU_PID" ] && kill -0 "$QEMU_PID" 2>/dev/null; then
		kill -TERM "$QEMU_PID" 2>/dev/null || true
		sleep 1
		kill -KILL "$QEMU_PID" 2>/dev/null || true
	fi
}

run_qemu() {
	local log=$1
	local xen_args="dom0_mem=768M dom0_max_vcpus=2 console=dtuart dtuart=/pl011@9000000 console_timestamps=boot noreboot"
	local dom0_args="console=hvc0 loglevel=4"
	# A stale log would feed the progress display below.
	rm -f "$log"
	# timeout(1) in its own process group would not see our SIGINT; run it
	# in the background and wait, so the EXIT trap can stop it.
	timeout -k 10 "$E2E_TIMEOUT" qemu-system-aarch64 \
		-machine virt,virtualization=on,gic-version=3 -cpu cortex-a57 \
		-smp 2 -m 2048 -display none -monitor none -serial "file:$log" \
		-no-reboot -nic none \
		-kernel "$XEN_IMAGE" -append "$xen_args" \
		-device guest-loader,addr=0x49000000,kernel="$DOM0_KERNEL",bootargs="$dom0_args" \
		-device guest-loader,addr=0x50000000,initrd="$RUN_DIR/dom0-initrd.gz" \
		</dev/null &
	QEMU_PID=$!
	# Progress on the terminal: the marker lines as they arrive.
	tail -F -n +1 --pid="$QEMU_PID" "$log" 2>/dev/null |
		tr -d '\r' | grep --line-buffered -E 'E2E-(RESULT|NOTE|DOM0|DONE)|Panic|panic' |
		sed -u 's/^/    /' >&2 &
	local tail_pid=$!
	local rc=0
	wait "$QEMU_PID" || rc=$?
	QEMU_PID=
	wait "$tail_pid" 2>/dev/null || true
	return $rc
}

# Prints the summary and returns non-zero on any failure, skip (unless
# E2E_ALLOW_SKIP=1), timeout or missing end marker.
evaluate_console() {
	local log=$1 qemu_rc=$2 results pass fail skip ok=1
	results=$(tr -d '\r' <"$log" | grep -aE '^(\(d0\) )?E2E-RESULT: ' |
		sed -E 's/^\(d0\) //' || true)
	pass=$(grep -c ' PASS' <<<"$results" || true)
	fail=$(grep -c ' FAIL' <<<"$results" || true)
	skip=$(grep -c ' SKIP' <<<"$results" || true)
	echo "===== end-to-end results ====="
	[ -n "$results" ] && sed 's/^E2E-RESULT: /  /' <<<"$results"
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
	[ $((pass + fail + skip)) -gt 0 ] || ok=0
	echo "console log: $log"
	# The summary goes last: CI reads the closing line.
	echo "$pass passed, $fail failed, $skip skipped"
	if [ $ok -eq 0 ]; then
		[ "$skip" -gt 0 ] && [ "${E2E_ALLOW_SKIP:-0}" != 1 ] &&
			echo "(skipped scenarios count as failure; E2E_ALLOW_SKIP=1 accepts them)"
		echo "===== last 80 console lines ====="
		tail -n 80 "$log" | tr -d '\r'
		return 1
	fi
	return 0
}
