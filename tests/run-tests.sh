#!/usr/bin/env bash
# Runs every test program and script given, and prints one summary line
# that CI reads: "N passed, N failed". cmocka programs count each test case;
# anything else counts as one test, judged by its exit status.
set -u

passed=0
failed=0
failed_names=()

count_cmocka() {
	local log=$1 n
	n=$(sed -n 's/^\[  PASSED  \] \([0-9]\+\) test(s)\.$/\1/p' "$log" | tail -n 1)
	echo "${n:-0}"
}

count_cmocka_failed() {
	local log=$1 n
	n=$(sed -n 's/^\[  FAILED  \] \([0-9]\+\) test(s), listed below:$/\1/p' "$log" | tail -n 1)
	echo "${n:-0}"
}

# A hung test fails rather than hanging the run.
TEST_TIMEOUT=${TEST_TIMEOUT:-600}

for t in "$@"; do
	log=$(mktemp)
	case "$t" in
	*.sh) timeout "$TEST_TIMEOUT" bash "$t" >"$log" 2>&1 ;;
	*) timeout "$TEST_TIMEOUT" "$t" >"$log" 2>&1 ;;
	esac
	rc=$?
	[ "$rc" -eq 124 ] && echo "$t: timed out after $TEST_TIMEOUT s" >>"$log"
	cat "$log"
	if grep -q '^\[==========\]' "$log"; then
		p=$(count_cmocka "$log")
		f=$(count_cmocka_failed "$log")
		if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
			f=1	# crashed or sanitizer abort before cmocka's summary
		fi
	elif [ "$rc" -eq 0 ]; then
		p=1 f=0
	else
		p=0 f=1
	fi
	passed=$((passed + p))
	failed=$((failed + f))
	if [ "$f" -ne 0 ]; then
		failed_names+=("$t")
	fi
	rm -f "$log"
done

if [ ${#failed_names[@]} -ne 0 ]; then
	echo "FAILED: ${failed_names[*]}"
fi
echo "unit tests: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
