// SPDX-License-Identifier: MIT
/*
 * One ioreq server per guest, shared by all of its devices: Xen allows
 * only MAX_NR_IOREQ_SERVERS (8) per domain, and other emulators may need
 * some. Each device claims its 0x200-byte window in it.
 *
 * Order of calls (what Xen needs, as in QEMU's xen-hvm-common.c and the
 * virtio-disk backend): create -> map the ioreq page -> enable (the vCPU
 * event channel ports, vp_eport, are only filled in once enabled) -> bind
 * one port per vCPU -> claim ranges. Teardown is the reverse: unbind ->
 * disable -> unmap the page -> destroy. A server left behind keeps the
 * guest's accesses to its ranges waiting, and a destroyed guest would stay
 * "dying" while our mapping of its page lives.
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

#include "daemon.h"
#include "ioreq-req.h"
#include "log.h"
#include "virtio-mmio.h"

/* On Arm builds, check the copied layout constants against Xen's own. */
#ifdef GUEST_VIRTIO_MMIO_BASE
_Static_assert(GUEST_VIRTIO_MMIO_BASE == VIRTIO_MMIO_BASE_FIRST, "base");
_Static_assert(GUEST_VIRTIO_MMIO_SIZE == VIRTIO_MMIO_AREA_SIZE, "size");
_Static_assert(GUEST_VIRTIO_MMIO_SPI_FIRST == VIRTIO_MMIO_SPI_FIRST, "spi");
_Static_assert(GUEST_VIRTIO_MMIO_SPI_LAST == VIRTIO_MMIO_SPI_LAST, "spi");
#endif
_Static_assert(VIRTIO_MMIO_DEV_SIZE == VIRTIO_MMIO_WINDOW_SIZE, "window");

/*
 * Xen on Arm has no buffered ioreqs: ioreq_server_create() refuses any
 * other mode there (xen/common/ioreq.c), and QEMU's Arm machine says the
 * same. Every access is a synchronous ioreq.
 */
#define BUFIOREQ_MODE	HVM_IOREQSRV_BUFIOREQ_OFF

