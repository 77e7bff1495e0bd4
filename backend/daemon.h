/* SPDX-License-Identifier: MIT */
/*
 * State of the running daemon: the Xen library handles, every guest we
 * serve (one ioreq server each) and every device (one MMIO window each).
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
#include "virtio-host.h"
#include "xs-keys.h"

#define MAX_DEVICES_PER_GUEST	(VIRTIO_MMIO_SPI_LAST - VIRTIO_MMIO_SPI_FIRST + 1)

struct daemon;
struct guest;

struct device {
	struct guest *guest;
	struct vdev_keys keys;
	char path[128];		/* backend directory in xenstore */
	char store_path[512];
	struct rpmb_store *store;
	struct virtio_rpmb *vr;
	struct virtio_host host;
	struct device *next;
};

struct guest {
	struct daemon *d;
	unsigned int domid;
	ioservid_t ioservid;
	bool server_created;
	xenforeignmemory_resource_handle *iopage_res;
	struct shared_iopage *iopage;
	unsigned int nr_vcpus;
	evtchn_port_t *local_ports;	/* one per vCPU; 0 if unbound */
	struct device *devices;
	struct guest *next;
};

struct daemon {
	struct config cfg;
	const char *config_path;
	unsigned int self_domid;
	char root[64];			/* /local/domain/<self>/backend/virtio */

	struct xs_handle *xs;
	xenevtchn_handle *xce;
	xendevicemodel_handle *xdm;
	xenforeignmemory_handle *xfm;
	xengnttab_handle *xgt;

	struct guest *guests;
	int epoll_fd;
	int signal_fd;
	int timer_fd;
	bool stopping;
};

/* guest-mem.c: the virtio_host a device gets. */
void guest_mem_init_host(struct device *dev);

/* ioreq.c */
struct guest *guest_get(struct daemon *d, unsigned int domid);
void guest_put_if_unused(struct guest *g);
int guest_map_window(struct guest *g, struct device *dev);
void guest_unmap_window(struct guest *g, struct device *dev);
void guest_handle_port(struct daemon *d, evtchn_port_t port);

/* device.c: xenstore-driven lifecycle. */
void devices_scan(struct daemon *d);
void devices_on_watch(struct daemon *d, const char *path);
void devices_check_dead_guests(struct daemon *d);
void devices_teardown_all(struct daemon *d);

/* loop.c */
int daemon_run(struct daemon *d);

/* main.c: SIGHUP. */
void daemon_reload(struct daemon *d);

#endif /* BACKEND_DAEMON_H */
