// SPDX-License-Identifier: MIT
/*
 * Order of calls (what Xen needs, as in QEMU's xen-hvm-common.c and the
 * virtio-disk backend): create -> map the ioreq page -> enable (the vCPU
 * event channel ports, vp_eport, are only filled in once enabled) -> bind
 * one port per vCPU -> claim ranges. One server per guest: Xen allows
 * only MAX_NR_IOREQ_SERVERS (8) per domain, and other emulators may need
 * some.
 *
 * A worker that dies leaves the server behind, still claiming the
 * windows, and a vCPU may be waiting in an access it never answered.
 * Destroying the server then would strand that vCPU (nothing wakes it);
 * adopting it instead lets the next worker answer the access and the
 * guest carry on. Only the emulating domain may use a server
 * (ioreq_server_* checks s->emulator), so adopting also proves it ours.
 */
/* The device-model parts of Xen's public headers are for tools only. */
#define __XEN_TOOLS__ 1

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include <xen/xen.h>
#include <xen/hvm/dm_op.h>
#include <xen/hvm/ioreq.h>
#include <xen/memory.h>

#include "ioreq-req.h"
#include "ioreq.h"
#include "log.h"

/*
 * Xen on Arm has no buffered ioreqs: ioreq_server_create() refuses any
 * other mode there (xen/common/ioreq.c), and QEMU's Arm machine says the
 * same. Every access is a synchronous ioreq.
 */
#define BUFIOREQ_MODE	HVM_IOREQSRV_BUFIOREQ_OFF

struct ioreq_server {
	xendevicemodel_handle *xdm;
	xenforeignmemory_handle *xfm;
	xenevtchn_handle *xce;
	unsigned int domid;
	ioservid_t id;
	bool have_server;
	xenforeignmemory_resource_handle *res;
	struct shared_iopage *page;
	unsigned int nr_vcpus;
	evtchn_port_t *ports;
	bool *bound;
	const struct ioreq_access_ops *ops;
	void *opaque;
	struct guest_log log;
};

