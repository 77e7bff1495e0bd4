// SPDX-License-Identifier: MIT
#include <string.h>
#include <time.h>

#include "sim-driver.h"
#include "virtio-mmio.h"

/* virtio-mmio register offsets, from the spec's table (4.2.2). */
enum {
	R_MAGIC = 0x000, R_VERSION = 0x004, R_DEVICE_ID = 0x008,
	R_DEV_FEATURES = 0x010, R_DEV_FEATURES_SEL = 0x014,
	R_DRV_FEATURES = 0x020, R_DRV_FEATURES_SEL = 0x024,
	R_QUEUE_SEL = 0x030, R_QUEUE_NUM_MAX = 0x034, R_QUEUE_NUM = 0x038,
	R_QUEUE_READY = 0x044, R_QUEUE_NOTIFY = 0x050, R_ISR = 0x060,
	R_ISR_ACK = 0x064, R_STATUS = 0x070,
	R_DESC_LO = 0x080, R_DESC_HI = 0x084, R_AVAIL_LO = 0x090,
	R_AVAIL_HI = 0x094, R_USED_LO = 0x0a0, R_USED_HI = 0x0a4,
};

enum { S_ACK = 1, S_DRIVER = 2, S_DRIVER_OK = 4, S_FEATURES_OK = 8 };

void sim_driver_init(struct sim_driver *d, struct sim_guest *g, void *dev,
		     sim_mmio_read_fn rd, sim_mmio_write_fn wr)
{
	memset(d, 0, sizeof(*d));
	d->g = g;
	d->dev = dev;
	d->rd = rd;
	d->wr = wr;
	d->desc = g->base + SIM_DESC_OFF;
	d->avail = g->base + SIM_AVAIL_OFF;
	d->used = g->base + SIM_USED_OFF;
	d->indirect = g->base + SIM_INDIRECT_OFF;
}

static uint64_t mmio_read(void *vm, uint64_t off, unsigned int size)
{
	return virtio_mmio_read(vm, off, size);
}

static void mmio_write(void *vm, uint64_t off, unsigned int size,
		       uint64_t value)
{
	virtio_mmio_write(vm, off, size, value);
}

void sim_driver_init_mmio(struct sim_driver *d, struct sim_guest *g,
			  struct virtio_mmio *vm)
{
	sim_driver_init(d, g, vm, mmio_read, mmio_write);
}

uint16_t sim_driver_used_idx(struct sim_driver *d)
{
	uint16_t idx;

	memcpy(&idx, (uint8_t *)sim_guest_ptr(d->g, d->used) + 2, 2);
	return idx;
}

uint32_t sim_rd32(struct sim_driver *d, uint64_t off)
{
	return (uint32_t)d->rd(d->dev, off, 4);
}

void sim_wr32(struct sim_driver *d, uint64_t off, uint32_t value)
{
	d->wr(d->dev, off, 4, value);
}

static uint64_t read_device_features(struct sim_driver *d)
{
	uint64_t f;

	sim_wr32(d, R_DEV_FEATURES_SEL, 1);
	f = (uint64_t)sim_rd32(d, R_DEV_FEATURES) << 32;
	sim_wr32(d, R_DEV_FEATURES_SEL, 0);
	return f | sim_rd32(d, R_DEV_FEATURES);
}

static void write_driver_features(struct sim_driver *d, uint64_t f)
{
	sim_wr32(d, R_DRV_FEATURES_SEL, 1);
	sim_wr32(d, R_DRV_FEATURES, (uint32_t)(f >> 32));
	sim_wr32(d, R_DRV_FEATURES_SEL, 0);
	sim_wr32(d, R_DRV_FEATURES, (uint32_t)f);
}

