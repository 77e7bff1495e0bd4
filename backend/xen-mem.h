/* SPDX-License-Identifier: MIT */
/*
 * A device's view of its guest through Xen: guest memory through grant
 * mappings (grant_usage=1) or foreign mappings of guest frames, and its
 * SPI, as the virtio_host ops the shared virtio code uses. The handles
 * are the worker's, restricted to the guest's domain where Xen allows.
 */
#ifndef BACKEND_XEN_MEM_H
#define BACKEND_XEN_MEM_H

#include <stdbool.h>

#include "virtio-host.h"
#include "xen-handles.h"

/* Fills @host for one device of @domid; 0 or -ENOMEM. */
int xen_mem_new(const struct xen_handles *h, unsigned int domid, bool grants,
		unsigned int irq, const char *label, struct virtio_host *host);
void xen_mem_free(struct virtio_host *host);

#endif /* BACKEND_XEN_MEM_H */