static void barrier(void)
{
	/* xen_mb(): "dmb sy" on aarch64, mfence on x86. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
}

static int map_page(struct ioreq_server *s)
{
	void *page = NULL;

	s->res = xenforeignmemory_map_resource(
		s->xfm, s->domid, XENMEM_resource_ioreq_server, s->id,
		XENMEM_resource_ioreq_server_frame_ioreq(0), 1, &page,
		PROT_READ | PROT_WRITE, 0);
	if (!s->res)
		return -errno;
	s->page = page;
	return 0;
}

/* A server of our own, by id, or a new one. */
static int get_server(struct ioreq_server *s, int adopt, char *err,
		      size_t errlen)
{
	if (adopt >= 0) {
		s->id = (ioservid_t)adopt;
		s->have_server = true;
		if (!map_page(s)) {
			log_info("dom%u: adopted ioreq server %u", s->domid, s->id);
			return 0;
		}
		/* Gone, or not ours: whatever it was, start afresh. */
		log_warn("dom%u: cannot adopt ioreq server %u (%m); making a new one",
			 s->domid, s->id);
		xendevicemodel_destroy_ioreq_server(s->xdm, s->domid, s->id);
		s->have_server = false;
	}
	if (xendevicemodel_create_ioreq_server(s->xdm, s->domid, BUFIOREQ_MODE,
					       &s->id)) {
		snprintf(err, errlen,
			 "cannot create ioreq server: %s (is Xen built with CONFIG_IOREQ_SERVER? may this domain act as its device model?)",
			 strerror(errno));
		return -errno;
	}
	s->have_server = true;
	if (map_page(s)) {
		snprintf(err, errlen, "cannot map the ioreq page: %s",
			 strerror(errno));
		return -errno;
	}
	return 0;
}

static int bind_vcpus(struct ioreq_server *s, char *err, size_t errlen)
{
	for (unsigned int i = 0; i < s->nr_vcpus; i++) {
		/* Valid only now that the server is enabled. */
		evtchn_port_t remote = s->page->vcpu_ioreq[i].vp_eport;
		xenevtchn_port_or_error_t port =
			xenevtchn_bind_interdomain(s->xce, s->domid, remote);

		if (port < 0) {
			snprintf(err, errlen,
				 "cannot bind vCPU %u event channel %u: %s", i,
				 remote, strerror(errno));
			return -errno;
		}
		s->ports[i] = (evtchn_port_t)port;
		s->bound[i] = true;
	}
	return 0;
}

struct ioreq_server *ioreq_server_open(xendevicemodel_handle *xdm,
				       xenforeignmemory_handle *xfm,
				       unsigned int domid, int adopt,
				       const struct ioreq_access_ops *ops,
				       void *opaque, char *err, size_t errlen)
{
	struct ioreq_server *s = calloc(1, sizeof(*s));
	char who[32];

	if (!s) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	s->xdm = xdm;
	s->xfm = xfm;
	s->domid = domid;
	s->ops = ops;
	s->opaque = opaque;
	snprintf(who, sizeof(who), "dom%u ioreqs", domid);
	guest_log_init(&s->log, who);
	s->xce = xenevtchn_open(NULL, 0);
	if (!s->xce) {
		snprintf(err, errlen, "cannot open an event channel handle: %s",
			 strerror(errno));
		goto fail;
	}
	/* Binding to any other domain's ports is then refused. */
	if (xenevtchn_restrict(s->xce, (domid_t)domid))
		log_warn("dom%u: cannot restrict the event channel handle: %m",
			 domid);
	if (xendevicemodel_nr_vcpus(xdm, domid, &s->nr_vcpus)) {
		/* The first device-model operation: where a refusal shows. */
		if (errno == EPERM || errno == EACCES)
			snprintf(err, errlen,
				 "dom%u: cannot act as its device model: %s (Xen's XSM must allow this domain dm operations on it: with FLASK, \"hvm dm\" over the guest's type; in a driver domain, Linux's privcmd also needs xen_privcmd.unrestricted=1)",
				 domid, strerror(errno));
		else
			snprintf(err, errlen, "dom%u: cannot get its vCPU count: %s",
				 domid, strerror(errno));
		goto fail;
	}
	if (!s->nr_vcpus || s->nr_vcpus > IOREQ_MAX_VCPUS) {
		snprintf(err, errlen, "dom%u: %u vCPUs, more than one ioreq page serves",
			 domid, s->nr_vcpus);
		goto fail;
	}
	s->ports = calloc(s->nr_vcpus, sizeof(*s->ports));
	s->bound = calloc(s->nr_vcpus, sizeof(*s->bound));
	if (!s->ports || !s->bound) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	if (get_server(s, adopt, err, errlen))
		goto fail;
	if (xendevicemodel_set_ioreq_server_state(xdm, domid, s->id, 1)) {
		snprintf(err, errlen, "cannot enable ioreq server %u: %s", s->id,
			 strerror(errno));
		goto fail;
	}
	if (bind_vcpus(s, err, errlen))
		goto fail;
	log_info("dom%u: ioreq server %u with %u vCPU(s)", domid, s->id,
		 s->nr_vcpus);
	return s;
fail:
	/* A server we made and could not finish would be nobody's. */
	ioreq_server_close(s, adopt < 0);
	return NULL;
}

void ioreq_server_close(struct ioreq_server *s, bool destroy)
{
	if (!s)
		return;
	if (s->xce) {
		for (unsigned int i = 0; i < s->nr_vcpus; i++)
			if (s->bound && s->bound[i])
				xenevtchn_unbind(s->xce, s->ports[i]);
	}
	if (s->res)
		xenforeignmemory_unmap_resource(s->xfm, s->res);
	if (destroy && s->have_server) {
		xendevicemodel_set_ioreq_server_state(s->xdm, s->domid, s->id, 0);
		/* A dead domain took its servers with it (ESRCH, ENOENT). */
		if (xendevicemodel_destroy_ioreq_server(s->xdm, s->domid, s->id) &&
		    errno != ESRCH && errno != ENOENT)
			log_warn("dom%u: cannot destroy ioreq server %u: %m",
				 s->domid, s->id);
	}
	if (s->xce)
		xenevtchn_close(s->xce);
	guest_log_fini(&s->log);
	free(s->ports);
	free(s->bound);
	free(s);
}

uint16_t ioreq_server_id(const struct ioreq_server *s)
{
	return s->id;
}

int ioreq_server_fd(const struct ioreq_server *s)
{
	return xenevtchn_fd(s->xce);
}

int ioreq_server_claim(struct ioreq_server *s, uint64_t base, uint64_t size)
{
	if (xendevicemodel_map_io_range_to_ioreq_server(s->xdm, s->domid, s->id,
							1, base, base + size - 1))
		/* EEXIST: another server, or ours from before an adopt. */
		return errno == EEXIST ? 0 : -errno;
	return 0;
}

void ioreq_server_unclaim(struct ioreq_server *s, uint64_t base, uint64_t size)
{
	xendevicemodel_unmap_io_range_from_ioreq_server(s->xdm, s->domid, s->id,
							1, base,
							base + size - 1);
}

static void dispatch(struct ioreq_server *s, ioreq_t *req)
{
	switch (ioreq_classify(req)) {
	case IOREQ_KIND_INVALIDATE:
		return;		/* we keep no mapcache to invalidate */
	case IOREQ_KIND_BAD:
		guest_log(&s->log, "unsupported ioreq type %u size %u count %u ptr %u",
			  req->type, req->size, req->count, req->data_is_ptr);
		if (req->dir == IOREQ_READ)
			req->data = ~0ULL;
		return;
	case IOREQ_KIND_MMIO:
		break;
	}
	if (req->dir == IOREQ_READ)
		req->data = s->ops->read(s->opaque, req->addr, req->size);
	else
		s->ops->write(s->opaque, req->addr, req->size, req->data);
}

/*
 * @force: also an access a previous worker took (INPROCESS) and never
 * answered; register accesses may be done twice, and queue work a
 * notify asked for is only ever scheduled, never done, inside one.
 */
static void handle_vcpu(struct ioreq_server *s, unsigned int vcpu, bool force)
{
	ioreq_t *shared = &s->page->vcpu_ioreq[vcpu];
	uint8_t state = shared->state;
	ioreq_t req;

	/* Spurious or stale notification: nothing is waiting. */
	if (state != STATE_IOREQ_READY &&
	    !(force && state == STATE_IOREQ_INPROCESS))
		return;
	/* Read the request only after seeing READY (xen_rmb)... */
	barrier();
	memcpy(&req, shared, sizeof(req));
	shared->state = STATE_IOREQ_INPROCESS;
	dispatch(s, &req);
	shared->data = req.data;
	/* ...and publish the data before the state (xen_wmb). */
	barrier();
	shared->state = STATE_IORESP_READY;
	barrier();
	xenevtchn_notify(s->xce, s->ports[vcpu]);
}

void ioreq_server_handle(struct ioreq_server *s)
{
	/* The fd reports one pending port per read (and is level-ready). */
	xenevtchn_port_or_error_t port = xenevtchn_pending(s->xce);

	if (port < 0)
		return;
	/* Unmask first: a notification arriving meanwhile is not lost. */
	xenevtchn_unmask(s->xce, (evtchn_port_t)port);
	for (unsigned int i = 0; i < s->nr_vcpus; i++) {
		if (s->bound[i] && s->ports[i] == (evtchn_port_t)port) {
			handle_vcpu(s, i, false);
			return;
		}
	}
}

void ioreq_server_handle_all(struct ioreq_server *s)
{
	for (unsigned int i = 0; i < s->nr_vcpus; i++)
		if (s->bound[i])
			handle_vcpu(s, i, true);
}
