#!/usr/bin/env bash
# End-to-end test of xen-rpmb against a real Xen: boots Xen 4.20 (built
# with ioreq server support, FLASK enforcing) and a dom0 with Debian 13's
# xl on an emulated Arm64 machine under QEMU, runs tests/e2e/scenarios.sh
# in dom0 (guests with virtio-rpmb devices created by xl from xl-config/,
# served by xen-rpmb-backend in dom0 or in a driver domain), and checks
# the results reported on the serial console. See tests/e2e/README.md.
#
#   bash tests/e2e/run.sh            (as root; from anywhere)
#
# Environment:
#   XEN_RPMB_E2E_CACHE   cache of downloads and builds (/var/cache/xen-rpmb-e2e)
#   XEN_RPMB_THIRD_PARTY pinned sources (xen-4.20.4.tar.gz, SHA256SUMS);
#                        default <repo>/../shared/third-party, then
#                        /work/shared/third-party
#   E2E_OUT              logs and images of this run (<repo>/build-e2e)
#   E2E_TIMEOUT          wall-clock limit of the QEMU stage in s (2700)
#   E2E_ONLY             scenario names to run (space separated; default all)
#   E2E_OPTEE=0          skip the OP-TEE boot (TF-A, OP-TEE, U-Boot, Xen with
#                        FF-A) and its optee-* scenarios (lib/optee-boot.sh),
#                        which run after the direct boot by default
#   E2E_ALLOW_SKIP=1     do not fail on skipped scenarios (daemon or guest
#                        program not built yet)
#   E2E_PENDING          scenarios waiting for a change outside tests/e2e:
#                        their FAIL/SKIP does not fail the run (default
#                        below; README.md says what each one waits for)
#   E2E_VERBOSE=1        show every guest console in the console log
#   E2E_NO_DAEMON=1      do not build the project: infrastructure check only
#   E2E_GUEST_BUILD=PATH guest build hook instead of tests/e2e/guest/build.sh
#   E2E_DAEMON=PATH      use this arm64 daemon instead of building the project
#   XEN_RPMB_BACKEND_ARGS  daemon arguments in dom0
set -euo pipefail

E2E_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$E2E_DIR/../.." && pwd)
CACHE=${XEN_RPMB_E2E_CACHE:-/var/cache/xen-rpmb-e2e}
RUN_DIR=${E2E_OUT:-$REPO/build-e2e}
E2E_TIMEOUT=${E2E_TIMEOUT:-2700}
# None at the moment (README.md, "Pending").
E2E_PENDING=${E2E_PENDING-}
BACKEND_ARGS=${XEN_RPMB_BACKEND_ARGS:---foreground --stderr --log-level debug --store-dir /var/lib/xen-rpmb}

# shellcheck source=lib/common.sh
. "$E2E_DIR/lib/common.sh"
. "$E2E_DIR/lib/xen.sh"
. "$E2E_DIR/lib/kernel.sh"
. "$E2E_DIR/lib/rootfs.sh"
. "$E2E_DIR/lib/assemble.sh"
. "$E2E_DIR/lib/qemu.sh"
. "$E2E_DIR/lib/optee.sh"
. "$E2E_DIR/lib/optee-boot.sh"

main() {
	local t_start=$SECONDS t_qemu rc=0 ok=0
	mkdir -p "$CACHE" "$RUN_DIR"
	trap kill_qemu EXIT
	trap 'exit 130' INT TERM

	install_host_deps
	build_xen
	build_guest_kernel
	prepare_roots
	build_project
	build_guest_program
	build_dom0_helpers
	assemble_domu_initrd
	assemble_dd_initrd
	assemble_dom0_initrd
	log "prepared in $((SECONDS - t_start)) s"

	if direct_wanted; then
		log "booting Xen under QEMU (limit $E2E_TIMEOUT s)"
		t_qemu=$SECONDS
		run_boot run_qemu "$RUN_DIR/console.log" || rc=$?
		log "QEMU stage took $((SECONDS - t_qemu)) s (exit $rc); total $((SECONDS - t_start)) s"
		evaluate_console "$RUN_DIR/console.log" "$rc" || ok=1
	fi
	if [ "${E2E_OPTEE:-1}" = 1 ] && optee_wanted; then
		main_optee || ok=1
	fi
	return $ok
}

main "$@"
