#!/usr/bin/env bash
# Runs each libFuzzer target for a bounded time on its checked-in seed
# corpus (tests/fuzz/corpus/<name>/), in a scratch copy so the tree stays
# clean. Any crash, leak, timeout or sanitizer report fails the run.
set -u

seconds=$1
shift
passed=0
failed=0

for f in "$@"; do
	name=$(basename "$f")
	seeds="tests/fuzz/corpus/$name"
	work=$(mktemp -d)
	[ -d "$seeds" ] && cp -r "$seeds"/. "$work"/
	log="$work.log"
	echo "== fuzz $name for ${seconds}s"
	if "$f" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
		-print_final_stats=1 -artifact_prefix="$work/" "$work" >"$log" 2>&1; then
		grep -E '^stat::number_of_executed_units|^Done [0-9]+ runs' "$log"
		passed=$((passed + 1))
	else
		tail -n 60 "$log"
		echo "fuzzer $name FAILED; artifacts in $work"
		failed=$((failed + 1))
		continue
	fi
	rm -rf "$work" "$log"
done

echo "fuzzers: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
