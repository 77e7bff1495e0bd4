# shellcheck shell=bash disable=SC2034 # (sourced by run.sh; variables are shared)
# Root file systems for dom0 and the domU, as gzip'ed cpio initramfs
# images. Everything arm64 comes from Debian packages (apt-get download +
# dpkg -x); nothing runs on the target during assembly.

DOM0_KERNEL_PKG=linux-image-6.1.0-56-arm64
# Load order matters: xenfs before privcmd breaks xenstored and hangs
# xen-init-dom0.
DOM0_MODULES="xen-evtchn xen-privcmd xen-gntdev xen-gntalloc xenfs"

# Userland of dom0, from Debian 13 (trixie): shell, the Xen 4.20 toolstack
# and the libraries the tools and the daemon need (the daemon is built
# against Debian 12's Xen 4.17 and runs on these: stable sonames).
# check_needed_libs catches anything missing from this list.
DOM0_PKGS=(
	busybox-static xen-utils-4.20 xenstore-utils
	libc6 libgcc-s1 libxenmisc4.20 libxencall1 libxendevicemodel1
	libxenevtchn1 libxenforeignmemory1 libxengnttab1 libxenstore4
	libxentoolcore1 libxentoollog1 libxenhypfs1 libyajl2 libfdt1 libuuid1
	zlib1g libzstd1 liblzma5 libbz2-1.0 liblzo2-2 libnl-3-200
	libnl-route-3-200 libncurses6 libncursesw6 libtinfo6 libssl3t64 libsqlite3-0
	libseccomp2
)
# Headers and libxenctrl of Xen 4.20 (libxenctrl's soname changes with
# every release) for the small dom0 helpers that use it.
XEN420_DEV_PKGS=(
	libxen-dev libxenmisc4.20 libxencall1 libxendevicemodel1 libxenevtchn1
	libxenforeignmemory1 libxengnttab1 libxenstore4 libxentoolcore1
	libxentoollog1 libxenhypfs1
)
DOMU_PKGS=(busybox-static)

# extract_pkgs DIR PKG...: extracts the packages into DIR; with
# APT_OPTS set by with_trixie they come from trixie, else (names with
# :arm64) from the system's sources.
extract_pkgs() {
	local dir=$1 debs deb
	shift
	debs=$(fetch_debs "$@")
	mkdir -p "$dir"
	while read -r deb; do
		dpkg-deb -x "$deb" "$dir"
	done <<<"$debs"
	# Documentation, manuals and locales only inflate the initramfs.
	rm -rf "$dir/usr/share/doc" "$dir/usr/share/man" "$dir/usr/share/locale" \
		"$dir/usr/share/info" "$dir/usr/share/lintian"
}

# Trixie packages install under /usr only (merged /usr); the ELF
# interpreter is still /lib/ld-linux-aarch64.so.1 and dom0's /init is
# #!/bin/busybox: make /bin, /sbin and /lib links into /usr, folding in
# whatever a package still put there.
merge_usr() {
	local root=$1 d
	for d in bin sbin lib; do
		mkdir -p "$root/usr/$d"
		if [ -d "$root/$d" ] && [ ! -L "$root/$d" ]; then
			cp -a "$root/$d/." "$root/usr/$d/"
			rm -rf "${root:?}/$d"
		fi
		ln -sfn "usr/$d" "$root/$d"
	done
}

# "name version" of candidate packages: the cache key of an extracted
# root (one apt-cache call, it is slow per package).
pkg_versions() {
	candidate_versions "$@"
}

# The dom0 kernel and just the five Xen modules dom0 needs (the full
# module tree is ~300 MB).
dom0_kernel_recipe() {
	local dir=$1 deb tmp mod path
	deb=$(fetch_deb "$DOM0_KERNEL_PKG:arm64")
	tmp=$dir/tmp
	mkdir -p "$tmp" "$dir/modules"
	dpkg-deb -x "$deb" "$tmp"
	cp "$tmp"/boot/vmlinuz-* "$dir/vmlinuz"
	for mod in $DOM0_MODULES; do
		path=$(find "$tmp/lib/modules" -name "$mod.ko*" | head -n1)
		[ -n "$path" ] || die "dom0 kernel has no module $mod"
		cp "$path" "$dir/modules/"
	done
	rm -rf "$tmp"
}

