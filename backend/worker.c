// SPDX-License-Identifier: MIT
/*
 * The worker's life in order: cut loose from the supervisor's state
 * (fds, signal mask), open and restrict the Xen handles, warm the
 * libraries that would need the file system, start the service threads,
 * get the ioreq server, confine, filter system calls, report ready,
 * then serve until told to stop or the supervisor goes away.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "guest-devices.h"
#include "guest-service.h"
#include "ioreq.h"
#include "log.h"
#include "mmio-bus.h"
#include "sandbox.h"
#include "virtio-mmio.h"
#include "worker-msg.h"
#include "worker.h"
#include "xen-mem.h"

struct worker {
	const struct worker_args *a;
	struct xen_handles h;
	struct ioreq_server *ioreq;
	struct mmio_bus *bus;
	struct guest_devices *devs;
	bool keep_server;
};

static uint64_t bus_read(void *opaque, uint64_t addr, unsigned int size)
{
	return mmio_bus_read(opaque, addr, size);
}

static void bus_write(void *opaque, uint64_t addr, unsigned int size,
		      uint64_t value)
{
	mmio_bus_write(opaque, addr, size, value);
}

static const struct ioreq_access_ops bus_access = {
	.read = bus_read,
	.write = bus_write,
};

static int glue_claim(void *opaque, uint64_t base)
{
	struct worker *w = opaque;

	return ioreq_server_claim(w->ioreq, base, VIRTIO_MMIO_WINDOW_SIZE);
}

static void glue_unclaim(void *opaque, uint64_t base)
{
	struct worker *w = opaque;

	/* Kept for the next worker, which adopts the server with them. */
	if (!w->keep_server)
		ioreq_server_unclaim(w->ioreq, base, VIRTIO_MMIO_WINDOW_SIZE);
}

static int glue_mem_new(void *opaque, unsigned int devid,
			const struct wmsg_add *add, struct virtio_host *mem)
{
	struct worker *w = opaque;

	return xen_mem_new(&w->h, w->a->domid, add->grants, add->irq,
			   add->label, mem);
}

static void glue_mem_free(void *opaque, struct virtio_host *mem)
{
	xen_mem_free(mem);
}

static const struct guest_glue_ops xen_glue = {
	.claim = glue_claim,
	.unclaim = glue_unclaim,
	.mem_new = glue_mem_new,
	.mem_free = glue_mem_free,
};

/* The supervisor's fds, locks and signal mask are not ours to keep. */
static int cut_loose(const struct worker_args *a)
{
	sigset_t none;

	char comm[16];

	if (prctl(PR_SET_PDEATHSIG, SIGKILL) || getppid() == 1)
		return -1;	/* the supervisor is already gone */
	/* What ps and the kernel's messages call it: whose worker it is. */
	snprintf(comm, sizeof(comm), "rpmb-dom%u", a->domid);
	prctl(PR_SET_NAME, comm, 0, 0, 0);
	if (dup2(a->sock, 3) < 0)
		return -1;
	/* Everything else the supervisor had open (other guests' sockets,
	 * its lock file, xenstore) goes. */
	if (close_range(4, ~0U, 0))
		for (int fd = 4; fd < 1024; fd++)
			close(fd);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	signal(SIGPIPE, SIG_IGN);
	return 0;
}

static int setup(struct worker *w, char *err, size_t errlen)
{
	const struct worker_args *a = w->a;

	/* From here on these work on this guest only. */
	if (xen_handles_open(&w->h, a->domid, err, errlen))
		return -1;
	sandbox_prepare();
	/* Threads before the filter, which does not let new ones start. */
	w->bus = mmio_bus_new(a->label, a->nthreads, a->batch);
	if (!w->bus) {
		snprintf(err, errlen, "cannot start the service threads");
		return -1;
	}
	w->ioreq = ioreq_server_open(w->h.xdm, w->h.xfm, a->domid, a->adopt,
				     &bus_access, w->bus, err, errlen);
	if (!w->ioreq)
		return -1;
	if (a->sandbox && (sandbox_enter(a->dir, &a->id, err, errlen) ||
			   sandbox_seccomp(guest_service_report_violation,
					   err, errlen)))
		return -1;
	w->devs = guest_devices_new(a->types, a->sandbox ? "." : a->dir, w->bus,
				    &xen_glue, w);
	if (!w->devs) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	return 0;
}

static void ioreq_handle(void *opaque)
{
	ioreq_server_handle(opaque);
}

static void ioreq_handle_all(void *opaque)
{
	ioreq_server_handle_all(opaque);
}

int worker_run(const struct worker_args *a)
{
	struct worker w = { .a = a, .keep_server = true };
	struct guest_service gs = { .sock = 3, .restarted = a->restarted };
	struct wmsg ready = { .type = WMSG_READY };
	char err[WMSG_TEXT_LEN];
	int sock_fd, status = 1;

	if (cut_loose(a))
		_exit(1);
	sock_fd = 3;
	vr_log_set_sink(guest_service_log_sink, &sock_fd);
	guest_service_violation_sock(sock_fd);
	if (setup(&w, err, sizeof(err))) {
		log_err("%s: worker setup failed: %s", a->label, err);
		goto out;
	}
	ready.u.ready.ioservid = ioreq_server_id(w.ioreq);
	if (wmsg_send(3, &ready))
		goto out;
	gs.bus = w.bus;
	gs.devs = w.devs;
	gs.src = (struct access_source){
		.fd = ioreq_server_fd(w.ioreq),
		.handle = ioreq_handle,
		.handle_all = ioreq_handle_all,
		.opaque = w.ioreq,
	};
	guest_service_run(&gs);
	/* Windows go with the devices only if the server goes too. */
	w.keep_server = gs.keep_server;
	status = 0;
out:
	/* No request in hand and no mapping left before the server goes. */
	guest_devices_free(w.devs);
	mmio_bus_free(w.bus);
	/*
	 * A supervisor that went away (crash, SIGKILL) will adopt the
	 * server when it comes back; one that said STOP said which.
	 */
	ioreq_server_close(w.ioreq, !w.keep_server);
	xen_handles_close(&w.h);
	return status;
}
