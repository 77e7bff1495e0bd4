#!/bin/sh
# xl-virtio-rpmb.sh: give a guest a virtio-rpmb device with the Xen 4.17 xl.
#
# THIS EMULATES THE XEN 4.18+ TOOLSTACK. xl 4.17 has no generic
# `virtio = [...]` option; with xl >= 4.18 the guest config line
#     virtio = [ "type=virtio,device1c,transport=mmio,grant_usage=1" ]
# (grant_usage=0 for foreign mappings) replaces this script entirely.
#
# What it reproduces of libxl 4.18 (tools/libs/light/libxl_arm.c,
# libxl_virtio.c, libxl_device.c), for the first generic virtio device
# (devid 0) with dom0 as backend:
#  - guest device tree: a "virtio,mmio" node at GUEST_VIRTIO_MMIO_BASE
#    0x02000000, size 0x200, SPI GUEST_VIRTIO_MMIO_SPI_FIRST (33) edge
#    rising, dma-coherent; with grants also `iommus = <&xen_iommu 0>` and a
#    "xen,grant-dma" node (#iommu-cells = 1). xl 4.17 cannot generate these
#    nodes, so they come from a partial device tree (xl `device_tree=`),
#    which libxl copies under /passthrough. The same node, one level down.
#  - enough SPIs: libxl 4.17 sizes nr_spis only from virtio disks, irqs=[]
#    and the vpl011 UART; `vuart = "sbsa_uart"` asks for one SPI and Xen
#    rounds nr_spis up to 32 (vgic domain_vgic_init), which covers SPI 33.
#    Side effect: the guest also gets an SBSA UART node (harmless).
#  - xenstore: backend /local/domain/0/backend/virtio/<F>/0/ and frontend
#    /local/domain/<F>/device/virtio/0/ with libxl's keys and permissions.
#    libxl writes both in one transaction; here the frontend goes first,
#    then all backend keys in one transaction (one xenstore-write), then
#    the permissions. A backend therefore sees the device appear complete.
#  - the guest is created paused and only unpaused once the backend says
#    InitWait (state 2), so the guest never probes an unclaimed MMIO range
#    (a data abort on Xen 4.17). libxl 4.18 does not wait; waiting is safer.
#  - destroy: online=0 and state=5 (Closing), wait up to 10 s for 6
#    (Closed), remove the frontend and backend paths, then `xl destroy`.
#
# Usage:
#   xl-virtio-rpmb.sh create --grant|--foreign [--no-wait] [--timeout SEC]
#                     CONFIG [KEY=VALUE ...]     (prints the new domid)
#   xl-virtio-rpmb.sh destroy DOMAIN            (name or domid)
#   xl-virtio-rpmb.sh cleanup                   (drop nodes of dead guests)
#
# CONFIG is an ordinary xl config without vuart= and device_tree=; the
# KEY=VALUE pairs are passed on to `xl create` as overrides. Runs under
# busybox sh.
set -eu

DTB_DIR=${XL_VIRTIO_RPMB_DTB_DIR:-/usr/local/share/xl-virtio-rpmb}
BACKEND_DOMID=0
DEVID=0
# libxl 4.18: first generic virtio device, no virtio disks before it.
MMIO_BASE=0x2000000
MMIO_SPI=33
DEVICE_TYPE=virtio,device1c
DESTROY_TIMEOUT=${XL_VIRTIO_RPMB_DESTROY_TIMEOUT:-10}

log() {
	echo "xl-virtio-rpmb: $*" >&2
}

die() {
	log "error: $*"
	exit 1
}

backend_path() {
	echo "/local/domain/$BACKEND_DOMID/backend/virtio/$1/$DEVID"
}

frontend_path() {
	echo "/local/domain/$1/device/virtio/$DEVID"
}

# Waits up to $3 seconds for xenstore node $1 to read $2.
wait_node() {
	local path=$1 want=$2 secs=$3 ticks=0 value
	while [ $ticks -lt $((secs * 5)) ]; do
		value=$(xenstore-read "$path" 2>/dev/null || true)
		[ "$value" = "$want" ] && return 0
		sleep 0.2
		ticks=$((ticks + 1))
	done
	return 1
}

# Guest name: a name= override wins over the config file.
guest_name() {
	local cfg=$1 arg name=""
	shift
	name=$(sed -n 's/^[[:space:]]*name[[:space:]]*=[[:space:]]*["'\'']\([^"'\'']*\)["'\''].*/\1/p' "$cfg" | tail -n1)
	for arg in "$@"; do
		case "$arg" in
		name=*) name=$(echo "${arg#name=}" | tr -d "\"'") ;;
		esac
	done
	[ -n "$name" ] || die "no name= in $cfg"
	echo "$name"
}

write_xenstore_nodes() {
	local domid=$1 grant_usage=$2 be fe
	be=$(backend_path "$domid")
	fe=$(frontend_path "$domid")

	xenstore-write "$fe/backend" "$be" "$fe/backend-id" "$BACKEND_DOMID" \
		"$fe/state" 1
	xenstore-chmod -r "$fe" "n$domid" "r$BACKEND_DOMID"

	# base is printed like libxl's "%#"PRIx64; irq in decimal.
	xenstore-write "$be/frontend" "$fe" "$be/frontend-id" "$domid" \
		"$be/online" 1 "$be/state" 1 "$be/irq" "$MMIO_SPI" \
		"$be/base" "$MMIO_BASE" "$be/type" "$DEVICE_TYPE" \
		"$be/transport" mmio "$be/grant_usage" "$grant_usage"
	xenstore-chmod -r "$be" "n$BACKEND_DOMID" "r$domid"
}