dom0_base_recipe() {
	local dir=$1
	with_trixie extract_pkgs "$dir/root" "${DOM0_PKGS[@]}"
	merge_usr "$dir/root"
}

domu_base_recipe() {
	local dir=$1
	extract_pkgs "$dir/root" "${DOMU_PKGS[@]/%/:arm64}"
}

xen420_dev_recipe() {
	local dir=$1
	with_trixie extract_pkgs "$dir/root" "${XEN420_DEV_PKGS[@]}"
}

# Sets DOM0_KERNEL, DOM0_MODDIR, DOM0_BASE, DOMU_BASE (extracted roots)
# and XEN420_SYSROOT (trixie's Xen 4.20 headers and libraries).
prepare_roots() {
	local key dir
	key=$(cache_key "$(pkg_versions "$DOM0_KERNEL_PKG:arm64")" "$DOM0_MODULES" "$(declare -f dom0_kernel_recipe)")
	dir=$CACHE/dom0-kernel/$key
	[ -e "$dir/.complete" ] || log "dom0 kernel: extracting $DOM0_KERNEL_PKG"
	build_once "$dir" dom0_kernel_recipe "$dir"
	DOM0_KERNEL=$dir/vmlinuz
	DOM0_MODDIR=$dir/modules

	setup_trixie_apt
	key=$(cache_key "$(with_trixie pkg_versions "${DOM0_PKGS[@]}")" \
		"$(declare -f extract_pkgs merge_usr dom0_base_recipe)")
	dir=$CACHE/dom0-root/$key
	[ -e "$dir/.complete" ] || log "dom0 root: extracting ${#DOM0_PKGS[@]} trixie packages"
	build_once "$dir" dom0_base_recipe "$dir"
	DOM0_BASE=$dir/root

	key=$(cache_key "$(with_trixie pkg_versions "${XEN420_DEV_PKGS[@]}")" \
		"$(declare -f extract_pkgs xen420_dev_recipe)")
	dir=$CACHE/xen420-sysroot/$key
	build_once "$dir" xen420_dev_recipe "$dir"
	XEN420_SYSROOT=$dir/root

	key=$(cache_key "$(pkg_versions "${DOMU_PKGS[@]/%/:arm64}")" "$(declare -f extract_pkgs domu_base_recipe)")
	dir=$CACHE/domu-root/$key
	build_once "$dir" domu_base_recipe "$dir"
	DOMU_BASE=$dir/root
}

# Lists, for every dynamically linked arm64 ELF file under the given
# paths of ROOT, the libraries (DT_NEEDED) that are not in ROOT's library
# directories. A missing library would only show up as a cryptic failure
# inside the emulated machine.
check_needed_libs() {
	local root=$1
	shift
	local libdirs=(lib/aarch64-linux-gnu usr/lib/aarch64-linux-gnu lib usr/lib
		usr/lib/xen-4.20/lib)
	local file lib d found missing=0
	while IFS= read -r file; do
		head -c 4 "$file" 2>/dev/null | grep -q 'ELF' || continue
		for lib in $(${CROSS}readelf -d "$file" 2>/dev/null |
			sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'); do
			found=0
			for d in "${libdirs[@]}"; do
				[ -e "$root/$d/$lib" ] && { found=1; break; }
			done
			if [ $found -eq 0 ]; then
				log "missing library $lib (needed by ${file#"$root"})"
				missing=1
			fi
		done
	done < <(cd "$root" && for p in "$@"; do find "$root/$p" -type f 2>/dev/null; done)
	return $missing
}

# Writes a gzip'ed newc cpio of DIR to FILE. Owner root for everything.
make_cpio() {
	local dir=$1 out=$2
	(cd "$dir" && find . -print0 | cpio --null -o -H newc -R 0:0 --quiet) |
		gzip -1 >"$out"
}
