// SPDX-License-Identifier: MIT
#include <errno.h>
#include <stdlib.h>

#include "sim-guest.h"

static bool in_ram(const struct sim_guest *g, uint64_t addr, size_t len)
{
	return addr >= g->base && len <= g->size &&
	       addr - g->base <= g->size - len;
}

static bool overlaps_ro(const struct sim_guest *g, uint64_t addr, size_t len)
{
	return g->ro_len && addr < g->ro_start + g->ro_len &&
	       g->ro_start < addr + len;
}

static int sim_map(void *opaque, uint64_t addr, size_t len,
		   enum guest_access access, struct guest_mapping *map)
{
	struct sim_guest *g = opaque;

	g->maps++;
	if (!len || !in_ram(g, addr, len) ||
	    ((access & GUEST_ACCESS_WRITE) && overlaps_ro(g, addr, len))) {
		g->refused++;
		return -EFAULT;
	}
	map->ptr = g->ram + (addr - g->base);
	map->cookie = g;
	g->live_maps++;
	return 0;
}

static void sim_unmap(void *opaque, struct guest_mapping *map)
{
	struct sim_guest *g = opaque;

	if (map->cookie == g)
		g->live_maps--;
	map->ptr = NULL;
	map->cookie = NULL;
}

static void sim_set_irq(void *opaque, int level)
{
	struct sim_guest *g = opaque;

	if (level && !g->irq_level)
		g->irq_raises++;
	g->irq_level = level;
}

static const struct virtio_host_ops sim_ops = {
	.map = sim_map,
	.unmap = sim_unmap,
	.set_irq = sim_set_irq,
};

struct sim_guest *sim_guest_new(uint64_t base, size_t size)
{
	uint8_t *ram = calloc(1, size);
	struct sim_guest *g = ram ? sim_guest_wrap(ram, base, size) : NULL;

	if (!g)
		free(ram);
	return g;
}

struct sim_guest *sim_guest_wrap(uint8_t *ram, uint64_t base, size_t size)
{
	struct sim_guest *g = calloc(1, sizeof(*g));

	if (!g)
		return NULL;
	g->ram = ram;
	g->base = base;
	g->size = size;
	g->host.ops = &sim_ops;
	g->host.opaque = g;
	return g;
}

void sim_guest_unwrap(struct sim_guest *g)
{
	free(g);
}

void sim_guest_free(struct sim_guest *g)
{
	if (!g)
		return;
	free(g->ram);
	free(g);
}

void *sim_guest_ptr(struct sim_guest *g, uint64_t addr)
{
	return in_ram(g, addr, 1) ? g->ram + (addr - g->base) : NULL;
}
