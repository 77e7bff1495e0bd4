# shellcheck shell=bash disable=SC2034 # (sourced by run.sh; variables are shared)
# Xen hypervisor 4.20.4 from the project's pinned third-party sources
# (Debian serves no Xen 4.20 source here), cross-built for arm64 with
# config/xen.config on top of alldefconfig; and the FLASK policy, built
# from the same source's tools/flask/policy plus our module
# (xl-config/rpmb_dd.te) with Debian's checkpolicy.

XEN_VERSION=4.20.4
XEN_TARBALL_NAME=xen-$XEN_VERSION.tar.gz
XEN_FRAGMENT=$E2E_DIR/config/xen.config
FLASK_MODULE=$REPO/xl-config/rpmb_dd.te

# The third-party directory: XEN_RPMB_THIRD_PARTY, else shared/third-party
# next to the checkout (a clean clone may live anywhere, e.g. CI's), else
# /work/shared/third-party. Prints it; fails if there is none.
third_party_dir() {
	local d
	for d in "${XEN_RPMB_THIRD_PARTY:-}" "$REPO/../shared/third-party" \
		/work/shared/third-party; do
		[ -n "$d" ] && [ -f "$d/SHA256SUMS" ] && { (cd "$d" && pwd); return 0; }
	done
	die "no third-party sources (set XEN_RPMB_THIRD_PARTY to the directory holding $XEN_TARBALL_NAME and SHA256SUMS)"
}

# pinned_tarball NAME: path of the verified third-party tarball NAME: its
# sha256 must match SHA256SUMS, so a truncated or swapped archive never
# reaches a build.
pinned_tarball() {
	local name=$1 dir
	dir=$(third_party_dir)
	[ -f "$dir/$name" ] || die "$dir has no $name"
	(cd "$dir" && grep " $name\$" SHA256SUMS | sha256sum -c --quiet -) >&2 ||
		die "$dir/$name does not match $dir/SHA256SUMS"
	echo "$dir/$name"
}

# Every line of the fragment must be in the resulting .config: a symbol
# Kconfig refused (unmet dependency, renamed) fails here, not at boot.
check_xen_config() {
	local config=$1 line bad=0
	while read -r line; do
		case "$line" in
		CONFIG_*=* | "# CONFIG_"*" is not set")
			grep -qx "$line" "$config" || { log "xen config lacks: $line"; bad=1; }
			;;
		esac
	done <"$XEN_FRAGMENT"
	[ $bad -eq 0 ] || die "xen: config fragment not applied"
}

xen_recipe() {
	local dir=$1 tarball=$2
	log "xen: unpacking $(basename "$tarball")"
	mkdir -p "$dir/src"
	tar -xzf "$tarball" -C "$dir/src" --strip-components=1
	local xmake=(make -C "$dir/src/xen" XEN_TARGET_ARCH=arm64 CROSS_COMPILE="$CROSS")
	"${xmake[@]}" -s KCONFIG_ALLCONFIG="$XEN_FRAGMENT" alldefconfig >"$dir/build.log" 2>&1
	check_xen_config "$dir/src/xen/.config"
	log "xen: building hypervisor (~90 s)"
	"${xmake[@]}" -j"$JOBS" >>"$dir/build.log" 2>&1 ||
		{ tail -n 40 "$dir/build.log" >&2; die "xen build failed"; }
	cp "$dir/src/xen/xen" "$dir/xen"
	cp "$dir/src/xen/.config" "$dir/xen.config"
	rm -rf "$dir/src"
}

# Xen's own policy sources (tools/flask/policy, the access vectors in
# xen/xsm/flask/policy) with our module appended to modules.conf, compiled
# by checkpolicy through Xen's Makefile.common (tools/flask/policy/Makefile
# itself wants a configured tools tree).
flask_recipe() {
	local dir=$1 tarball=$2 top=xen-$XEN_VERSION
	mkdir -p "$dir/src"
	tar -xzf "$tarball" -C "$dir/src" "$top/tools/flask/policy" "$top/xen/xsm/flask/policy"
	local pol=$dir/src/$top/tools/flask/policy
	cp "$FLASK_MODULE" "$pol/modules/"
	printf '\n# xen-rpmb driver domain (xl-config/rpmb_dd.te)\n%s = on\n' \
		"$(basename "$FLASK_MODULE" .te)" >>"$pol/modules/modules.conf"
	make -C "$pol" -f Makefile.common FLASK_BUILD_DIR="$dir" \
		XEN_FULLVERSION="$XEN_VERSION" >"$dir/build.log" 2>&1 ||
		{ tail -n 30 "$dir/build.log" >&2; die "FLASK policy build failed"; }
	mv "$dir/xenpolicy-$XEN_VERSION" "$dir/xenpolicy"
	rm -rf "$dir/src"
}

# Sets XEN_IMAGE and XSM_POLICY.
build_xen() {
	local tarball key dir t0
	tarball=$(pinned_tarball "$XEN_TARBALL_NAME")
	key=$(cache_key "$tarball" "$XEN_FRAGMENT" "$(declare -f xen_recipe check_xen_config)")
	dir=$CACHE/xen/$key
	if [ ! -e "$dir/.complete" ]; then
		t0=$SECONDS
		build_once "$dir" xen_recipe "$dir" "$tarball"
		log "xen $XEN_VERSION built in $((SECONDS - t0)) s"
	else
		log "xen: cached ($key)"
	fi
	XEN_IMAGE=$dir/xen

	key=$(cache_key "$tarball" "$FLASK_MODULE" "$(checkpolicy -V)" "$(declare -f flask_recipe)")
	dir=$CACHE/flask/$key
	[ -e "$dir/.complete" ] || log "flask: building the policy (Xen's modules + $(basename "$FLASK_MODULE"))"
	build_once "$dir" flask_recipe "$dir" "$tarball"
	XSM_POLICY=$dir/xenpolicy
}
