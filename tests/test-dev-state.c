// SPDX-License-Identifier: MIT
/* The per-device state decisions (backend/dev-state.c): pure, no Xen. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "dev-state.h"

static struct dev_view view(bool online, enum xenbus_state state)
{
	struct dev_view v = {
		.present = true, .ours = true, .online = online, .state = state,
	};

	return v;
}

static void new_device_is_set_up(void **state)
{
	struct dev_view v = view(true, XB_INITIALISING);

	assert_int_equal(dev_decide(DEV_LOCAL_NONE, &v), DEV_ACT_SETUP);
	/* Once serving, the same keys (and our own state 2) change nothing. */
	assert_int_equal(dev_decide(DEV_LOCAL_SERVING, &v), DEV_ACT_NONE);
	v.state = XB_INITWAIT;
	assert_int_equal(dev_decide(DEV_LOCAL_SERVING, &v), DEV_ACT_NONE);
}

static void restart_picks_up_state_2(void **state)
{
	struct dev_view v = view(true, XB_INITWAIT);

	assert_int_equal(dev_decide(DEV_LOCAL_NONE, &v), DEV_ACT_SETUP);
	/* Not a device someone else connected, nor an offline one. */
	v.state = XB_CONNECTED;
	assert_int_equal(dev_decide(DEV_LOCAL_NONE, &v), DEV_ACT_NONE);
	v = view(false, XB_INITIALISING);
	assert_int_equal(dev_decide(DEV_LOCAL_NONE, &v), DEV_ACT_NONE);
}

static void removal(void **state)
{
	struct dev_view v = view(false, XB_CLOSING);	/* what libxl writes */

	assert_int_equal(dev_decide(DEV_LOCAL_SERVING, &v), DEV_ACT_TEARDOWN_CLOSE);
	/* Either half alone is enough. */
	v = view(true, XB_CLOSING);
	assert_int_equal(dev_decide(DEV_LOCAL_SERVING, &v), DEV_ACT_TEARDOWN_CLOSE);
	v = view(false, XB_INITWAIT);
	assert_int_equal(dev_decide(DEV_LOCAL_SERVING, &v), DEV_ACT_TEARDOWN_CLOSE);
	/* Not served (failed, or removed while we were down): still answer. */
	v = view(false, XB_CLOSING);
	assert_int_equal(dev_decide(DEV_LOCAL_NONE, &v), DEV_ACT_CLOSE_UNSERVED);
	assert_int_equal(dev_decide(DEV_LOCAL_FAILED, &v), DEV_ACT_CLOSE_UNSERVED);
	/* Our own answer is the end of it. */
	v = view(false, XB_CLOSED);
	assert_int_equal(dev_decide(DEV_LOCAL_NONE, &v), DEV_ACT_NONE);
	assert_int_equal(dev_decide(DEV_LOCAL_FAILED, &v), DEV_ACT_NONE);
}

static void vanished_or_foreign(void **state)
{
	struct dev_view gone = { 0 };
	struct dev_view other = view(true, XB_INITIALISING);

	assert_int_equal(dev_decide(DEV_LOCAL_SERVING, &gone), DEV_ACT_TEARDOWN_GONE);
	assert_int_equal(dev_decide(DEV_LOCAL_FAILED, &gone), DEV_ACT_FORGET);
	assert_int_equal(dev_decide(DEV_LOCAL_NONE, &gone), DEV_ACT_NONE);
	/* Another backend's device (any other type) is never touched. */
	other.ours = false;
	for (int s = XB_UNKNOWN; s <= XB_CLOSED; s++) {
		other.state = (enum xenbus_state)s;
		other.online = s & 1;
		assert_int_equal(dev_decide(DEV_LOCAL_NONE, &other), DEV_ACT_NONE);
	}
}

