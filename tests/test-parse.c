// SPDX-License-Identifier: MIT
/* Strict numbers and capacities (common/parse.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "parse.h"

static void capacities(void **state)
{
	unsigned int u;

	assert_int_equal(parse_capacity("128K", &u), 0);
	assert_int_equal(u, 1);
	assert_int_equal(parse_capacity("4M", &u), 0);
	assert_int_equal(u, 32);
	assert_int_equal(parse_capacity("16m", &u), 0);
	assert_int_equal(u, 128);
	assert_int_equal(parse_capacity("7", &u), 0);
	assert_int_equal(u, 7);
	static const char *const bad[] = {
		"0", "129", "17M", "100K", "64K", "", "M", "4MB", "-1", "1.5M",
		"0x80x",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (!parse_capacity(bad[i], &u))
			fail_msg("accepted capacity '%s'", bad[i]);
}

static void numbers(void **state)
{
	uint64_t v;

	assert_int_equal(parse_u64("0x10", 100, &v), 0);
	assert_int_equal(v, 16);
	assert_int_equal(parse_u64("100", 100, &v), 0);
	assert_int_not_equal(parse_u64("101", 100, &v), 0);
	assert_int_not_equal(parse_u64("-1", UINT64_MAX, &v), 0);
	assert_int_not_equal(parse_u64(" 1", 100, &v), 0);
	assert_int_not_equal(parse_u64("1 ", 100, &v), 0);
	assert_int_not_equal(parse_u64("", 100, &v), 0);
	assert_int_not_equal(parse_u64(NULL, 100, &v), 0);
	assert_int_not_equal(parse_u64("18446744073709551616", UINT64_MAX, &v), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(capacities),
		cmocka_unit_test(numbers),
	};

	return cmocka_run_group_tests_name("parse", tests, NULL, NULL);
}
