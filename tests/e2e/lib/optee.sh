# shellcheck shell=bash disable=SC2034 # (sourced by run.sh; variables are shared)
# The secure world and OP-TEE userland for the OP-TEE boot (E2E_OPTEE),
# cross-built from the pinned third-party sources, each cached under
# $CACHE/<piece>/<key> like Xen:
#   OP-TEE OS 4.10.0  as S-EL1 SPMC (Xen's FF-A mediator needs an SPMC;
#                     Xen's SMC OP-TEE mediator drops the RPMB-probe
#                     capability, so a guest kernel could not route RPMB),
#                     NS virtualization (one OP-TEE partition per domain),
#                     RPMB-only secure storage with the public test key;
#   TF-A 2.14.0       SPM dispatcher at EL3, OP-TEE at S-EL1, Debian's
#                     u-boot-qemu as BL33 (it loads Xen and dom0);
#   optee_client      tee-supplicant and libteec for the guests;
#   optee_test        xtest and its TAs.
# Facts and flags from the lab recipe (research/optee-ffa.md).

OPTEE_VERSION=4.10.0
TFA_VERSION=2.14.0
UBOOT_BIN=/usr/lib/u-boot/qemu_arm64/u-boot.bin
# python3 on PATH may be a pyenv shim without elftools; OP-TEE's and
# optee_test's build scripts need Debian's python3-pyelftools and
# python3-cryptography.
OPTEE_PYTHON=/usr/bin/python3
# OP-TEE splits its 15 MiB of TZDRAM into this many partitions, and Xen
# 4.20 gives dom0 one unconditionally: dom0 + 2 TEE guests, ~4 MiB of TA
# RAM each. A third TEE guest is refused at creation.
OPTEE_GUEST_COUNT=3
OPTEE_HOST_PKGS=(python3-pyelftools python3-cryptography u-boot-qemu)

install_optee_host_deps() {
	local pkg missing=()
	for pkg in "${OPTEE_HOST_PKGS[@]}"; do
		dpkg-query -W -f '${Status}' "$pkg" 2>/dev/null |
			grep -q 'install ok installed' || missing+=("$pkg")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	[ "$(id -u)" -eq 0 ] || die "missing host packages (run as root): ${missing[*]}"
	log "installing host packages: ${missing[*]}"
	apt_retry install -y -qq --no-install-recommends "${missing[@]}" >/dev/null ||
		die "apt-get install failed"
}

# CFG_RPMB_WRITE_KEY=n: with =y OP-TEE 4.10 takes its legacy
# (tee-supplicant) RPMB path even when the kernel can route frames; the
# in-kernel path never programs a key, so stores are provisioned offline.
# CFG_REE_FS=n: RPMB-only secure storage. With the REE FS as well, OP-TEE
# anchors the REE FS's hash in RPMB while tee-supplicant keeps its files
# in the guest (a tmpfs here): a rebooted guest then fails every TA load
# (TEE_ERROR_CORRUPT_OBJECT from the secure-storage TA store), and a
# rolled-back store trips that path before any write. RPMB-only, every
# object is on our device and TEE_STORAGE_PRIVATE means RPMB.
# Log level 3 prints the RPMB DMSG lines the scenarios use as evidence.
optee_os_recipe() {
	local dir=$1 tarball=$2
	mkdir -p "$dir/src"
	tar -xzf "$tarball" -C "$dir/src" --strip-components=1
	log "optee_os: building (~7 min on 2 idle cores)"
	make -C "$dir/src" O="$dir/out" -j"$JOBS" PYTHON3="$OPTEE_PYTHON" \
		PLATFORM=vexpress-qemu_armv8a \
		CROSS_COMPILE64="$CROSS" CROSS_COMPILE="$CROSS" \
		CFG_ARM64_core=y CFG_USER_TA_TARGETS=ta_arm64 CFG_ARM_GICV3=y \
		CFG_CORE_SEL1_SPMC=y \
		CFG_NS_VIRTUALIZATION=y CFG_VIRT_GUEST_COUNT=$OPTEE_GUEST_COUNT \
		CFG_RPMB_FS=y CFG_REE_FS=n CFG_RPMB_TESTKEY=y CFG_RPMB_WRITE_KEY=n \
		CFG_RPMB_ANNOUNCE_PROBE_CAP=y \
		CFG_TEE_CORE_LOG_LEVEL=3 DEBUG=0 >"$dir/build.log" 2>&1 ||
		{ tail -n 40 "$dir/build.log" >&2; die "optee_os build failed"; }
	mkdir -p "$dir/core"
	cp "$dir"/out/core/tee-{header,pager,pageable}_v2.bin "$dir/core/"
	cp "$dir/out/conf.mk" "$dir/conf.mk"
	# The TA dev kit is what optee_test builds against.
	mv "$dir/out/export-ta_arm64" "$dir/export-ta_arm64"
	rm -rf "$dir/src" "$dir/out"
}

