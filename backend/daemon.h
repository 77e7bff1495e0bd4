/* SPDX-License-Identifier: MIT */
/*
 * State of the running daemon: the Xen library handles, every guest we
 * serve (one ioreq server and one event channel handle each) and every
 * device (one MMIO window each). Nothing here is global: any number of
 * guests and devices live side by side in one process and one thread.
 */
#ifndef BACKEND_DAEMON_H
#define BACKEND_DAEMON_H

#include <stdbool.h>
#include <stdint.h>

#include <xendevicemodel.h>
#include <xenevtchn.h>
#include <xenforeignmemory.h>
#include <xengnttab.h>
#include <xenstore.h>

#include "config.h"
#include "log.h"
#include "dev-state.h"
#include "virtio-host.h"
#include "xs-keys.h"

/* libxl hands out one SPI per device from 33..43. */
#define MAX_DEVICES_PER_GUEST	(VIRTIO_MMIO_SPI_LAST - VIRTIO_MMIO_SPI_FIRST + 1)

struct daemon;
struct guest;

/* What an epoll event points at. */
enum loop_src_type { SRC_XS, SRC_SIGNAL, SRC_TIMER, SRC_GUEST };

struct loop_src {
	enum loop_src_type type;
	struct guest *guest;		/* SRC_GUEST only */
};

struct device {
	struct daemon *d;
	struct guest *guest;		/* NULL unless SERVING */
	enum dev_local local;		/* SERVING or FAILED */
	struct vdev_keys keys;
	char path[128];			/* backend directory in xenstore */
	char name[32];			/* "dom<F>/rpmb<devid>", for logs */
	char store_path[512];
	struct rpmb_store *store;
	struct virtio_dev *vdev;		/* the device model */
	struct virtio_mmio *vm;		/* its transport */
	struct virtio_host host;
	unsigned int failures;		/* FAILED: setups failed in a row */
	uint64_t retry_at;		/* FAILED: monotonic ms */
	struct device *next;		/* guest->devices or d->failed */
};

struct guest {
	struct daemon *d;
	unsigned int domid;
	struct guest_log log;		/* what its ioreqs make us say */
	bool dead;			/* torn down; freed after this batch */

	/* Ioreq server (ioreq.c). */
	ioservid_t ioservid;
	bool server_created;
	xenforeignmemory_resource_handle *iopage_res;
	struct shared_iopage *iopage;
	unsigned int nr_vcpus;

	/*
	 * One event channel handle per guest: its fd in epoll points
	 * straight at this guest, closing it drops every binding at once,
	 * and one busy guest cannot hide another's ports behind its own in
	 * a shared pending queue. xenevtchn_pending() gives a local port;
	 * local_ports[] maps it back to the vCPU.
	 */
	xenevtchn_handle *xce;
	evtchn_port_t *local_ports;	/* one per vCPU */
	bool *port_bound;
	struct loop_src src;

	struct device *devices;
	unsigned int ndevices;
	struct guest *next;
};

struct daemon {
	struct config cfg;
	const char *config_path;
	unsigned int self_domid;
	char root[64];			/* /local/domain/<self>/backend/virtio */

	struct xs_handle *xs;
	xendevicemodel_handle *xdm;
	xenforeignmemory_handle *xfm;
	xengnttab_handle *xgt;

	struct guest *guests;
	struct guest *zombies;		/* torn down during this batch */
	struct device *failed;		/* setup failed; see dev-state.h */

	int epoll_fd;
	int signal_fd;
	int timer_fd;
	struct loop_src src_xs, src_signal, src_timer;
	bool stopping;
};

/* guest-mem.c: the virtio_host a device gets. */
void guest_mem_init_host(struct device *dev);

/* ioreq.c */
struct guest *guest_get(struct daemon *d, unsigned int domid);
void guest_put_if_unused(struct guest *g);
int guest_map_window(struct guest *g, struct device *dev);
void guest_unmap_window(struct guest *g, struct device *dev);
void guest_on_event(struct guest *g);
void guests_reap(struct daemon *d);

/* device.c: xenstore-driven lifecycle. */
void devices_scan(struct daemon *d);
void devices_on_watch(struct daemon *d, const char *path);
void devices_check_dead_guests(struct daemon *d);
void devices_teardown_all(struct daemon *d);
void devices_retry_failed(struct daemon *d, bool all);

/* loop.c */
int loop_add_guest(struct daemon *d, struct guest *g);
void loop_del_guest(struct daemon *d, struct guest *g);
int daemon_run(struct daemon *d);

/* main.c: SIGHUP. */
void daemon_reload(struct daemon *d);

#endif /* BACKEND_DAEMON_H */
