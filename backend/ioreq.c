// SPDX-License-Identifier: MIT
/*
 * One ioreq server per guest, shared by all of its devices (Xen allows
 * only 8 servers per domain). Each device claims its 0x200-byte window
 * in it. The order of calls follows what Xen needs: the vCPU event
 * channel ports are only filled in once the server is enabled.
 */
/* The device-model parts of Xen's public headers are for tools only. */
#define __XEN_TOOLS__ 1

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include <xen/hvm/dm_op.h>
#include <xen/hvm/ioreq.h>
#include <xen/memory.h>

#include "daemon.h"
#include "log.h"
#include "virtio-rpmb.h"

/* Xen on Arm has no buffered ioreqs (xen/common/ioreq.c refuses them). */
#define BUFIOREQ_MODE	HVM_IOREQSRV_BUFIOREQ_OFF

static void guest_destroy(struct guest *g)
{
	struct daemon *d = g->d;

	for (unsigned int i = 0; g->local_ports && i < g->nr_vcpus; i++)
		if (g->local_ports[i])
			xenevtchn_unbind(d->xce, g->local_ports[i]);
	if (g->server_created)
		xendevicemodel_set_ioreq_server_state(d->xdm, g->domid,
						      g->ioservid, 0);
	if (g->iopage_res)
		xenforeignmemory_unmap_resource(d->xfm, g->iopage_res);
	/* Without this, a destroyed guest would stay "dying" forever. */
	if (g->server_created &&
	    xendevicemodel_destroy_ioreq_server(d->xdm, g->domid, g->ioservid))
		log_warn("dom%u: cannot destroy ioreq server %u: %m", g->domid,
			 g->ioservid);
	free(g->local_ports);
	free(g);
}

static int guest_setup(struct guest *g)
{
	struct daemon *d = g->d;
	void *page = NULL;

	if (xendevicemodel_nr_vcpus(d->xdm, g->domid, &g->nr_vcpus) ||
	    !g->nr_vcpus) {
		log_err("dom%u: cannot get the number of vCPUs: %m", g->domid);
		return -1;
	}
	g->local_ports = calloc(g->nr_vcpus, sizeof(*g->local_ports));
	if (!g->local_ports)
		return -1;
	if (xendevicemodel_create_ioreq_server(d->xdm, g->domid, BUFIOREQ_MODE,
					       &g->ioservid)) {
		log_err("dom%u: cannot create ioreq server: %m (is Xen built with CONFIG_IOREQ_SERVER?)",
			g->domid);
		return -1;
	}
	g->server_created = true;
	g->iopage_res = xenforeignmemory_map_resource(
		d->xfm, g->domid, XENMEM_resource_ioreq_server, g->ioservid,
		XENMEM_resource_ioreq_server_frame_ioreq(0), 1, &page,
		PROT_READ | PROT_WRITE, 0);
	if (!g->iopage_res) {
		log_err("dom%u: cannot map ioreq page: %m", g->domid);
		return -1;
	}
	g->iopage = page;
	if (xendevicemodel_set_ioreq_server_state(d->xdm, g->domid,
						  g->ioservid, 1)) {
		log_err("dom%u: cannot enable ioreq server: %m", g->domid);
		return -1;
	}
	for (unsigned int i = 0; i < g->nr_vcpus; i++) {
		xenevtchn_port_or_error_t port = xenevtchn_bind_interdomain(
			d->xce, g->domid, g->iopage->vcpu_ioreq[i].vp_eport);

		if (port < 0) {
			log_err("dom%u: cannot bind vCPU %u event channel: %m",
				g->domid, i);
			return -1;
		}
		g->local_ports[i] = (evtchn_port_t)port;
	}
	log_info("dom%u: ioreq server %u with %u vCPU(s)", g->domid,
		 g->ioservid, g->nr_vcpus);
	return 0;
}

struct guest *guest_get(struct daemon *d, unsigned int domid)
{
	struct guest *g;

