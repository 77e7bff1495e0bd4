// SPDX-License-Identifier: MIT
/*
 * Each map call maps exactly the pages the range touches, for exactly
 * the access asked (buffers a guest granted read-only cannot be mapped
 * writable), and unmap gives them back at once: Xen's grant mappings
 * must be gone before the guest may reuse the grant.
 */
#include <errno.h>
#include <stdlib.h>
#include <sys/mman.h>

#include "gaddr.h"
#include "log.h"
#include "xen-mem.h"

struct xen_mem {
	struct xen_handles h;
	unsigned int domid;
	bool grants;
	unsigned int irq;
	struct guest_log log;
};

struct mapping_cookie {
	void *base;
	unsigned int count;
};

static int prot_for(enum guest_access access)
{
	return (access & GUEST_ACCESS_WRITE) ? PROT_READ | PROT_WRITE : PROT_READ;
}

static void *map_grants(struct xen_mem *m, const struct gaddr_pages *p,
			int prot)
{
	uint32_t refs[GADDR_MAX_LEN / GADDR_PAGE_SIZE + 1];

	for (unsigned int i = 0; i < p->count; i++)
		refs[i] = (uint32_t)(p->first + i);
	return xengnttab_map_domain_grant_refs(m->h.xgt, p->count, m->domid,
					       refs, prot);
}

static void *map_foreign(struct xen_mem *m, const struct gaddr_pages *p,
			 int prot)
{
	xen_pfn_t pfns[GADDR_MAX_LEN / GADDR_PAGE_SIZE + 1];
	int errs[GADDR_MAX_LEN / GADDR_PAGE_SIZE + 1];
	void *base;

	for (unsigned int i = 0; i < p->count; i++)
		pfns[i] = (xen_pfn_t)(p->first + i);
	base = xenforeignmemory_map(m->h.xfm, m->domid, prot, p->count, pfns,
				    errs);
	if (!base)
		return NULL;
	for (unsigned int i = 0; i < p->count; i++) {
		if (errs[i]) {
			xenforeignmemory_unmap(m->h.xfm, base, p->count);
			errno = -errs[i];
			return NULL;
		}
	}
	return base;
}

static int xm_map(void *opaque, uint64_t addr, size_t len,
		  enum guest_access access, struct guest_mapping *map)
{
	struct xen_mem *m = opaque;
	struct mapping_cookie *c;
	struct gaddr_pages pages;
	void *base;

	if (gaddr_decode(m->grants, addr, len, &pages)) {
		guest_log(&m->log, "address %#llx+%zu is not a valid %s address",
			  (unsigned long long)addr, len,
			  m->grants ? "grant" : "guest-physical");
		return -EINVAL;
	}
	c = malloc(sizeof(*c));
	if (!c)
		return -ENOMEM;
	base = m->grants ? map_grants(m, &pages, prot_for(access)) :
			   map_foreign(m, &pages, prot_for(access));
	if (!base) {
		guest_log(&m->log, "cannot map %#llx+%zu: %m",
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

static void xm_unmap(void *opaque, struct guest_mapping *map)
{
	struct xen_mem *m = opaque;
	struct mapping_cookie *c = map->cookie;

	if (!c)
		return;
	if (m->grants)
		xengnttab_unmap(m->h.xgt, c->base, c->count);
	else
		xenforeignmemory_unmap(m->h.xfm, c->base, c->count);
	free(c);
	map->ptr = NULL;
	map->cookie = NULL;
}

static void xm_set_irq(void *opaque, int level)
{
	struct xen_mem *m = opaque;

	if (xendevicemodel_set_irq_level(m->h.xdm, m->domid, m->irq, level))
		log_warn("%s: cannot set SPI %u to %d: %m", m->log.who, m->irq,
			 level);
}

static const struct virtio_host_ops xen_mem_ops = {
	.map = xm_map,
	.unmap = xm_unmap,
	.set_irq = xm_set_irq,
};

int xen_mem_new(const struct xen_handles *h, unsigned int domid, bool grants,
		unsigned int irq, const char *label, struct virtio_host *host)
{
	struct xen_mem *m = calloc(1, sizeof(*m));

	if (!m)
		return -ENOMEM;
	m->h = *h;
	m->domid = domid;
	m->grants = grants;
	m->irq = irq;
	guest_log_init(&m->log, label);
	host->ops = &xen_mem_ops;
	host->opaque = m;
	return 0;
}

void xen_mem_free(struct virtio_host *host)
{
	struct xen_mem *m = host->opaque;

	if (!m)
		return;
	guest_log_fini(&m->log);
	free(m);
	host->opaque = NULL;
}
