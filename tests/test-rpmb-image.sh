#!/usr/bin/env bash
# rpmb-image: create, info, export, exec, and its refusals (missing,
# locked, corrupt, foreign files), which must change nothing.
set -euo pipefail

BUILD=${BUILD:-build}
IMG="$BUILD/rpmb-image"
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
fails=0

check() {	# check DESCRIPTION COMMAND...
	local what=$1
	shift
	if "$@"; then
		echo "ok: $what"
	else
		echo "FAIL: $what"
		fails=$((fails + 1))
	fi
}

refuses() {	# refuses PATTERN COMMAND...: non-zero exit, message matches
	local pattern=$1 out
	shift
	if out=$("$@" 2>&1); then
		return 1
	fi
	grep -q -- "$pattern" <<<"$out"
}

# The KAT file's requests, replayed one process at a time.
kat_req() { awk -v n="$1" '$1 == n { print $3 }' tests/kat/rpmb-kat.txt | xxd -r -p; }
kat_resp() { awk -v n="$1" '$1 == n { print $4 }' tests/kat/rpmb-kat.txt; }
kat_room() { awk -v n="$1" '$1 == n { print $2 }' tests/kat/rpmb-kat.txt; }

s="$dir/a.rpmb"
check "create" "$IMG" create --capacity 128K "$s"
check "created 0600" test "$(stat -c %a "$s")" = 600
check "no second create" refuses "already exists" "$IMG" create --capacity 128K "$s"
check "info, fresh" bash -c "'$IMG' info '$s' | grep -q 'key: not programmed'"
check "bad capacity refused" refuses "not a capacity" "$IMG" create --capacity 100K "$dir/b.rpmb"
check "too big refused" refuses "not a capacity" "$IMG" create --capacity 32M "$dir/b.rpmb"
check "no file left by refusals" test ! -e "$dir/b.rpmb"
check "--help after a command" bash -c "'$IMG' create --help | grep -q 'Usage'"
check "1M and 8 units are the same" bash -c "'$IMG' create --capacity 8 '$dir/u.rpmb' && '$IMG' info '$dir/u.rpmb' | grep -q '^capacity: 1024 KiB'"
echo junk >"$dir/stale.rpmb-wal"
check "stale WAL refused" refuses "stale" "$IMG" create --capacity 128K "$dir/stale.rpmb"
check "no store made beside a stale WAL" test ! -e "$dir/stale.rpmb"
check "max counts" "$IMG" create --capacity 1M --max-wr-cnt 2 --max-rd-cnt 255 "$dir/c.rpmb"
check "info shows max counts" bash -c "'$IMG' info '$dir/c.rpmb' | grep -q 'max-wr-cnt: 2'"

for step in counter-before-key program-key counter write-1 write-3 read-3 \
	    write-forged write-replayed read-count-0; do
	got=$(kat_req "$step" | "$IMG" exec --resp-frames "$(kat_room "$step")" "$s" |
	      xxd -p | tr -d '\n')
	[ -n "$got" ] || got=-
	check "exec $step matches the vector" test "$got" = "$(kat_resp "$step")"
done
check "info after writes" bash -c "'$IMG' info '$s' | grep -q 'write-counter: 2'"
check "info shows key programmed" bash -c "'$IMG' info '$s' | grep -q 'key: programmed'"
check "info never prints the key" bash -c "! '$IMG' info '$s' | grep -qi 'd3eb3ec3'"

check "export" "$IMG" export "$s" "$dir/data.bin"
check "export size" test "$(stat -c %s "$dir/data.bin")" = 131072
want=$(kat_req write-1 | head -c 484 | tail -c 256 | xxd -p | tr -d '\n')
got=$(dd if="$dir/data.bin" bs=256 skip=5 count=1 status=none | xxd -p | tr -d '\n')
check "exported block 5 holds the written data" test "$got" = "$want"
check "export refuses to overwrite" refuses "File exists" "$IMG" export "$s" "$dir/data.bin"

