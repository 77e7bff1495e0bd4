# shellcheck shell=bash disable=SC2034 # (sourced by run.sh; variables are shared)
# Xen hypervisor: Debian's xen 4.17.5 source package (the only Xen source
# the archive serves for bookworm), cross-built for arm64 with
# config/xen.config on top of alldefconfig.

XEN_SRC_VERSION=4.17.5+72-g01140da4e8-1
XEN_FRAGMENT=$E2E_DIR/config/xen.config

fetch_xen_source() {
	local dir=$CACHE/downloads/xen-src
	if ! ls "$dir"/xen_*.orig.tar.xz >/dev/null 2>&1; then
		setup_apt_src
		mkdir -p "$dir"
		(cd "$dir" && apt_src -o APT::Sandbox::User=root source --download-only \
			-qq "xen=$XEN_SRC_VERSION") >&2 || die "apt-get source xen failed"
	fi
	ls "$dir"/xen_*.orig.tar.xz
}

xen_recipe() {
	local dir=$1 tarball=$2
	log "xen: unpacking $(basename "$tarball")"
	mkdir -p "$dir/src"
	tar -xJf "$tarball" -C "$dir/src" --strip-components=1
	local xmake=(make -C "$dir/src/xen" XEN_TARGET_ARCH=arm64 CROSS_COMPILE="$CROSS")
	"${xmake[@]}" -s KCONFIG_ALLCONFIG="$XEN_FRAGMENT" alldefconfig >"$dir/build.log" 2>&1
	grep -qx 'CONFIG_IOREQ_SERVER=y' "$dir/src/xen/.config" ||
		die "xen: CONFIG_IOREQ_SERVER not enabled by $XEN_FRAGMENT"
	log "xen: building hypervisor"
	"${xmake[@]}" -j"$JOBS" >>"$dir/build.log" 2>&1 ||
		{ tail -n 40 "$dir/build.log" >&2; die "xen build failed"; }
	cp "$dir/src/xen/xen" "$dir/xen"
	cp "$dir/src/xen/.config" "$dir/xen.config"
	rm -rf "$dir/src"
}

# Sets XEN_IMAGE.
build_xen() {
	local tarball key dir
	tarball=$(fetch_xen_source)
	key=$(cache_key "$XEN_SRC_VERSION" "$XEN_FRAGMENT" "$(declare -f xen_recipe)")
	dir=$CACHE/xen/$key
	if [ ! -e "$dir/.complete" ]; then
		local t0=$SECONDS
		build_once "$dir" xen_recipe "$dir" "$tarball"
		log "xen built in $((SECONDS - t0)) s"
	else
		log "xen: cached ($key)"
	fi
	XEN_IMAGE=$dir/xen
}