cmd_create() {
	local grant_usage="" wait=1 timeout=30 cfg name domid tmpcfg dtb
	while [ $# -gt 0 ]; do
		case "$1" in
		--grant) grant_usage=1 ;;
		--foreign) grant_usage=0 ;;
		--no-wait) wait=0 ;;
		--timeout) timeout=$2; shift ;;
		-*) die "unknown option $1" ;;
		*) break ;;
		esac
		shift
	done
	[ -n "$grant_usage" ] || die "create: say --grant or --foreign"
	[ $# -ge 1 ] || die "create: no config file"
	cfg=$1
	shift
	[ -r "$cfg" ] || die "cannot read $cfg"
	if grep -Eq '^[[:space:]]*(vuart|device_tree|virtio)[[:space:]]*=' "$cfg"; then
		die "$cfg sets vuart=, device_tree= or virtio=; this script owns those"
	fi
	if [ "$grant_usage" = 1 ]; then dtb=$DTB_DIR/virtio-rpmb-grant.dtb; else dtb=$DTB_DIR/virtio-rpmb-foreign.dtb; fi
	[ -r "$dtb" ] || die "missing partial device tree $dtb"
	name=$(guest_name "$cfg" "$@")

	log "NOTE: emulating the Xen 4.18 toolstack for generic virtio (xl 4.17 has no virtio=[...])."
	log "NOTE: with xl >= 4.18 use: virtio = [ \"type=$DEVICE_TYPE,transport=mmio,grant_usage=$grant_usage\" ]"

	mkdir -p /run/xl-virtio-rpmb
	tmpcfg=/run/xl-virtio-rpmb/$name.cfg
	{
		cat "$cfg"
		echo
		echo "# added by xl-virtio-rpmb.sh (emulated virtio = [...])"
		echo "vuart = \"sbsa_uart\""
		echo "device_tree = \"$dtb\""
	} >"$tmpcfg"

	xl create -p "$tmpcfg" "$@" >&2 || die "xl create failed"
	domid=$(xl domid "$name") || die "no domid for $name"
	write_xenstore_nodes "$domid" "$grant_usage"
	log "domain $name ($domid): virtio-rpmb at $MMIO_BASE SPI $MMIO_SPI grant_usage=$grant_usage"

	if [ "$wait" = 1 ]; then
		if ! wait_node "$(backend_path "$domid")/state" 2 "$timeout"; then
			log "backend did not reach state 2 (InitWait) in $timeout s; destroying $name"
			cmd_destroy "$domid" || true
			exit 1
		fi
		log "backend is in InitWait"
	else
		log "not waiting for a backend (--no-wait)"
	fi
	xl unpause "$domid" || die "xl unpause failed"
	echo "$domid"
}

# Waits up to $2 s for backend $1 to reach Closed (6). A backend that
# removes its own directory right after writing 6 counts as closed too.
wait_closed() {
	local be=$1 secs=$2 domid=$3 ticks=0 state
	while [ $ticks -lt $((secs * 5)) ]; do
		if ! state=$(xenstore-read "$be/state" 2>/dev/null); then
			log "domain $domid: backend closed the device (removed its nodes)"
			return 0
		fi
		if [ "$state" = 6 ]; then
			log "domain $domid: backend closed the device (state 6)"
			return 0
		fi
		sleep 0.2
		ticks=$((ticks + 1))
	done
	log "domain $domid: backend did not write state 6 in $secs s"
	return 1
}

# Tells the backend to go away the way libxl does, then drops the nodes.
close_device() {
	local domid=$1 be fe
	be=$(backend_path "$domid")
	fe=$(frontend_path "$domid")
	if xenstore-exists "$be" 2>/dev/null; then
		xenstore-write "$be/online" 0 "$be/state" 5
		# libxl goes on with the removal after the timeout, and so do we.
		wait_closed "$be" "$DESTROY_TIMEOUT" "$domid" || true
	fi
	xenstore-rm "$fe" 2>/dev/null || true
	xenstore-rm "$be" 2>/dev/null || true
	# Remove /local/domain/0/backend/virtio/<F> once it is empty.
	if [ -z "$(xenstore-list "${be%/*}" 2>/dev/null)" ]; then
		xenstore-rm "${be%/*}" 2>/dev/null || true
	fi
}

cmd_destroy() {
	local dom=$1 domid
	case "$dom" in
	*[!0-9]*) domid=$(xl domid "$dom") || die "no domain $dom" ;;
	*) domid=$dom ;;
	esac
	# libxl pauses the guest before tearing its devices down.
	xl pause "$domid" 2>/dev/null || true
	close_device "$domid"
	xl destroy "$domid"
}

# Guests that shut themselves down are destroyed by xl, which does not
# know about our nodes; drop the backend nodes of domains that are gone.
cmd_cleanup() {
	local f
	for f in $(xenstore-list "/local/domain/$BACKEND_DOMID/backend/virtio" 2>/dev/null); do
		if ! xl list "$f" >/dev/null 2>&1; then
			log "domain $f is gone; closing its virtio-rpmb backend nodes"
			close_device "$f"
		fi
	done
}

case "${1:-}" in
create) shift; cmd_create "$@" ;;
destroy) shift; [ $# -eq 1 ] || die "usage: $0 destroy DOMAIN"; cmd_destroy "$1" ;;
cleanup) cmd_cleanup ;;
*) sed -n '/^# Usage:/,/^# busybox/p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2 ;;
esac
