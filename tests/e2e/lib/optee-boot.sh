# shellcheck shell=bash disable=SC2034 # (sourced by run.sh; variables are shared)
# The OP-TEE boot (unless E2E_OPTEE=0), a second QEMU run after the direct
# one: TF-A (BL1/BL2/BL31 with the SPM dispatcher) -> OP-TEE as S-EL1
# SPMC -> Debian's U-Boot -> Xen with its FF-A mediator -> the same dom0
# initramfs as the direct boot plus the TEE guest's initramfs, running
# only the optee-* scenarios. The direct boot is unchanged.
#
# U-Boot boots what QEMU hands it through fw_cfg: -kernel (Xen), -append
# (Xen's command line), -initrd (dom0's initramfs); dom0's kernel comes
# as a guest-loader module (a /chosen/module node Xen reads). There is no
# fourth module for a FLASK policy on this path, so this boot runs Xen's
# dummy XSM module (xsm=dummy: Xen's default here, FLASK, refuses to boot
# enforcing without a policy): the policy is the direct boot's subject, the
# secure world is this one's.

# Scenarios of this boot; scenarios.sh runs only these when dom0's
# initramfs holds /e2e/optee-boot.
OPTEE_SCENARIOS="optee-rpmb-storage optee-two-guests optee-rpmb-persists"

# optee_wanted: E2E_ONLY is empty or names an OP-TEE scenario.
optee_wanted() {
	local s
	[ -z "${E2E_ONLY:-}" ] && return 0
	for s in $E2E_ONLY; do
		case " $OPTEE_SCENARIOS " in *" $s "*) return 0 ;; esac
	done
	return 1
}

# direct_wanted: E2E_ONLY is empty or names a scenario of the direct boot.
direct_wanted() {
	local s
	[ -z "${E2E_ONLY:-}" ] && return 0
	for s in $E2E_ONLY; do
		case " $OPTEE_SCENARIOS " in *" $s "*) ;; *) return 0 ;; esac
	done
	return 1
}

