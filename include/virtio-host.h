/* SPDX-License-Identifier: MIT */
/*
 * What a hypervisor backend provides to the shared virtio code: access to
 * guest memory, the device's interrupt line, and (optionally) somewhere
 * to serve queues other than the vCPU's path. Nothing else crosses.
 *
 * Guest addresses are the "DMA addresses" the guest's driver put in the
 * queue registers and descriptors: guest-physical addresses, or grant
 * addresses on Xen, or anything else the backend knows how to translate.
 */
#ifndef VIRTIO_HOST_H
#define VIRTIO_HOST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum guest_access {
	GUEST_ACCESS_READ = 1,
	GUEST_ACCESS_WRITE = 2,
	GUEST_ACCESS_RW = 3,
};

struct guest_mapping {
	void *ptr;		/* host view of [addr, addr + len) */
	void *cookie;		/* backend-private, handed back on unmap */
};

struct virtio_host_ops {
	/*
	 * Maps @len bytes of guest memory at @addr for @access. Returns 0 and
	 * fills @map, or a negative errno when the range is not (entirely)
	 * accessible: the caller treats that as a guest error, never fatal.
	 */
	int (*map)(void *opaque, uint64_t addr, size_t len,
		   enum guest_access access, struct guest_mapping *map);
	void (*unmap)(void *opaque, struct guest_mapping *map);

	/* Drives the device's interrupt line (level: 1 raised, 0 lowered). */
	void (*set_irq)(void *opaque, int level);

	/*
	 * Optional. The driver notified queue @queue: arrange for the
	 * transport's serve call to run soon, on a thread of the backend's
	 * own, and return at once, so that the guest's vCPU never waits for
	 * the device's work (a store's fsync). NULL: the queue is served
	 * inside the notify (tests, simple hosts).
	 */
	void (*kick)(void *opaque, unsigned int queue);
};

struct virtio_host {
	const struct virtio_host_ops *ops;
	void *opaque;
};

#endif /* VIRTIO_HOST_H */
