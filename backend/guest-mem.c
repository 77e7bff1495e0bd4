// SPDX-License-Identifier: MIT
/*
 * Guest memory for the shared virtio code: grant mappings when the guest
 * uses grant DMA (grant_usage=1), foreign mappings of guest frames
 * otherwise. Each map call maps exactly the pages the range touches.
 */
#include <errno.h>
#include <stdlib.h>
#include <sys/mman.h>

#include "daemon.h"
#include "gaddr.h"
#include "log.h"
#include "virtio.h"

struct mapping_cookie {
	void *base;
	unsigned int count;
};

static int prot_for(enum guest_access access)
{
	/* Buffers the guest granted read-only cannot be mapped writable. */
	return (access & GUEST_ACCESS_WRITE) ? PROT_READ | PROT_WRITE : PROT_READ;
}

static void *map_grants(struct device *dev, const struct gaddr_pages *p,
			int prot)
{
	uint32_t refs[GADDR_MAX_LEN / GADDR_PAGE_SIZE + 1];

	for (unsigned int i = 0; i < p->count; i++)
		refs[i] = (uint32_t)(p->first + i);
	return xengnttab_map_domain_grant_refs(dev->guest->d->xgt, p->count,
					       dev->keys.frontend_id, refs, prot);
}

static void *map_foreign(struct device *dev, const struct gaddr_pages *p,
			 int prot)
{
	xen_pfn_t pfns[GADDR_MAX_LEN / GADDR_PAGE_SIZE + 1];
	int errs[GADDR_MAX_LEN / GADDR_PAGE_SIZE + 1];
	void *base;

	for (unsigned int i = 0; i < p->count; i++)
		pfns[i] = (xen_pfn_t)(p->first + i);
	base = xenforeignmemory_map(dev->guest->d->xfm, dev->keys.frontend_id,
				    prot, p->count, pfns, errs);
	if (!base)
		return NULL;
	for (unsigned int i = 0; i < p->count; i++) {
		if (errs[i]) {
			xenforeignmemory_unmap(dev->guest->d->xfm, base, p->count);
			errno = -errs[i];
			return NULL;
		}
	}
	return base;
}

static int gm_map(void *opaque, uint64_t addr, size_t len,
		  enum guest_access access, struct guest_mapping *map)
{
	struct device *dev = opaque;
	struct mapping_cookie *c;
	struct gaddr_pages pages;
	void *base;

	if (gaddr_decode(dev->keys.grants, addr, len, &pages)) {
		guest_log(&dev->vdev->log, "address %#llx+%zu is not a valid %s address",
			  (unsigned long long)addr, len,
			  dev->keys.grants ? "grant" : "guest-physical");
		return -EINVAL;
	}
	c = malloc(sizeof(*c));
	if (!c)
		return -ENOMEM;
	base = dev->keys.grants ? map_grants(dev, &pages, prot_for(access)) :
				  map_foreign(dev, &pages, prot_for(access));
	if (!base) {
		guest_log(&dev->vdev->log, "cannot map %#llx+%zu: %m",
			  (unsigned long long)addr, len);
		free(c);
		return -EFAULT;
	}
	c->base = base;
	c->count = pages.count;
	map->ptr = (uint8_t *)base + pages.offset;
	map->cookie = c;
	return 0;
}

static void gm_unmap(void *opaque, struct guest_mapping *map)
{
	struct device *dev = opaque;
	struct mapping_cookie *c = map->cookie;

	if (!c)
		return;
	if (dev->keys.grants)
		xengnttab_unmap(dev->guest->d->xgt, c->base, c->count);
	else
		xenforeignmemory_unmap(dev->guest->d->xfm, c->base, c->count);
	free(c);
	map->ptr = NULL;
	map->cookie = NULL;
}

static void gm_set_irq(void *opaque, int level)
{
	struct device *dev = opaque;

	if (xendevicemodel_set_irq_level(dev->guest->d->xdm,
					 dev->keys.frontend_id, dev->keys.irq,
					 level))
		log_warn("dom%u: cannot set SPI %u to %d: %m",
			 dev->keys.frontend_id, dev->keys.irq, level);
}

static const struct virtio_host_ops xen_host_ops = {
	.map = gm_map,
	.unmap = gm_unmap,
	.set_irq = gm_set_irq,
};

void guest_mem_init_host(struct device *dev)
{
	dev->host.ops = &xen_host_ops;
	dev->host.opaque = dev;
}
