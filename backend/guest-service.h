/* SPDX-License-Identifier: MIT */
/*
 * The serving loop of a guest's worker, whatever the hypervisor: one
 * thread waits for the guest's MMIO accesses (from an access source:
 * Xen's ioreq server, or a simulation) and for the supervisor's
 * requests (add or remove a device, stop), and answers both at once;
 * the bus's service threads do the devices' work meanwhile. The Xen
 * worker (worker.c) is this loop with Xen's access source and memory.
 */
#ifndef BACKEND_GUEST_SERVICE_H
#define BACKEND_GUEST_SERVICE_H

#include <stdbool.h>

#include "guest-devices.h"
#include "mmio-bus.h"

/* Where the guest's accesses come from. */
struct access_source {
	int fd;				/* readable when an access waits */
	void (*handle)(void *opaque);	/* answers what waits */
	void (*handle_all)(void *opaque); /* also what a dead worker left */
	void *opaque;
};

struct guest_service {
	int sock;			/* to the supervisor */
	struct mmio_bus *bus;
	struct guest_devices *devs;
	struct access_source src;
	bool restarted;			/* devices start out needing reset */

	/* Out: how it ended. */
	bool stop;			/* the supervisor said STOP */
	bool keep_server;		/* ...and to keep the access source */
};

/* Serves until STOP, or the supervisor's socket closes. */
void guest_service_run(struct guest_service *gs);

/*
 * A log sink that sends each line to the supervisor as WMSG_LOG on the
 * socket *@opaque (an int). Thread-safe: one packet per line.
 */
void guest_service_log_sink(enum vr_log_level level, const char *msg,
			    void *opaque);

/*
 * For sandbox_seccomp(): says which forbidden system call ended the
 * worker, as a WMSG_LOG line on the socket given to
 * guest_service_violation_sock() (kept for the signal handler).
 */
void guest_service_violation_sock(int sock);
void guest_service_report_violation(long nr, unsigned long arg0,
				    unsigned long arg1);

#endif /* BACKEND_GUEST_SERVICE_H */