static int setup_queue(struct sim_driver *d, uint16_t qsize)
{
	sim_wr32(d, R_QUEUE_SEL, 0);
	if (sim_rd32(d, R_QUEUE_READY) || sim_rd32(d, R_QUEUE_NUM_MAX) < qsize)
		return -1;
	memset(sim_guest_ptr(d->g, d->desc), 0, SIM_DATA_OFF);
	sim_wr32(d, R_QUEUE_NUM, qsize);
	sim_wr32(d, R_DESC_LO, (uint32_t)d->desc);
	sim_wr32(d, R_DESC_HI, (uint32_t)(d->desc >> 32));
	sim_wr32(d, R_AVAIL_LO, (uint32_t)d->avail);
	sim_wr32(d, R_AVAIL_HI, (uint32_t)(d->avail >> 32));
	sim_wr32(d, R_USED_LO, (uint32_t)d->used);
	sim_wr32(d, R_USED_HI, (uint32_t)(d->used >> 32));
	sim_wr32(d, R_QUEUE_READY, 1);
	if (sim_rd32(d, R_QUEUE_READY) != 1)
		return -1;
	d->qsize = qsize;
	d->avail_idx = 0;
	d->used_seen = 0;
	return 0;
}

int sim_driver_probe(struct sim_driver *d, uint64_t want, uint16_t qsize)
{
	uint32_t status;

	if (sim_rd32(d, R_MAGIC) != 0x74726976 || sim_rd32(d, R_VERSION) != 2)
		return -1;
	sim_wr32(d, R_STATUS, 0);
	sim_wr32(d, R_STATUS, S_ACK);
	sim_wr32(d, R_STATUS, S_ACK | S_DRIVER);
	d->features = read_device_features(d) & want;
	write_driver_features(d, d->features);
	sim_wr32(d, R_STATUS, S_ACK | S_DRIVER | S_FEATURES_OK);
	status = sim_rd32(d, R_STATUS);
	if (!(status & S_FEATURES_OK))
		return -1;
	if (setup_queue(d, qsize))
		return -1;
	sim_wr32(d, R_STATUS, S_ACK | S_DRIVER | S_FEATURES_OK | S_DRIVER_OK);
	return 0;
}

struct sim_desc *sim_driver_desc_table(struct sim_driver *d)
{
	return sim_guest_ptr(d->g, d->desc);
}

static uint16_t *avail_ring(struct sim_driver *d)
{
	return sim_guest_ptr(d->g, d->avail);	/* flags, idx, ring[], used_event */
}

static uint8_t *used_ring(struct sim_driver *d)
{
	return sim_guest_ptr(d->g, d->used);	/* flags, idx, elems, avail_event */
}

static bool device_wants_kick(struct sim_driver *d, uint16_t old_idx,
			      uint16_t new_idx)
{
	uint8_t *used = used_ring(d);
	uint16_t event, flags;

	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (d->features & SIM_F_EVENT_IDX) {
		memcpy(&event, used + 4 + 8 * d->qsize, 2);
		return (uint16_t)(new_idx - event - 1) <
		       (uint16_t)(new_idx - old_idx);
	}
	memcpy(&flags, used, 2);
	return !(flags & 1);	/* VRING_USED_F_NO_NOTIFY */
}

void sim_driver_publish(struct sim_driver *d, uint16_t head)
{
	uint16_t *avail = avail_ring(d);
	uint16_t old = d->avail_idx;

	avail[2 + (d->avail_idx % d->qsize)] = head;
	d->avail_idx++;
	/* Ask for an interrupt on every completion. */
	if (!d->manual_used_event)
		avail[2 + d->qsize] = d->used_seen;
	__atomic_store_n(&avail[1], d->avail_idx, __ATOMIC_RELEASE);
	d->kick_wanted = device_wants_kick(d, old, d->avail_idx);
	if (!d->no_kick && d->kick_wanted) {
		d->kicks++;
		sim_wr32(d, R_QUEUE_NOTIFY, 0);
	}
}

int sim_driver_take_used(struct sim_driver *d, uint32_t *id, uint32_t *len)
{
	uint8_t *used = used_ring(d);
	uint16_t idx = __atomic_load_n((uint16_t *)(used + 2), __ATOMIC_ACQUIRE);
	uint8_t *elem;

	if (idx == d->used_seen)
		return 0;
	elem = used + 4 + 8 * (d->used_seen % d->qsize);
	memcpy(id, elem, 4);
	memcpy(len, elem + 4, 4);
	d->used_seen++;
	return 1;
}

