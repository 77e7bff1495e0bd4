/* SPDX-License-Identifier: MIT */
/*
 * Classifying one ioreq the hypervisor forwarded to us. Pure, so it can
 * be tested without Xen. The ioreq_t fields are written by Xen, not the
 * guest, but they describe a guest access: checked anyway.
 */
#ifndef BACKEND_IOREQ_REQ_H
#define BACKEND_IOREQ_REQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <xen/xen.h>
#include <xen/hvm/ioreq.h>

enum ioreq_kind {
	IOREQ_KIND_MMIO,	/* a plain 1/2/4/8-byte MMIO access */
	IOREQ_KIND_INVALIDATE,	/* mapcache invalidation: complete, no-op */
	IOREQ_KIND_BAD,		/* anything else: complete, reads give ~0 */
};

enum ioreq_kind ioreq_classify(const ioreq_t *req);

/*
 * How many vCPU slots a mapped shared_iopage_t holds: a guest with more
 * vCPUs than that cannot be served through one page (Xen's limit is the
 * same page, so this only guards against a nonsense vCPU count).
 */
#define IOREQ_PAGE_SIZE		4096u
#define IOREQ_MAX_VCPUS		(IOREQ_PAGE_SIZE / sizeof(ioreq_t))

#endif /* BACKEND_IOREQ_REQ_H */
