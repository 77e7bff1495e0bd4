/* SPDX-License-Identifier: MIT */
/*
 * Decoding the addresses a guest's virtio driver hands the device.
 *
 * With grants (grant_usage=1), Linux's grant DMA layer
 * (drivers/xen/grant-dma-ops.c) gives out
 *     dma = (1 << 63) | (first_grant_ref << 12) | offset
 * and a buffer spanning several pages uses consecutive grant references.
 * Without grants the address is a guest-physical address.
 */
#ifndef BACKEND_GADDR_H
#define BACKEND_GADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define GADDR_PAGE_SHIFT	12
#define GADDR_PAGE_SIZE		(1u << GADDR_PAGE_SHIFT)
#define GADDR_GRANT_FLAG	(1ULL << 63)
/* Arm's largest physical address space is 52 bits. */
#define GADDR_GPA_LIMIT		(1ULL << 52)
/* No single virtio-rpmb buffer or ring needs more. */
#define GADDR_MAX_LEN		(1u << 20)

struct gaddr_pages {
	uint64_t first;		/* grant reference or guest frame number */
	unsigned int count;
	unsigned int offset;	/* of the start within the first page */
};

/* Returns 0, or -EINVAL if the range is not something we may map. */
int gaddr_decode(bool grants, uint64_t addr, size_t len,
		 struct gaddr_pages *out);

#endif /* BACKEND_GADDR_H */
