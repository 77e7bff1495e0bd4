// SPDX-License-Identifier: MIT
#include "dev-state.h"

/* libxl asks for removal with online=0 and state=5 (it writes both). */
static bool closing(const struct dev_view *v)
{
	return !v->online || v->state == XB_CLOSING || v->state == XB_CLOSED;
}

enum dev_action dev_decide(enum dev_local local, const struct dev_view *v)
{
	/* Gone, or (oddly) retyped: it is not ours any more; write nothing. */
	if (!v->present || !v->ours) {
		switch (local) {
		case DEV_LOCAL_SERVING:
			return DEV_ACT_TEARDOWN_GONE;
		case DEV_LOCAL_FAILED:
			return DEV_ACT_FORGET;
		default:
			return DEV_ACT_NONE;
		}
	}

	switch (local) {
	case DEV_LOCAL_SERVING:
		return closing(v) ? DEV_ACT_TEARDOWN_CLOSE : DEV_ACT_NONE;
	case DEV_LOCAL_FAILED:
	case DEV_LOCAL_NONE:
		/*
		 * Answer a removal even for a device we could not serve (or
		 * that was removed while we were not running): otherwise
		 * libxl waits its full 10 s for state 6. State 6 itself is
		 * the fixed point.
		 */
		if (v->state == XB_CLOSING)
			return DEV_ACT_CLOSE_UNSERVED;
		if (local == DEV_LOCAL_FAILED)
			return DEV_ACT_NONE;	/* retried by the timer */
		/*
		 * State 1: new. State 2 with nobody serving it: set up by a
		 * previous run of this daemon (or it crashed); serve it again.
		 */
		if (v->online &&
		    (v->state == XB_INITIALISING || v->state == XB_INITWAIT))
			return DEV_ACT_SETUP;
		return DEV_ACT_NONE;
	}
	return DEV_ACT_NONE;
}

const char *dev_action_name(enum dev_action act)
{
	static const char *const names[] = {
		[DEV_ACT_NONE] = "none",
		[DEV_ACT_SETUP] = "setup",
		[DEV_ACT_TEARDOWN_GONE] = "teardown (nodes gone)",
		[DEV_ACT_TEARDOWN_CLOSE] = "teardown (closing)",
		[DEV_ACT_CLOSE_UNSERVED] = "close (not served)",
		[DEV_ACT_FORGET] = "forget failure",
	};

	if ((unsigned int)act < sizeof(names) / sizeof(names[0]))
		return names[act];
	return "?";
}

unsigned int dev_retry_delay(unsigned int failures)
{
	unsigned int delay = DEV_RETRY_MIN;

	for (unsigned int i = 1; i < failures && delay < DEV_RETRY_MAX; i++)
		delay *= 2;
	return delay < DEV_RETRY_MAX ? delay : DEV_RETRY_MAX;
}