static void barrier(void)
{
	/* xen_mb(): "dmb sy" on aarch64, mfence on x86. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
}

static void guest_release(struct guest *g)
{
	struct daemon *d = g->d;

	if (g->xce) {
		loop_del_guest(d, g);
		for (unsigned int i = 0; i < g->nr_vcpus; i++)
			if (g->port_bound[i])
				xenevtchn_unbind(g->xce, g->local_ports[i]);
	}
	if (g->server_created)
		xendevicemodel_set_ioreq_server_state(d->xdm, g->domid,
						      g->ioservid, 0);
	if (g->iopage_res)
		xenforeignmemory_unmap_resource(d->xfm, g->iopage_res);
	if (g->server_created &&
	    xendevicemodel_destroy_ioreq_server(d->xdm, g->domid, g->ioservid) &&
	    errno != ESRCH)
		log_warn("dom%u: cannot destroy ioreq server %u: %m", g->domid,
			 g->ioservid);
	if (g->xce)
		xenevtchn_close(g->xce);
	g->xce = NULL;
	g->iopage_res = NULL;
	g->iopage = NULL;
	g->server_created = false;
}

/*
 * A previous run of this daemon that died without tearing down (crash,
 * SIGKILL) left its server behind, still claiming the device windows:
 * our map_io_range would fail with EEXIST. Only the emulating domain may
 * destroy a server (ioreq_server_destroy: -EPERM otherwise), and that is
 * still us, so destroy it by the id we left in the device directories.
 * Done for all of the guest's devices at once, before we create our own
 * server, so that an id can never be confused with a newer one. The
 * single-instance lock (main.c) makes sure the old owner is really gone.
 */
static void destroy_stale_servers(struct daemon *d, unsigned int domid)
{
	char dir[128], path[192];
	uint16_t ids[MAX_DEVICES_PER_GUEST];
	unsigned int n = 0, ndev, len;
	char **devs;

	snprintf(dir, sizeof(dir), "%s/%u", d->root, domid);
	devs = xs_directory(d->xs, XBT_NULL, dir, &ndev);
	for (unsigned int i = 0; devs && i < ndev; i++) {
		uint16_t id;
		char *v;
		bool seen = false;

		snprintf(path, sizeof(path), "%s/%s/%s", dir, devs[i],
			 XS_KEY_IOSERVID);
		v = xs_read(d->xs, XBT_NULL, path, &len);
		if (!v)
			continue;
		if (!vdev_parse_ioservid(v, &id)) {
			for (unsigned int j = 0; j < n; j++)
				seen |= ids[j] == id;
			if (!seen && n < MAX_DEVICES_PER_GUEST)
				ids[n++] = id;
		}
		free(v);
		xs_rm(d->xs, XBT_NULL, path);
	}
	free(devs);
	for (unsigned int j = 0; j < n; j++) {
		if (xendevicemodel_destroy_ioreq_server(d->xdm, domid, ids[j]))
			log_debug("dom%u: no stale ioreq server %u (%m)", domid,
				  ids[j]);
		else
			log_warn("dom%u: destroyed ioreq server %u left by a previous run",
				 domid, ids[j]);
	}
}

static int guest_setup(struct guest *g)
{
	struct daemon *d = g->d;
	void *page = NULL;

	if (xendevicemodel_nr_vcpus(d->xdm, g->domid, &g->nr_vcpus) ||
	    !g->nr_vcpus || g->nr_vcpus > IOREQ_MAX_VCPUS) {
		log_err("dom%u: cannot get a usable number of vCPUs (%u): %m",
			g->domid, g->nr_vcpus);
		return -1;
	}
	g->local_ports = calloc(g->nr_vcpus, sizeof(*g->local_ports));
	g->port_bound = calloc(g->nr_vcpus, sizeof(*g->port_bound));
	g->xce = xenevtchn_open(NULL, 0);
	if (!g->local_ports || !g->port_bound || !g->xce) {
		log_err("dom%u: cannot open an event channel handle: %m",
			g->domid);
		return -1;
	}
	destroy_stale_servers(d, g->domid);
	if (xendevicemodel_create_ioreq_server(d->xdm, g->domid, BUFIOREQ_MODE,
					       &g->ioservid)) {
		log_err("dom%u: cannot create ioreq server: %m (is Xen built with CONFIG_IOREQ_SERVER? is this domain allowed device-model operations on it?)",
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
		/* Valid only now that the server is enabled. */
		evtchn_port_t remote = g->iopage->vcpu_ioreq[i].vp_eport;
		xenevtchn_port_or_error_t port =
			xenevtchn_bind_interdomain(g->xce, g->domid, remote);

		if (port < 0) {
			log_err("dom%u: cannot bind vCPU %u event channel %u: %m",
				g->domid, i, remote);
			return -1;
		}
		g->local_ports[i] = (evtchn_port_t)port;
		g->port_bound[i] = true;
	}
	if (loop_add_guest(d, g)) {
		log_err("dom%u: cannot watch its event channels: %m", g->domid);
		return -1;
	}
	log_info("dom%u: ioreq server %u with %u vCPU(s)", g->domid,
		 g->ioservid, g->nr_vcpus);
	return 0;
}

static void guest_free(struct guest *g)
{
	guest_log_fini(&g->log);
	free(g->local_ports);
	free(g->port_bound);
	free(g);
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
	{
		char who[32];

		snprintf(who, sizeof(who), "dom%u", domid);
		guest_log_init(&g->log, who);
	}
	g->src.type = SRC_GUEST;
	g->src.guest = g;
	if (guest_setup(g)) {
		guest_release(g);
		guest_free(g);
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
	guest_release(g);
	/* An event for it may still be in this epoll batch: free later. */
	g->dead = true;
	g->next = g->d->zombies;
	g->d->zombies = g;
}

void guests_reap(struct daemon *d)
{
	while (d->zombies) {
		struct guest *g = d->zombies;

		d->zombies = g->next;
		guest_free(g);
	}
}

int guest_map_window(struct guest *g, struct device *dev)
{
	uint64_t base = dev->keys.base;

	if (xendevicemodel_map_io_range_to_ioreq_server(
		    g->d->xdm, g->domid, g->ioservid, 1, base,
		    base + VIRTIO_MMIO_DEV_SIZE - 1)) {
		log_err("%s: cannot claim MMIO %#llx..%#llx: %m%s", dev->name,
			(unsigned long long)base,
			(unsigned long long)base + VIRTIO_MMIO_DEV_SIZE - 1,
			errno == EEXIST ? " (another ioreq server has it)" : "");
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

static struct device *device_at(struct guest *g, uint64_t addr,
				unsigned int size)
{
	uint64_t bases[MAX_DEVICES_PER_GUEST];
	struct device *devs[MAX_DEVICES_PER_GUEST];
	size_t n = 0;
	int i;

	for (struct device *dev = g->devices; dev && n < MAX_DEVICES_PER_GUEST;
	     dev = dev->next) {
		bases[n] = dev->keys.base;
		devs[n++] = dev;
	}
	i = ioreq_find_window(bases, n, VIRTIO_MMIO_DEV_SIZE, addr, size);
	return i < 0 ? NULL : devs[i];
}

static void dispatch(struct guest *g, ioreq_t *req)
{
	struct device *dev;
	uint64_t off;

	switch (ioreq_classify(req)) {
	case IOREQ_KIND_INVALIDATE:
		return;		/* we keep no mapcache to invalidate */
	case IOREQ_KIND_BAD:
		guest_log(&g->log, "unsupported ioreq type %u size %u count %u ptr %u",
			  req->type, req->size, req->count,
			  req->data_is_ptr);
		if (req->dir == IOREQ_READ)
			req->data = ~0ULL;
		return;
	case IOREQ_KIND_MMIO:
		break;
	}
	dev = device_at(g, req->addr, req->size);
	if (!dev) {
		guest_log(&g->log, "access to unclaimed address %#llx size %u",
			  (unsigned long long)req->addr, req->size);
		if (req->dir == IOREQ_READ)
			req->data = ~0ULL;
		return;
	}
	off = req->addr - dev->keys.base;
	if (req->dir == IOREQ_READ)
		req->data = virtio_mmio_read(dev->vm, off, req->size);
	else
		virtio_mmio_write(dev->vm, off, req->size, req->data);
}

static void handle_vcpu(struct guest *g, unsigned int vcpu)
{
	ioreq_t *shared = &g->iopage->vcpu_ioreq[vcpu];
	ioreq_t req;

	/* Spurious or stale notification: nothing is waiting. */
	if (shared->state != STATE_IOREQ_READY)
		return;
	/* Read the request only after seeing READY (xen_rmb)... */
	barrier();
	memcpy(&req, shared, sizeof(req));
	shared->state = STATE_IOREQ_INPROCESS;
	dispatch(g, &req);
	shared->data = req.data;
	/* ...and publish the data before the state (xen_wmb). */
	barrier();
	shared->state = STATE_IORESP_READY;
	barrier();
	xenevtchn_notify(g->xce, g->local_ports[vcpu]);
}

void guest_on_event(struct guest *g)
{
	xenevtchn_port_or_error_t port;

	if (g->dead || !g->xce)
		return;
	/* The fd reports one pending port per read (and is level-ready). */
	port = xenevtchn_pending(g->xce);
	if (port < 0)
		return;
	/* Unmask first: a notification arriving meanwhile is not lost. */
	xenevtchn_unmask(g->xce, (evtchn_port_t)port);
	for (unsigned int i = 0; i < g->nr_vcpus; i++) {
		if (g->port_bound[i] && g->local_ports[i] == (evtchn_port_t)port) {
			handle_vcpu(g, i);
			return;
		}
	}
}
