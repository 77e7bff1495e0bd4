/* SPDX-License-Identifier: MIT */
/*
 * A guest's worker: the unprivileged process that serves one guest's
 * devices and nothing else. The supervisor forks it; it opens the Xen
 * handles it needs (restricted to the guest's domain), its ioreq server
 * (adopting a dead worker's), confines itself (sandbox.h), tells the
 * supervisor it is ready, then serves: guest accesses from its ioreq
 * server on its event loop, queues on its service threads, devices added
 * and removed as the supervisor asks.
 */
#ifndef BACKEND_WORKER_H
#define BACKEND_WORKER_H

#include <stdbool.h>

#include "device-types.h"
#include "sandbox.h"

struct worker_args {
	unsigned int domid;
	int adopt;			/* ioreq server id to adopt, or -1 */
	bool restarted;			/* devices start out needing reset */
	int sock;			/* to the supervisor (SOCK_SEQPACKET) */
	const char *dir;		/* the guest's directory */
	bool sandbox;			/* confine (needs root); off in tests */
	struct sandbox_id id;
	unsigned int nthreads;		/* service threads */
	unsigned int batch;		/* requests per queue per turn */
	const char *label;		/* "guest NAME (domN)" */
	const struct device_type *const *types;
};

/* The worker's life, in the forked child; returns its exit status. */
int worker_run(const struct worker_args *a);

#endif /* BACKEND_WORKER_H */
