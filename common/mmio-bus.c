// SPDX-License-Identifier: MIT
/*
 * The window table of one guest and the glue between its transports and
 * the service pool: each device gets a virtio_host whose memory and
 * interrupt ops are the hypervisor's and whose kick puts the queue in
 * the pool's line.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "mmio-bus.h"
#include "service-pool.h"
#include "virtio-mmio.h"

struct bus_dev;

/* One queue as the pool sees it. */
struct bus_queue {
	struct service_item item;
	struct bus_dev *bd;
	unsigned int index;
};

struct bus_dev {
	uint64_t base;
	struct virtio_dev *dev;
	struct virtio_mmio *vm;
	struct virtio_host mem;		/* the hypervisor's ops */
	struct virtio_host host;	/* what the transport gets */
	struct mmio_bus *bus;
	struct bus_queue queues[VIRTIO_MAX_QUEUES];
};

struct mmio_bus {
	struct guest_log log;		/* accesses that hit no window */
	struct service_pool *pool;
	unsigned int ndevs;
	struct bus_dev *devs[MMIO_BUS_MAX_DEVICES];
	uint64_t bases[MMIO_BUS_MAX_DEVICES];
};

int mmio_find_window(const uint64_t *bases, unsigned int n, uint64_t win_size,
		     uint64_t addr, unsigned int size)
{
	for (unsigned int i = 0; i < n; i++) {
		if (addr < bases[i])
			continue;
		/* addr - base cannot overflow; compare lengths, not ends. */
		if (addr - bases[i] < win_size &&
		    size <= win_size - (addr - bases[i]))
			return (int)i;
	}
	return -1;
}

static int bd_map(void *opaque, uint64_t addr, size_t len,
		  enum guest_access access, struct guest_mapping *map)
{
	struct bus_dev *bd = opaque;

	return bd->mem.ops->map(bd->mem.opaque, addr, len, access, map);
}

static void bd_unmap(void *opaque, struct guest_mapping *map)
{
	struct bus_dev *bd = opaque;

	bd->mem.ops->unmap(bd->mem.opaque, map);
}

static void bd_set_irq(void *opaque, int level)
{
	struct bus_dev *bd = opaque;

	bd->mem.ops->set_irq(bd->mem.opaque, level);
}

static void bd_kick(void *opaque, unsigned int queue)
{
	struct bus_dev *bd = opaque;

	service_pool_kick(bd->bus->pool, &bd->queues[queue].item);
}

static const struct virtio_host_ops bus_host_ops = {
	.map = bd_map,
	.unmap = bd_unmap,
	.set_irq = bd_set_irq,
	.kick = bd_kick,
};

static bool serve_queue(void *opaque, unsigned int budget)
{
	struct bus_queue *q = opaque;

	return virtio_mmio_serve(q->bd->vm, q->index, budget);
}

struct mmio_bus *mmio_bus_new(const char *label, unsigned int nthreads,
			      unsigned int batch)
{
	struct mmio_bus *bus = calloc(1, sizeof(*bus));

	if (!bus)
		return NULL;
	guest_log_init(&bus->log, label);
	bus->pool = service_pool_new(nthreads, batch);
	if (!bus->pool) {
		guest_log_fini(&bus->log);
		free(bus);
		return NULL;
	}
	return bus;
}

/* Returns the device, no longer reachable from the bus. */
static struct virtio_dev *bus_dev_free(struct mmio_bus *bus, struct bus_dev *bd)
{
	struct virtio_dev *dev = bd->dev;

	/* The transport first stops taking chains and waits for one in hand... */
	virtio_mmio_reset(bd->vm);
	/* ...then the pool lets go of the queues... */
	for (unsigned int i = 0; i < VIRTIO_MAX_QUEUES; i++)
		service_pool_cancel(bus->pool, &bd->queues[i].item);
	/* ...and nothing can reach the device any more. */
	virtio_mmio_free(bd->vm);
	free(bd);
	return dev;
}