static void failed_device_is_not_retried(void **state)
{
	struct dev_view v = view(true, XB_INITIALISING);

	/* Every key write fires the watch; a failure must not loop. */
	assert_int_equal(dev_decide(DEV_LOCAL_FAILED, &v), DEV_ACT_NONE);
	v.state = XB_INITWAIT;
	assert_int_equal(dev_decide(DEV_LOCAL_FAILED, &v), DEV_ACT_NONE);
}

/*
 * What our action does to xenstore and to our own record. @dd: driver
 * domain, which also removes the directory when closing.
 */
static void apply(enum dev_action act, bool dd, enum dev_local *local,
		  struct dev_view *v)
{
	switch (act) {
	case DEV_ACT_NONE:
		break;
	case DEV_ACT_SETUP:
		/* Success; a failure leaves FAILED with the same keys. */
		*local = DEV_LOCAL_SERVING;
		v->state = XB_INITWAIT;
		break;
	case DEV_ACT_TEARDOWN_GONE:
	case DEV_ACT_FORGET:
		*local = DEV_LOCAL_NONE;
		break;
	case DEV_ACT_TEARDOWN_CLOSE:
	case DEV_ACT_CLOSE_UNSERVED:
		*local = DEV_LOCAL_NONE;
		v->state = XB_CLOSED;
		if (dd)
			memset(v, 0, sizeof(*v));
		break;
	}
}

/*
 * Every write of ours fires our own watch again. Whatever the state, the
 * decision after our action must be "nothing": no write loops.
 */
static void our_writes_are_fixed_points(void **state)
{
	for (int dd = 0; dd < 2; dd++)
	for (int local = DEV_LOCAL_NONE; local <= DEV_LOCAL_FAILED; local++)
	for (int bits = 0; bits < 8; bits++)
	for (int s = XB_UNKNOWN; s <= XB_CLOSED + 1; s++) {
		struct dev_view v = {
			.present = bits & 1, .ours = bits & 2,
			.online = bits & 4, .state = (enum xenbus_state)s,
		};
		enum dev_local l = (enum dev_local)local;
		enum dev_action act, again;

		if (!v.present)
			v.ours = false;
		act = dev_decide(l, &v);
		apply(act, dd, &l, &v);
		again = dev_decide(l, &v);
		if (again != DEV_ACT_NONE)
			fail_msg("dd %d local %d view %d/%d/%d/%d: %s then %s", dd,
				 local, v.present, v.ours, v.online, s,
				 dev_action_name(act), dev_action_name(again));
		/* A failed setup must be a fixed point too. */
		if (act == DEV_ACT_SETUP &&
		    dev_decide(DEV_LOCAL_FAILED, &v) == DEV_ACT_SETUP)
			fail_msg("failed setup retried");
	}
}

static void action_names(void **state)
{
	assert_string_equal(dev_action_name(DEV_ACT_SETUP), "setup");
	assert_string_equal(dev_action_name((enum dev_action)99), "?");
}

static void retry_backoff(void **state)
{
	assert_int_equal(dev_retry_delay(0), DEV_RETRY_MIN);
	assert_int_equal(dev_retry_delay(1), 5);
	assert_int_equal(dev_retry_delay(2), 10);
	assert_int_equal(dev_retry_delay(3), 20);
	assert_int_equal(dev_retry_delay(7), 300);
	assert_int_equal(dev_retry_delay(1000), DEV_RETRY_MAX);
	assert_int_equal(dev_retry_delay(~0u), DEV_RETRY_MAX);
	for (unsigned int i = 1; i < 40; i++)
		assert_true(dev_retry_delay(i) >= dev_retry_delay(i - 1));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(new_device_is_set_up),
		cmocka_unit_test(restart_picks_up_state_2),
		cmocka_unit_test(removal),
		cmocka_unit_test(vanished_or_foreign),
		cmocka_unit_test(failed_device_is_not_retried),
		cmocka_unit_test(our_writes_are_fixed_points),
		cmocka_unit_test(action_names),
		cmocka_unit_test(retry_backoff),
	};

	return cmocka_run_group_tests_name("dev-state", tests, NULL, NULL);
}
