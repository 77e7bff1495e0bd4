#!/usr/bin/env bash
# The installed systemd unit: systemd's own exposure score at 2.0 ("OK")
# or lower, and the system calls the supervisor needs beyond a usual
# service (chroot for confining a worker, seccomp for its filter) still
# allowed by the unit's filter.
set -euo pipefail

if ! command -v systemd-analyze >/dev/null; then
	echo "FAIL: systemd-analyze is missing (tools/install-deps.sh installs it)"
	exit 1
fi
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
make -s --no-print-directory install-unit DESTDIR="$dir" PREFIX=/usr >/dev/null
unit=$dir/usr/lib/systemd/system/xen-rpmb-backend.service
fails=0

out=$(cd "$(dirname "$unit")" &&
      systemd-analyze security --offline=yes ./xen-rpmb-backend.service 2>&1) || true
score=$(sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p' <<<"$out")
if [[ -z $score ]]; then
	echo "FAIL: no score from systemd-analyze:"
	echo "$out" | tail -5
	exit 1
fi
if awk -v s="$score" 'BEGIN { exit !(s <= 2.0) }'; then
	echo "ok: exposure $score (at most 2.0)"
else
	echo "FAIL: exposure $score, above 2.0"
	grep '✗' <<<"$out" || true
	fails=$((fails + 1))
fi

if ! grep -q '^SystemCallFilter=' "$unit"; then
	exit $((fails > 0))	# no filter: nothing to check
fi

# The unit's filter: @system-service, less the groups it removes, plus
# what it adds back. Each call the supervisor makes must be in it.
expand() {
	systemd-analyze syscall-filter "$1" | sed 1d | grep -v '^ *#' |
		tr -d ' ' | grep -v '^$' | while read -r s; do
			case $s in @*) expand "$s" ;; *) echo "$s" ;; esac
		done
}
allowed=$dir/allowed
: >"$allowed"
while IFS= read -r line; do
	line=${line#SystemCallFilter=}
	if [[ $line == "~"* ]]; then
		for g in ${line#\~}; do
			case $g in @*) expand "$g" ;; *) echo "$g" ;; esac
		done | sort -u >"$dir/drop"
		grep -vxFf "$dir/drop" "$allowed" >"$dir/keep" || true
		mv "$dir/keep" "$allowed"
	else
		for g in $line; do
			case $g in @*) expand "$g" ;; *) echo "$g" ;; esac
		done >>"$allowed"
	fi
done < <(grep '^SystemCallFilter=' "$unit")
for call in chroot seccomp setresuid setresgid setgroups capset prctl \
	    close_range socketpair clone clone3 kill wait4 epoll_create1 \
	    signalfd4 timerfd_create ioctl mmap chown fchown rename; do
	if grep -qx "$call" "$allowed"; then
		echo "ok: $call allowed"
	else
		echo "FAIL: $call is not allowed by the unit's filter"
		fails=$((fails + 1))
	fi
done
exit $((fails > 0))
