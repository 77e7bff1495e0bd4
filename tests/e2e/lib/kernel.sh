# shellcheck shell=bash disable=SC2034 # (sourced by run.sh; variables are shared)
# Guest (domU) Linux kernel: Debian 12's linux-source-6.12, arm64 cross build,
# allnoconfig + config/guest-kernel.config. The O= build tree stays in the
# cache so that out-of-tree guest modules can be built against it; the
# symlink $CACHE/guest-kernel/current points at it.

KERNEL_FRAGMENT=$E2E_DIR/config/guest-kernel.config
GUEST_KERNEL_PKG=linux-source-6.12

guest_kernel_recipe() {
	local dir=$1 deb=$2 tarball
	log "guest kernel: unpacking $(basename "$deb")"
	dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$dir" --wildcards './usr/src/linux-source-*.tar.xz'
	tarball=$(ls "$dir"/usr/src/linux-source-*.tar.xz)
	mkdir -p "$dir/src"
	tar -xJf "$tarball" -C "$dir/src" --strip-components=1
	rm -rf "$dir/usr"

	local kmake=(make -C "$dir/src" O="$dir/build" ARCH=arm64 CROSS_COMPILE="$CROSS")
	log "guest kernel: configuring"
	"${kmake[@]}" -s KCONFIG_ALLCONFIG="$KERNEL_FRAGMENT" allnoconfig
	check_kernel_config "$dir/build/.config"
	log "guest kernel: building Image and modules (takes ~6 min on 2 cores)"
	"${kmake[@]}" -s -j"$JOBS" Image modules >"$dir/build.log" 2>&1 ||
		{ tail -n 40 "$dir/build.log" >&2; die "guest kernel build failed"; }
	# The in-tree modules (virtio core, virtio-mmio) go to the domU initramfs
	# with a modules.dep, so the guest can "modprobe virtio_mmio".
	"${kmake[@]}" -s INSTALL_MOD_PATH="$dir/modroot" INSTALL_MOD_STRIP=1 \
		modules_install >>"$dir/build.log" 2>&1
}

# A symbol that allnoconfig silently refused (unmet dependency) would only
# show up later as a missing device; fail here instead.
check_kernel_config() {
	local config=$1 line bad=0
	while read -r line; do
		case "$line" in
		CONFIG_*=*)
			grep -qx "$line" "$config" || { log "kernel config lacks $line"; bad=1; }
			;;
		esac
	done <"$KERNEL_FRAGMENT"
	[ $bad -eq 0 ] || die "guest kernel config fragment not applied"
}

# Sets GUEST_KDIR (O= build tree) and GUEST_KERNEL (Image).
build_guest_kernel() {
	local deb key dir
	deb=$(fetch_deb "$GUEST_KERNEL_PKG")
	key=$(cache_key "$(basename "$deb")" "$KERNEL_FRAGMENT" \
		"$(declare -f guest_kernel_recipe check_kernel_config)")
	dir=$CACHE/guest-kernel/$key
	if [ ! -e "$dir/.complete" ]; then
		local t0=$SECONDS
		build_once "$dir" guest_kernel_recipe "$dir" "$deb"
		log "guest kernel built in $((SECONDS - t0)) s"
	else
		log "guest kernel: cached ($key)"
	fi
	ln -sfn "$dir/build" "$CACHE/guest-kernel/current"
	GUEST_KDIR=$dir/build
	GUEST_KERNEL=$GUEST_KDIR/arch/arm64/boot/Image
	GUEST_MODROOT=$dir/modroot
	[ -f "$GUEST_KERNEL" ] || die "no guest kernel Image at $GUEST_KERNEL"
}