# Offline key provisioning, checked the way OP-TEE checks a key: its
# counter read (from optee-kat.txt) must come back exactly as the
# independent model computed it with the test key.
okat_req() { awk -v n="$1" '$1 == n { print $3 }' tests/kat/optee-kat.txt | xxd -r -p; }
okat_resp() { awk -v n="$1" '$1 == n { print $4 }' tests/kat/optee-kat.txt; }
key=D3EB3EC36E334C9F988CE2C0B85954610D2BCF8664844DF2AB56E6C61BB701E4
umask 077
printf '%s\n' "$key" >"$dir/key.hex"
printf '%s' "$key" | xxd -r -p >"$dir/key.bin"
p="$dir/p.rpmb"
"$IMG" create --capacity 128K "$p"
check "program-key from a hex file" "$IMG" program-key --key-file "$dir/key.hex" "$p"
check "info: key programmed" bash -c "'$IMG' info '$p' | grep -q 'key: programmed'"
got=$(okat_req optee-verify-key | "$IMG" exec "$p" | xxd -p | tr -d '\n')
check "OP-TEE's key check passes on the provisioned store" test "$got" = "$(okat_resp optee-verify-key)"
sum=$(sha256sum <"$p")
check "a second key is refused" refuses "one-time programmable" \
	"$IMG" program-key --key-file "$dir/key.bin" "$p"
check "refused key left the store alone" test "$(sha256sum <"$p")" = "$sum"
"$IMG" create --capacity 128K "$dir/q.rpmb"
check "program-key from a raw file" "$IMG" program-key --key-file "$dir/key.bin" "$dir/q.rpmb"
got=$(okat_req optee-verify-key | "$IMG" exec "$dir/q.rpmb" | xxd -p | tr -d '\n')
check "raw key is the same key" test "$got" = "$(okat_resp optee-verify-key)"
"$IMG" create --capacity 128K "$dir/r.rpmb"
head -c 31 "$dir/key.bin" >"$dir/short.bin"
check "short key file refused" refuses "not a key" "$IMG" program-key --key-file "$dir/short.bin" "$dir/r.rpmb"
printf '%s\n' "${key:0:62}zz" >"$dir/bad.hex"
check "bad hex refused" refuses "not a key" "$IMG" program-key --key-file "$dir/bad.hex" "$dir/r.rpmb"
check "no key after refusals" bash -c "'$IMG' info '$dir/r.rpmb' | grep -q 'key: not programmed'"
chmod 644 "$dir/key.hex"
out=$("$IMG" program-key --key-file "$dir/key.hex" "$dir/r.rpmb" 2>&1)
check "world-readable key file warned about" grep -q "readable by others" <<<"$out"
check "program-key never prints the key" bash -c "! grep -qi '${key:0:16}' <<<'$out'"
umask 022

check "exec rejects a partial frame" refuses "whole 512-byte frames" \
	bash -c "head -c 100 /dev/zero | '$IMG' exec '$s'"

check "missing store" refuses "no such store" "$IMG" info "$dir/none.rpmb"
head -c 8192 /dev/urandom >"$dir/random.bin"
sum=$(sha256sum <"$dir/random.bin")
check "foreign file" refuses "not an RPMB store" "$IMG" info "$dir/random.bin"
check "foreign file unchanged" test "$(sha256sum <"$dir/random.bin")" = "$sum"
sqlite3 "$dir/other.db" "CREATE TABLE t(x); INSERT INTO t VALUES(1);" 2>/dev/null ||
	python3 -c "import sqlite3; c=sqlite3.connect('$dir/other.db'); c.execute('CREATE TABLE t(x)'); c.commit()"
sum=$(sha256sum <"$dir/other.db")
check "other SQLite file" refuses "foreign SQLite" "$IMG" info "$dir/other.db"
check "other SQLite file unchanged" test "$(sha256sum <"$dir/other.db")" = "$sum"

cp "$s" "$dir/corrupt.rpmb"
# Trash the b-tree page after the header page.
head -c 512 /dev/urandom | dd of="$dir/corrupt.rpmb" bs=1 seek=4096 conv=notrunc status=none
check "corrupt store" refuses "corrupt" "$IMG" info "$dir/corrupt.rpmb"

# A store held by another process is refused, and left alone.
exec 9<"$s"
flock -x 9
sum=$(sha256sum <"$s")
check "locked store" refuses "in use by another process" "$IMG" info "$s"
check "locked store unchanged" test "$(sha256sum <"$s")" = "$sum"
exec 9<&-

[ "$fails" -eq 0 ]
