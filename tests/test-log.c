// SPDX-License-Identifier: MIT
/*
 * Guest-caused logging (common/log.c): each source has its own budget
 * that refills over time, lines name their source, what is dropped is
 * counted and reported, and one noisy guest cannot silence another.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "log.h"

static uint64_t fake_now;
static unsigned int lines;
static char last[512];

static uint64_t fake_clock(void)
{
	return fake_now;
}

static void capture(enum vr_log_level level, const char *msg, void *opaque)
{
	lines++;
	snprintf(last, sizeof(last), "%s", msg);
}

static int setup(void **state)
{
	fake_now = 1000000;
	lines = 0;
	last[0] = '\0';
	guest_log_set_clock(fake_clock);
	vr_log_set_sink(capture, NULL);
	vr_log_set_level(VR_LOG_INFO);
	return 0;
}

static int teardown(void **state)
{
	guest_log_set_clock(NULL);
	vr_log_set_sink(NULL, NULL);
	return 0;
}

static void budget_refills_and_counts_drops(void **state)
{
	struct guest_log gl;

	guest_log_init(&gl, "guest a (dom1) rpmb0");
	for (int i = 0; i < 100000; i++)
		guest_log(&gl, "bad access %d", i);
	assert_int_equal(lines, GUEST_LOG_BURST);
	assert_non_null(strstr(last, "guest a (dom1) rpmb0: bad access"));
	/* A refill later, one more line, saying how many were dropped. */
	fake_now += GUEST_LOG_REFILL_MS;
	guest_log(&gl, "again");
	assert_int_equal(lines, GUEST_LOG_BURST + 1);
	assert_non_null(strstr(last, "again (99990 lines dropped before this)"));
	/* A long quiet spell refills the whole burst, no more. */
	fake_now += 1000ULL * GUEST_LOG_REFILL_MS;
	for (int i = 0; i < 3 * GUEST_LOG_BURST; i++)
		guest_log(&gl, "x");
	assert_int_equal(lines, 2 * GUEST_LOG_BURST + 1);
	guest_log_fini(&gl);
	assert_non_null(strstr(last, "lines dropped in all"));
}

static void one_guest_cannot_silence_another(void **state)
{
	struct guest_log a, b;

	guest_log_init(&a, "guest a (dom1) rpmb0");
	guest_log_init(&b, "guest b (dom2) rpmb0");
	for (int i = 0; i < 10000; i++)
		guest_log(&a, "flood");
	lines = 0;
	guest_log(&b, "first complaint");
	assert_int_equal(lines, 1);
	assert_string_equal(last, "guest b (dom2) rpmb0: first complaint");
	guest_log_fini(&a);
	guest_log_fini(&b);
}

static void own_limits(void **state)
{
	struct guest_log gl;

	guest_log_init_limits(&gl, "worker", 3, 100);
	for (int i = 0; i < 10; i++)
		guest_log_at(&gl, VR_LOG_INFO, "line");
	assert_int_equal(lines, 3);
	fake_now += 250;
	for (int i = 0; i < 10; i++)
		guest_log_at(&gl, VR_LOG_INFO, "line");
	assert_int_equal(lines, 5);
	guest_log_fini(&gl);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(budget_refills_and_counts_drops, setup, teardown),
		cmocka_unit_test_setup_teardown(one_guest_cannot_silence_another, setup, teardown),
		cmocka_unit_test_setup_teardown(own_limits, setup, teardown),
	};

	return cmocka_run_group_tests_name("log", tests, NULL, NULL);
}
