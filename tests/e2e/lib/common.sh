# shellcheck shell=bash disable=SC2034 # (sourced by run.sh; variables are shared)
# Shared helpers for the end-to-end test scripts (sourced, not run).
# Expects E2E_DIR (tests/e2e), REPO (checkout root) and CACHE to be set.

CROSS=aarch64-linux-gnu-
JOBS=$(nproc)

log() {
	printf '[e2e %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2
}

die() {
	log "ERROR: $*"
	exit 1
}

# Hash of the given strings and files: the cache key of a build. A change
# of version, config fragment or build recipe (passed as `declare -f`
# output, so editing comments does not rebuild) gives a new cache entry.
cache_key() {
	local item
	for item in "$@"; do
		if [ -f "$item" ]; then
			sha256sum <"$item"
		else
			printf '%s\n' "$item"
		fi
	done | sha256sum | cut -c1-16
}

# apt-get may be busy in another process; retry for a while rather than
# failing the whole run on a lock.
apt_retry() {
	local try
	for try in $(seq 1 60); do
		if DEBIAN_FRONTEND=noninteractive apt-get "${APT_OPTS[@]}" "$@"; then
			return 0
		fi
		if ! fuser /var/lib/dpkg/lock-frontend /var/lib/apt/lists/lock \
			/var/lib/dpkg/lock >/dev/null 2>&1; then
			return 1
		fi
		log "apt/dpkg is locked by another process, retry $try"
		sleep 10
	done
	return 1
}

# Host tools, as "command:package" pairs; only missing ones are installed.
HOST_TOOLS=(
	aarch64-linux-gnu-gcc:gcc-aarch64-linux-gnu
	qemu-system-aarch64:qemu-system-arm
	gcc:gcc make:make flex:flex bison:bison bc:bc perl:perl
	cpio:cpio xz:xz-utils gzip:gzip dtc:device-tree-compiler
	depmod:kmod pkg-config:pkg-config fuser:psmisc timeout:coreutils
	checkpolicy:checkpolicy m4:m4 fdtput:device-tree-compiler
)
# Headers the kernel build needs (no command to probe for them).
HOST_PKGS=(libc6-dev libelf-dev libssl-dev)

install_host_deps() {
	local pair cmd pkg missing=()
	for pair in "${HOST_TOOLS[@]}"; do
		cmd=${pair%%:*}
		pkg=${pair#*:}
		command -v "$cmd" >/dev/null 2>&1 || missing+=("$pkg")
	done
	for pkg in "${HOST_PKGS[@]}"; do
		dpkg-query -W -f '${Status}' "$pkg:$(dpkg --print-architecture)" 2>/dev/null |
			grep -q 'install ok installed' || missing+=("$pkg")
	done
	if ! dpkg --print-foreign-architectures | grep -qx arm64; then
		[ "$(id -u)" -eq 0 ] || die "arm64 dpkg architecture missing; run as root"
		dpkg --add-architecture arm64
		apt_retry update -qq
	fi
	[ ${#missing[@]} -eq 0 ] && return 0
	[ "$(id -u)" -eq 0 ] || die "missing host packages (run as root): ${missing[*]}"
	log "installing host packages: ${missing[*]}"
	apt_retry install -y -qq --no-install-recommends "${missing[@]}" >/dev/null ||
		die "apt-get install failed"
}

# Extra apt options of the package helpers below: empty for the system's
# own (bookworm) configuration; with_trixie sets them for the private
# trixie one.
APT_OPTS=()

# Candidate versions of packages ("name" or "name:arch"), printed as
# "spec version" lines; one apt-cache call (it is slow per package).
candidate_versions() {
	apt-cache "${APT_OPTS[@]}" policy "$@" |
		awk '/^[^ ]/ {name=$1; sub(/:$/, "", name)} /Candidate:/ {print name, $2}'
}

# Downloads packages into the download cache, one directory per package
# and version (no guessing of file names: apt spells an epoch's ':' as
# '%3a'), all missing ones in a single apt-get call. Prints the .deb
# paths in argument order.
fetch_debs() {
	local -A ver=()
	local spec v dir tmp missing=() out=()
	while read -r spec v; do
		ver[$spec]=$v
	done < <(candidate_versions "$@")
	for spec in "$@"; do
		v=${ver[$spec]:-}
		[ -n "$v" ] && [ "$v" != "(none)" ] || die "no candidate for $spec"
		dir=$CACHE/downloads/debs/${spec/:/_}/${v//:/_}
		ls "$dir"/*.deb >/dev/null 2>&1 || missing+=("$spec=$v")
		out+=("$dir")
	done
	if [ ${#missing[@]} -gt 0 ]; then
		mkdir -p "$CACHE/downloads"
		tmp=$(mktemp -d "$CACHE/downloads/tmp.XXXXXX")
		(cd "$tmp" && apt_retry -o APT::Sandbox::User=root \
			download -qq "${missing[@]}") >&2 ||
			die "apt-get download failed: ${missing[*]}"
		for spec in "${missing[@]}"; do
			spec=${spec%%=*}
			v=${ver[$spec]}
			dir=$CACHE/downloads/debs/${spec/:/_}/${v//:/_}
			mkdir -p "$dir"
			mv "$tmp/${spec%%:*}_"*.deb "$dir/"
		done
		rm -rf "$tmp"
	fi
	for dir in "${out[@]}"; do
		ls "$dir"/*.deb | head -n1
	done
}

fetch_deb() {
	fetch_debs "$1"
}

# A private apt configuration for Debian 13 (trixie) arm64 binaries, the
# Xen 4.20 toolstack: own sources list, package lists and cache under
# $CACHE/apt-trixie; the system's apt configuration is never touched.
# The lists are refreshed once a day.
TRIXIE_SOURCE='deb [arch=arm64] http://deb.debian.org/debian trixie main'

trixie_apt_dir() { printf '%s/apt-trixie\n' "$CACHE"; }

setup_trixie_apt() {
	local dir
	dir=$(trixie_apt_dir)
	[ -n "$(find "$dir/.updated" -mmin -1440 2>/dev/null)" ] && return 0
	mkdir -p "$dir/lists/partial" "$dir/cache/archives/partial"
	echo "$TRIXIE_SOURCE" >"$dir/sources.list"
	: >"$dir/status"
	with_trixie apt_retry update -qq >&2 || die "apt-get update (trixie) failed"
	touch "$dir/.updated"
}

# with_trixie CMD...: runs a package helper (fetch_debs, candidate_versions,
# apt_retry, ...) against the private trixie configuration.
with_trixie() {
	local dir
	dir=$(trixie_apt_dir)
	local APT_OPTS=(-o Dir::Etc::SourceList="$dir/sources.list"
		-o Dir::Etc::SourceParts=/nonexistent
		-o Dir::State::Lists="$dir/lists"
		-o Dir::State::Status="$dir/status"
		-o Dir::Cache="$dir/cache"
		-o APT::Architecture=arm64 -o APT::Architectures=arm64)
	"$@"
}

# Runs "$@" and marks DIR complete only on success, so that an interrupted
# build is redone rather than trusted.
build_once() {
	local dir=$1
	shift
	[ -e "$dir/.complete" ] && return 0
	rm -rf "$dir"
	mkdir -p "$dir"
	"$@"
	touch "$dir/.complete"
}