# Our guest driver, built against the e2e guest kernel tree like the test
# driver (Kbuild writes next to the sources: build from a copy).
build_virtio_rpmb_module() {
	local src=$REPO/tools/linux-virtio-rpmb out=$RUN_DIR/virtio-rpmb
	rm -rf "$out"
	mkdir -p "$out"
	cp "$src"/*.c "$src"/*.h "$src/Kbuild" "$out/"
	make -s -C "$GUEST_KDIR" M="$out" ARCH=arm64 CROSS_COMPILE="$CROSS" \
		modules >"$RUN_DIR/virtio-rpmb-build.log" 2>&1 ||
		{ tail -n 30 "$RUN_DIR/virtio-rpmb-build.log" >&2; die "virtio_rpmb.ko build failed"; }
	VIRTIO_RPMB_KO=$out/virtio_rpmb.ko
}

# tee-object (tests/e2e/guest/tee-object.c), against the cached libteec.
build_tee_object() {
	TEE_OBJECT=$RUN_DIR/tee-object
	"${CROSS}gcc" -std=gnu11 -Wall -Wextra -Werror -O2 \
		-I"$OPTEE_CLIENT_DIR/usr/include" -L"$OPTEE_CLIENT_DIR/usr/lib" \
		-o "$TEE_OBJECT" "$REPO/tests/e2e/guest/tee-object.c" -lteec ||
		die "tee-object build failed"
}

# The TEE guest's initramfs: the test domU's plus tee-supplicant,
# libteec, xtest, its TAs, glibc (from dom0's Debian 13 root: the OP-TEE
# programs are dynamic) and our driver.
assemble_tee_domu_initrd() {
	local root=$RUN_DIR/tee-domu-root
	rm -rf "$root"
	cp -a "$RUN_DIR/domu-root" "$root"
	mkdir -p "$root/tee" "$root/usr/sbin" "$root/usr/bin" \
		"$root/usr/lib/aarch64-linux-gnu" "$root/lib/optee_armtz" "$root/data"
	install -m 0755 "$OPTEE_CLIENT_DIR/usr/sbin/tee-supplicant" "$root/usr/sbin/"
	install -m 0755 "$OPTEE_TEST_DIR/xtest" "$TEE_OBJECT" "$root/usr/bin/"
	# libteec, and libckteec that xtest links for its PKCS#11 cases.
	cp -a "$OPTEE_CLIENT_DIR"/usr/lib/lib*.so* "$root/usr/lib/aarch64-linux-gnu/"
	cp "$OPTEE_TEST_DIR"/ta/*.ta "$root/lib/optee_armtz/"
	install -m 0644 "$VIRTIO_RPMB_KO" "$root/tee/"
	install -m 0755 "$E2E_DIR/domu/tee.sh" "$root/tee/tee.sh"
	copy_needed_libs "$DOM0_BASE" "$root" "$root/usr/sbin/tee-supplicant" \
		"$root/usr/bin/xtest" "$root/usr/bin/tee-object" \
		"$root"/usr/lib/aarch64-linux-gnu/lib*.so.*.*
	check_needed_libs "$root" usr/sbin usr/bin || die "TEE guest root lacks libraries"
	make_cpio "$root" "$RUN_DIR/tee-domu-initrd.gz"
}

# dom0's initramfs of this boot: the direct boot's root (left in
# $RUN_DIR/dom0-root by assemble_dom0_initrd) plus the TEE guest and the
# marker that selects the OP-TEE scenarios.
assemble_optee_dom0_initrd() {
	local root=$RUN_DIR/optee-dom0-root
	rm -rf "$root"
	cp -a "$RUN_DIR/dom0-root" "$root"
	mkdir -p "$root/e2e/tee"
	cp "$RUN_DIR/tee-domu-initrd.gz" "$root/e2e/tee/initrd.gz"
	touch "$root/e2e/optee-boot"
	make_cpio "$root" "$RUN_DIR/optee-dom0-initrd.gz"
}

# The secure console (OP-TEE's and TF-A's second UART) goes to its own
# file; the scenarios cannot read it, so the host appends its RPMB
# evidence to the summary (optee_evidence).
run_qemu_optee() {
	local log=$1 secure=$2
	local xen_args="dom0_mem=768M dom0_max_vcpus=2 console=dtuart dtuart=/pl011@9000000 console_timestamps=boot noreboot xsm=dummy"
	# guest-loader splits its options at commas: none in these bootargs.
	local dom0_args="console=hvc0 loglevel=4"
	rm -f "$log" "$secure"
	timeout -k 10 "$E2E_TIMEOUT" qemu-system-aarch64 \
		-machine virt,secure=on,virtualization=on,gic-version=3 -cpu cortex-a57 \
		-smp 2 -m 2048 -display none -no-reboot -nic none -monitor none \
		-bios "$TFA_BIOS" \
		-serial "file:$log" -serial "file:$secure" \
		-kernel "$XEN_IMAGE" -append "$xen_args" \
		-initrd "$RUN_DIR/optee-dom0-initrd.gz" \
		-device guest-loader,addr=0x70000000,kernel="$DOM0_KERNEL",bootargs="$dom0_args" \
		</dev/null &
	QEMU_PID=$!
	wait_qemu "$log"
}

# OP-TEE's own RPMB lines from the secure console, as E2E-NOTE lines in
# the console log, so that the summary and the log show them.
optee_evidence() {
	local secure=$1 log=$2
	{
		grep -aE 'NS-virtualization enabled|Added guest|Removing guest|RPMB size|Reliable Write|Using test key|Found working RPMB device|rpmb_probe_next error|Trying legacy RPMB|[Cc]ounter|MAC|ldelf failed|init session failed|Write resp unpack verify failed|Write invoke failed|panicked' "$secure" |
			tr -d '\r' | sort | uniq -c |
			awk '{ n = $1; $1 = ""; print "E2E-NOTE: secure-console (" n "x)" $0 }'
	} >>"$log" || true
	grep -a 'E2E-NOTE: secure-console' "$log" | head -n 30 >&2 || true
}

# optee_rollback_check SECURE LOG: optee-rpmb-persists judges in the guest
# that the write after the rollback failed; that OP-TEE itself refused it
# (its authenticated write answered with an error on every try) only the
# secure console shows, so a PASS without those lines becomes a FAIL.
optee_rollback_check() {
	local secure=$1 log=$2
	grep -aq 'E2E-RESULT: optee-rpmb-persists PASS' "$log" || return 0
	grep -aq 'Write resp unpack verify failed' "$secure" && return 0
	sed -i 's/E2E-RESULT: optee-rpmb-persists PASS (/E2E-RESULT: optee-rpmb-persists FAIL (secure console: OP-TEE never saw its write refused; /' "$log"
}

# The OP-TEE boot: its builds, its guest, its QEMU run, its summary.
main_optee() {
	local t0=$SECONDS t_qemu rc=0
	build_optee
	build_virtio_rpmb_module
	build_tee_object
	assemble_tee_domu_initrd
	assemble_optee_dom0_initrd
	log "OP-TEE boot prepared in $((SECONDS - t0)) s; booting TF-A, OP-TEE, U-Boot, Xen (limit $E2E_TIMEOUT s)"
	t_qemu=$SECONDS
	run_boot run_qemu_optee "$RUN_DIR/optee-console.log" "$RUN_DIR/optee-secure.log" || rc=$?
	log "OP-TEE QEMU stage took $((SECONDS - t_qemu)) s (exit $rc)"
	optee_evidence "$RUN_DIR/optee-secure.log" "$RUN_DIR/optee-console.log"
	optee_rollback_check "$RUN_DIR/optee-secure.log" "$RUN_DIR/optee-console.log"
	evaluate_console "$RUN_DIR/optee-console.log" "$rc"
}
