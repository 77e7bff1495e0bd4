/* SPDX-License-Identifier: MIT */
/*
 * A virtio-rpmb device (id 28) behind the virtio-mmio transport: what a
 * hypervisor backend creates per guest device and feeds register accesses
 * to. The backend owns the store and the host interface; both must outlive
 * the device.
 */
#ifndef VIRTIO_RPMB_H
#define VIRTIO_RPMB_H

#include <stdint.h>

#include "virtio-host.h"

#define VIRTIO_ID_RPMB		28
#define VIRTIO_MMIO_WINDOW_SIZE	0x200

struct rpmb_store;
struct virtio_rpmb;

/* Returns NULL on failure (logged). */
struct virtio_rpmb *virtio_rpmb_new(struct rpmb_store *store,
				    const struct virtio_host *host,
				    const char *name);
void virtio_rpmb_free(struct virtio_rpmb *vr);

/*
 * A guest access to the device's MMIO window: @offset from the window's
 * base, @size 1, 2, 4 or 8 bytes. Bad accesses are logged and ignored
 * (reads return 0); a notify may process requests before returning.
 */
uint64_t virtio_rpmb_mmio_read(struct virtio_rpmb *vr, uint64_t offset,
			       unsigned int size);
void virtio_rpmb_mmio_write(struct virtio_rpmb *vr, uint64_t offset,
			    unsigned int size, uint64_t value);

/* Device reset as if the driver wrote 0 to Status (e.g. guest went away). */
void virtio_rpmb_reset(struct virtio_rpmb *vr);

#endif /* VIRTIO_RPMB_H */