# The flags of optee-build's qemu_v8.mk for an S-EL1 SPMC, without SME;
# the SPMC manifest is optee-build's own (qemu_v8/spmc_el1_manifest_virt.dts).
tfa_recipe() {
	local dir=$1 tarball=$2 build_tarball=$3 optee=$4
	mkdir -p "$dir/src" "$dir/ob"
	tar -xzf "$tarball" -C "$dir/src" --strip-components=1
	tar -xzf "$build_tarball" -C "$dir/ob" --strip-components=1 \
		"optee-build-$OPTEE_VERSION/qemu_v8/spmc_el1_manifest_virt.dts"
	log "tf-a: building (~1-2 min)"
	make -C "$dir/src" -j"$JOBS" CROSS_COMPILE="$CROSS" \
		PLAT=qemu DEBUG=0 LOG_LEVEL=40 \
		ENABLE_SVE_FOR_NS=2 ENABLE_SVE_FOR_SWD=1 ENABLE_FEAT_FGT=2 \
		ENABLE_FEAT_HCX=2 ENABLE_FEAT_ECV=2 \
		BL33="$UBOOT_BIN" QEMU_USE_GIC_DRIVER=QEMU_GICV3 BL32_RAM_LOCATION=tdram \
		BL32="$optee/core/tee-header_v2.bin" \
		BL32_EXTRA1="$optee/core/tee-pager_v2.bin" \
		BL32_EXTRA2="$optee/core/tee-pageable_v2.bin" \
		SPD=spmd CTX_INCLUDE_EL2_REGS=0 SPMD_SPM_AT_SEL2=0 \
		ENABLE_SME_FOR_NS=0 ENABLE_SME_FOR_SWD=0 SPMC_OPTEE=1 \
		QEMU_TOS_FW_CONFIG_DTS="$dir/ob/qemu_v8/spmc_el1_manifest_virt.dts" \
		all fip >"$dir/build.log" 2>&1 ||
		{ tail -n 40 "$dir/build.log" >&2; die "tf-a build failed"; }
	# bl1 + fip at 256 KiB: what QEMU takes as -bios.
	cp "$dir/src/build/qemu/release/qemu_fw.bios" "$dir/qemu_fw.bios"
	rm -rf "$dir/src" "$dir/ob"
}

optee_client_recipe() {
	local dir=$1 tarball=$2
	mkdir -p "$dir/src"
	tar -xzf "$tarball" -C "$dir/src" --strip-components=1
	make -C "$dir/src" -j"$JOBS" CROSS_COMPILE="$CROSS" WITH_TEEACL=0 \
		O="$dir/out" >"$dir/build.log" 2>&1 ||
		{ tail -n 40 "$dir/build.log" >&2; die "optee_client build failed"; }
	mv "$dir/out/export/usr" "$dir/usr"
	rm -rf "$dir/src" "$dir/out"
}

optee_test_recipe() {
	local dir=$1 tarball=$2 optee=$3 client=$4
	mkdir -p "$dir/src" "$dir/ta"
	tar -xzf "$tarball" -C "$dir/src" --strip-components=1
	log "optee_test: building xtest and its TAs (~1-2 min)"
	make -C "$dir/src" -j"$JOBS" CROSS_COMPILE="$CROSS" \
		TA_DEV_KIT_DIR="$optee/export-ta_arm64" \
		OPTEE_CLIENT_EXPORT="$client/usr" \
		PYTHON3="$OPTEE_PYTHON" WITH_OPENSSL=n O="$dir/out" >"$dir/build.log" 2>&1 ||
		{ tail -n 40 "$dir/build.log" >&2; die "optee_test build failed"; }
	cp "$dir/out/xtest/xtest" "$dir/xtest"
	cp "$dir"/out/ta/*/*.ta "$dir/ta/"
	rm -rf "$dir/src" "$dir/out"
}

# Sets OPTEE_OS_DIR, TFA_BIOS, OPTEE_CLIENT_DIR (usr/{sbin,lib}) and
# OPTEE_TEST_DIR (xtest, ta/*.ta).
build_optee() {
	local os_tar tfa_tar ob_tar cl_tar te_tar key t0
	install_optee_host_deps
	os_tar=$(pinned_tarball "optee_os-$OPTEE_VERSION.tar.gz")
	tfa_tar=$(pinned_tarball "trusted-firmware-a-$TFA_VERSION.tar.gz")
	ob_tar=$(pinned_tarball "optee-build-$OPTEE_VERSION.tar.gz")
	cl_tar=$(pinned_tarball "optee_client-$OPTEE_VERSION.tar.gz")
	te_tar=$(pinned_tarball "optee_test-$OPTEE_VERSION.tar.gz")

	t0=$SECONDS
	key=$(cache_key "$os_tar" "$(declare -f optee_os_recipe)" "$OPTEE_GUEST_COUNT")
	OPTEE_OS_DIR=$CACHE/optee-os/$key
	build_once "$OPTEE_OS_DIR" optee_os_recipe "$OPTEE_OS_DIR" "$os_tar"

	key=$(cache_key "$tfa_tar" "$ob_tar" "$UBOOT_BIN" "$OPTEE_OS_DIR" \
		"$(declare -f tfa_recipe)")
	local tfa_dir=$CACHE/tf-a/$key
	build_once "$tfa_dir" tfa_recipe "$tfa_dir" "$tfa_tar" "$ob_tar" "$OPTEE_OS_DIR"
	TFA_BIOS=$tfa_dir/qemu_fw.bios

	key=$(cache_key "$cl_tar" "$(declare -f optee_client_recipe)")
	OPTEE_CLIENT_DIR=$CACHE/optee-client/$key
	build_once "$OPTEE_CLIENT_DIR" optee_client_recipe "$OPTEE_CLIENT_DIR" "$cl_tar"

	key=$(cache_key "$te_tar" "$OPTEE_OS_DIR" "$OPTEE_CLIENT_DIR" \
		"$(declare -f optee_test_recipe)")
	OPTEE_TEST_DIR=$CACHE/optee-test/$key
	build_once "$OPTEE_TEST_DIR" optee_test_recipe "$OPTEE_TEST_DIR" "$te_tar" \
		"$OPTEE_OS_DIR" "$OPTEE_CLIENT_DIR"
	log "optee: secure world and userland ready in $((SECONDS - t0)) s"
}