void mmio_bus_free(struct mmio_bus *bus)
{
	if (!bus)
		return;
	while (bus->ndevs)
		virtio_dev_destroy(mmio_bus_remove(bus, bus->bases[bus->ndevs - 1]));
	service_pool_free(bus->pool);
	guest_log_fini(&bus->log);
	free(bus);
}

int mmio_bus_add(struct mmio_bus *bus, uint64_t base, struct virtio_dev *dev,
		 const struct virtio_host *mem)
{
	struct bus_dev *bd;

	if (bus->ndevs == MMIO_BUS_MAX_DEVICES)
		return -ENOSPC;
	if (base + VIRTIO_MMIO_WINDOW_SIZE < base ||
	    mmio_find_window(bus->bases, bus->ndevs, VIRTIO_MMIO_WINDOW_SIZE,
			     base, 1) >= 0 ||
	    mmio_find_window(bus->bases, bus->ndevs, VIRTIO_MMIO_WINDOW_SIZE,
			     base + VIRTIO_MMIO_WINDOW_SIZE - 1, 1) >= 0)
		return -EEXIST;
	bd = calloc(1, sizeof(*bd));
	if (!bd)
		return -ENOMEM;
	bd->base = base;
	bd->dev = dev;
	bd->bus = bus;
	bd->mem = *mem;
	bd->host.ops = &bus_host_ops;
	bd->host.opaque = bd;
	for (unsigned int i = 0; i < VIRTIO_MAX_QUEUES; i++) {
		bd->queues[i].bd = bd;
		bd->queues[i].index = i;
		bd->queues[i].item.serve = serve_queue;
		bd->queues[i].item.opaque = &bd->queues[i];
	}
	bd->vm = virtio_mmio_new(dev, &bd->host);
	if (!bd->vm) {
		free(bd);
		return -EINVAL;
	}
	bus->devs[bus->ndevs] = bd;
	bus->bases[bus->ndevs] = base;
	bus->ndevs++;
	return 0;
}

static int index_of(struct mmio_bus *bus, uint64_t base)
{
	for (unsigned int i = 0; i < bus->ndevs; i++)
		if (bus->bases[i] == base)
			return (int)i;
	return -1;
}

struct virtio_dev *mmio_bus_remove(struct mmio_bus *bus, uint64_t base)
{
	int i = index_of(bus, base);
	struct bus_dev *bd;

	if (i < 0)
		return NULL;
	bd = bus->devs[i];
	bus->ndevs--;
	bus->devs[i] = bus->devs[bus->ndevs];
	bus->bases[i] = bus->bases[bus->ndevs];
	return bus_dev_free(bus, bd);
}

struct virtio_dev *mmio_bus_device(struct mmio_bus *bus, uint64_t base)
{
	int i = index_of(bus, base);

	return i < 0 ? NULL : bus->devs[i]->dev;
}

static struct bus_dev *dev_at(struct mmio_bus *bus, uint64_t addr,
			      unsigned int size)
{
	int i = mmio_find_window(bus->bases, bus->ndevs, VIRTIO_MMIO_WINDOW_SIZE,
				 addr, size);

	if (i < 0) {
		guest_log(&bus->log, "access to unclaimed address %#llx size %u",
			  (unsigned long long)addr, size);
		return NULL;
	}
	return bus->devs[i];
}

uint64_t mmio_bus_read(struct mmio_bus *bus, uint64_t addr, unsigned int size)
{
	struct bus_dev *bd = dev_at(bus, addr, size);

	return bd ? virtio_mmio_read(bd->vm, addr - bd->base, size) : ~0ULL;
}

void mmio_bus_write(struct mmio_bus *bus, uint64_t addr, unsigned int size,
		    uint64_t value)
{
	struct bus_dev *bd = dev_at(bus, addr, size);

	if (bd)
		virtio_mmio_write(bd->vm, addr - bd->base, size, value);
}

int mmio_bus_needs_reset(struct mmio_bus *bus, uint64_t base)
{
	int i = index_of(bus, base);

	if (i < 0)
		return -ENOENT;
	virtio_mmio_set_needs_reset(bus->devs[i]->vm);
	return 0;
}
