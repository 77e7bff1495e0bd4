/* SPDX-License-Identifier: MIT */
/*
 * What to do with one device directory when xenstore says something
 * changed. Pure: the caller reads the keys, this decides, the caller acts.
 *
 * The toolstack protocol (tools/libs/light/libxl_device.c,
 * libxl__device_generic_add and libxl__initiate_device_generic_remove;
 * libxl_virtio.c for the keys):
 *   - a new device appears in one transaction with online=1, state=1;
 *     we set it up and answer state=2 (InitWait), and stay there, as the
 *     other virtio-mmio backends do (nobody moves a virtio-mmio device to
 *     Connected: the frontend is not xenbus-aware);
 *   - removal: libxl writes online=0 and state=5 (Closing), then waits up
 *     to 10 s for state=6 (Closed) before removing the nodes itself.
 *
 * Every write we make fires our own watch again, so each decision must be
 * a fixed point after our write: after "setup" the device is SERVING at
 * state 2 (-> NONE), after "close" it is state 6 (-> NONE).
 */
#ifndef BACKEND_DEV_STATE_H
#define BACKEND_DEV_STATE_H

#include <stdbool.h>

#include "vdev-keys.h"

/* What this process knows about the device. */
enum dev_local {
	DEV_LOCAL_NONE,		/* never seen, or forgotten */
	DEV_LOCAL_SERVING,	/* set up and answering the guest */
	DEV_LOCAL_FAILED,	/* setup failed; retried later or on SIGHUP */
};

/* What xenstore says about it. */
struct dev_view {
	bool present;		/* the directory (its "type" key) exists */
	bool ours;		/* type is virtio,device1c */
	bool online;		/* online == "1" */
	enum xenbus_state state;
};

enum dev_action {
	DEV_ACT_NONE,
	DEV_ACT_SETUP,		/* set up, then write state 2 */
	DEV_ACT_TEARDOWN_GONE,	/* nodes gone: tear down, write nothing */
	DEV_ACT_TEARDOWN_CLOSE,	/* tear down, write state 6 */
	DEV_ACT_CLOSE_UNSERVED,	/* not served by us: just write state 6 */
	DEV_ACT_FORGET,		/* drop a failure record */
};

enum dev_action dev_decide(enum dev_local local, const struct dev_view *v);

const char *dev_action_name(enum dev_action act);

/*
 * Seconds until a failed device is tried again after @failures failed
 * setups: 5, 10, 20, ... at most 300. Some causes go away by themselves
 * or by an administrator's hand without any xenstore event we would see
 * (a driver domain given rights over the guest after it was created, a
 * store lock released); others are permanent, and the backoff keeps their
 * log lines rare.
 */
unsigned int dev_retry_delay(unsigned int failures);
#define DEV_RETRY_MIN	5
#define DEV_RETRY_MAX	300

#endif /* BACKEND_DEV_STATE_H */