int sim_driver_wait_used(struct sim_driver *d, uint32_t *id, uint32_t *len,
			 unsigned int timeout_ms)
{
	struct timespec nap = { .tv_nsec = 20000 };

	if (d->wait_irq) {
		for (;;) {
			if (sim_driver_take_used(d, id, len))
				return 1;
			if (!d->wait_irq(d->wait_irq_opaque, timeout_ms))
				return 0;
			sim_driver_ack_irq(d);
		}
	}
	for (unsigned int waited_us = 0;; waited_us += 20) {
		if (sim_driver_take_used(d, id, len))
			return 1;
		if (waited_us >= timeout_ms * 1000u)
			return 0;
		nanosleep(&nap, NULL);
	}
}

static void fill_descs(struct sim_desc *table, const struct sim_seg *segs,
		       unsigned int n)
{
	for (unsigned int i = 0; i < n; i++) {
		table[i].addr = segs[i].addr;
		table[i].len = segs[i].len;
		table[i].flags = (segs[i].write ? SIM_DESC_WRITE : 0) |
				 (i + 1 < n ? SIM_DESC_NEXT : 0);
		table[i].next = (uint16_t)(i + 1 < n ? i + 1 : 0);
	}
}

long sim_driver_submit(struct sim_driver *d, const struct sim_seg *segs,
		       unsigned int n, bool indirect)
{
	struct sim_desc *desc = sim_driver_desc_table(d);
	uint32_t id, len;

	if (indirect) {
		fill_descs(sim_guest_ptr(d->g, d->indirect), segs, n);
		desc[0] = (struct sim_desc) {
			.addr = d->indirect,
			.len = n * (uint32_t)sizeof(struct sim_desc),
			.flags = SIM_DESC_INDIRECT,
		};
	} else {
		if (n > d->qsize)
			return -1;
		fill_descs(desc, segs, n);
	}
	sim_driver_publish(d, 0);
	if (!(d->wait_ms ? sim_driver_wait_used(d, &id, &len, d->wait_ms) :
			   sim_driver_take_used(d, &id, &len)) || id != 0)
		return -1;
	return len;
}

static unsigned int split_area(uint64_t addr, uint32_t len, bool write,
			       enum sim_split split, struct sim_seg *segs)
{
	uint32_t piece = split == SIM_SPLIT_PER_FRAME ? 512 :
			 split == SIM_SPLIT_ODD ? 100 : len;
	unsigned int n = 0;

	for (uint32_t off = 0; off < len; off += piece) {
		segs[n].addr = addr + off;
		segs[n].len = len - off < piece ? len - off : piece;
		segs[n].write = write;
		n++;
	}
	return n;
}

long sim_rpmb_xfer(struct sim_driver *d, const void *req, unsigned int nreq,
		   void *resp, unsigned int nresp, enum sim_split split,
		   bool indirect)
{
	static const unsigned int max_segs = 4096;
	struct sim_seg segs[4096];
	uint64_t req_addr = d->g->base + SIM_DATA_OFF;
	uint64_t resp_addr = req_addr + (uint64_t)nreq * 512;
	unsigned int n;
	long used;

	if ((nreq + nresp) * 512ul / 100 + 2 > max_segs)
		return -1;
	memcpy(sim_guest_ptr(d->g, req_addr), req, nreq * 512ul);
	memset(sim_guest_ptr(d->g, resp_addr), 0xa5, nresp * 512ul);
	n = split_area(req_addr, nreq * 512, false, split, segs);
	n += split_area(resp_addr, nresp * 512, true, split, segs + n);
	used = sim_driver_submit(d, segs, n, indirect);
	if (resp && nresp)
		memcpy(resp, sim_guest_ptr(d->g, resp_addr), nresp * 512ul);
	return used;
}

uint32_t sim_driver_ack_irq(struct sim_driver *d)
{
	uint32_t isr = sim_rd32(d, R_ISR);

	if (isr)
		sim_wr32(d, R_ISR_ACK, isr);
	return isr;
}