	for (g = d->guests; g; g = g->next)
		if (g->domid == domid)
			return g;
	g = calloc(1, sizeof(*g));
	if (!g)
		return NULL;
	g->d = d;
	g->domid = domid;
	if (guest_setup(g)) {
		guest_destroy(g);
		return NULL;
	}
	g->next = d->guests;
	d->guests = g;
	return g;
}

void guest_put_if_unused(struct guest *g)
{
	struct guest **pp;

	if (g->devices)
		return;
	for (pp = &g->d->guests; *pp; pp = &(*pp)->next) {
		if (*pp == g) {
			*pp = g->next;
			break;
		}
	}
	log_info("dom%u: ioreq server %u released", g->domid, g->ioservid);
	guest_destroy(g);
}

int guest_map_window(struct guest *g, struct device *dev)
{
	uint64_t base = dev->keys.base;

	if (xendevicemodel_map_io_range_to_ioreq_server(
		    g->d->xdm, g->domid, g->ioservid, 1, base,
		    base + VIRTIO_MMIO_DEV_SIZE - 1)) {
		log_err("dom%u: cannot claim MMIO %#llx: %m", g->domid,
			(unsigned long long)base);
		return -1;
	}
	return 0;
}

void guest_unmap_window(struct guest *g, struct device *dev)
{
	uint64_t base = dev->keys.base;

	xendevicemodel_unmap_io_range_from_ioreq_server(
		g->d->xdm, g->domid, g->ioservid, 1, base,
		base + VIRTIO_MMIO_DEV_SIZE - 1);
}

static struct device *device_at(struct guest *g, uint64_t addr)
{
	for (struct device *dev = g->devices; dev; dev = dev->next)
		if (addr >= dev->keys.base &&
		    addr - dev->keys.base < VIRTIO_MMIO_DEV_SIZE)
			return dev;
	return NULL;
}

static bool plain_mmio(const ioreq_t *req)
{
	return req->count == 1 && !req->data_is_ptr &&
	       (req->size == 1 || req->size == 2 || req->size == 4 ||
		req->size == 8);
}

static void dispatch(struct guest *g, ioreq_t *req)
{
	struct device *dev;
	uint64_t off;

	if (req->type == IOREQ_TYPE_INVALIDATE)
		return;		/* we keep no mapcache to invalidate */
	if (req->type != IOREQ_TYPE_COPY || !plain_mmio(req)) {
		log_guest("dom%u: unsupported ioreq type %u size %u count %u",
			  g->domid, req->type, req->size, req->count);
		if (req->dir == IOREQ_READ)
			req->data = ~0ULL;
		return;
	}
	dev = device_at(g, req->addr);
	if (!dev) {
		log_guest("dom%u: access to unclaimed address %#llx", g->domid,
			  (unsigned long long)req->addr);
		if (req->dir == IOREQ_READ)
			req->data = ~0ULL;
		return;
	}
	off = req->addr - dev->keys.base;
	if (req->dir == IOREQ_READ)
		req->data = virtio_rpmb_mmio_read(dev->vr, off, req->size);
	else
		virtio_rpmb_mmio_write(dev->vr, off, req->size, req->data);
}

static void handle_vcpu(struct guest *g, unsigned int vcpu)
{
	ioreq_t *shared = &g->iopage->vcpu_ioreq[vcpu];
	ioreq_t req;

	if (shared->state != STATE_IOREQ_READY)
		return;
	/* Read the request only after seeing READY... */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	req = *shared;
	shared->state = STATE_IOREQ_INPROCESS;
	dispatch(g, &req);
	shared->data = req.data;
	/* ...and publish the data before the guest can see the response. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	shared->state = STATE_IORESP_READY;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	xenevtchn_notify(g->d->xce, g->local_ports[vcpu]);
}

void guest_handle_port(struct daemon *d, evtchn_port_t port)
{
	for (struct guest *g = d->guests; g; g = g->next)
		for (unsigned int i = 0; i < g->nr_vcpus; i++)
			if (g->local_ports[i] == port) {
				handle_vcpu(g, i);
				return;
			}
}
