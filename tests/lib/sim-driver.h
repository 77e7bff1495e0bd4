/* SPDX-License-Identifier: MIT */
/*
 * A minimal virtio-mmio split-ring driver for tests, written from the
 * spec independently of the device code (it shares no ring code with
 * common/virtqueue.c). It brings a device up the way Linux's virtio_mmio
 * does and submits descriptor chains from simulated guest RAM.
 */
#ifndef SIM_DRIVER_H
#define SIM_DRIVER_H

#include <stdbool.h>
#include <stdint.h>

#include "sim-guest.h"

/* Where the driver keeps things in guest RAM, relative to its base. */
#define SIM_DESC_OFF		0x0000
#define SIM_AVAIL_OFF		0x1000
#define SIM_USED_OFF		0x2000
#define SIM_INDIRECT_OFF	0x4000
#define SIM_DATA_OFF		0x10000
#define SIM_RAM_SIZE		(2u << 20)

#define SIM_F_INDIRECT		(1ULL << 28)
#define SIM_F_EVENT_IDX		(1ULL << 29)
#define SIM_F_VERSION_1		(1ULL << 32)
#define SIM_F_ACCESS_PLATFORM	(1ULL << 33)

typedef uint64_t (*sim_mmio_read_fn)(void *dev, uint64_t off, unsigned int size);
typedef void (*sim_mmio_write_fn)(void *dev, uint64_t off, unsigned int size,
				  uint64_t value);

struct sim_desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
	uint16_t next;
};

#define SIM_DESC_NEXT		1
#define SIM_DESC_WRITE		2
#define SIM_DESC_INDIRECT	4

struct sim_seg {
	uint64_t addr;
	uint32_t len;
	bool write;
};

struct sim_driver {
	struct sim_guest *g;
	void *dev;
	sim_mmio_read_fn rd;
	sim_mmio_write_fn wr;

	uint64_t features;	/* negotiated */
	uint16_t qsize;
	uint64_t desc, avail, used, indirect;
	uint16_t avail_idx;
	uint16_t used_seen;
	unsigned long kicks;
	/* Leave avail->used_event alone (tests that set it themselves). */
	bool manual_used_event;
	/* Publish without notifying (the caller kicks, e.g. to time it). */
	bool no_kick;
	/* Whether the device asked for a kick at the last publish. */
	bool kick_wanted;
	/*
	 * Submissions wait this long for a device that answers from other
	 * threads; 0: the answer must be there when the kick returns.
	 */
	unsigned int wait_ms;
	/*
	 * Optional: blocks until the device interrupts (true) or @timeout_ms
	 * pass (false). Waiting drivers then sleep on the interrupt and
	 * acknowledge it, as a real driver does, instead of polling.
	 */
	bool (*wait_irq)(void *opaque, unsigned int timeout_ms);
	void *wait_irq_opaque;
};

enum sim_split {
	SIM_SPLIT_PER_FRAME,	/* one descriptor per 512-byte frame */
	SIM_SPLIT_WHOLE,	/* one descriptor for all requests, one for all responses */
	SIM_SPLIT_ODD,		/* 100-byte pieces, ignoring frame borders */
};

void sim_driver_init(struct sim_driver *d, struct sim_guest *g, void *dev,
		     sim_mmio_read_fn rd, sim_mmio_write_fn wr);

/* The usual case: the device sits behind our virtio-mmio transport. */
struct virtio_mmio;
void sim_driver_init_mmio(struct sim_driver *d, struct sim_guest *g,
			  struct virtio_mmio *vm);

/* The device's used index, as the driver sees it in guest memory. */
uint16_t sim_driver_used_idx(struct sim_driver *d);
uint32_t sim_rd32(struct sim_driver *d, uint64_t off);
void sim_wr32(struct sim_driver *d, uint64_t off, uint32_t value);

/*
 * Reset, ACKNOWLEDGE, DRIVER, features (the offered ones masked by
 * @want), FEATURES_OK and its check, queue 0 of @qsize, DRIVER_OK.
 * Returns 0, or -1 if the device refused FEATURES_OK or the queue.
 */
int sim_driver_probe(struct sim_driver *d, uint64_t want, uint16_t qsize);

/* Direct view of the descriptor table, for building broken chains. */
struct sim_desc *sim_driver_desc_table(struct sim_driver *d);

/* Makes @head available (kicking as the notification rules say). */
void sim_driver_publish(struct sim_driver *d, uint16_t head);

/* Takes one used element if there is one: returns 1 and fills id/len. */
int sim_driver_take_used(struct sim_driver *d, uint32_t *id, uint32_t *len);

/*
 * The same, waiting up to @timeout_ms for the device (which may answer
 * from a thread of its own). Returns 1, or 0 on timeout.
 */
int sim_driver_wait_used(struct sim_driver *d, uint32_t *id, uint32_t *len,
			 unsigned int timeout_ms);

/*
 * Submits one chain of @n segments (as an indirect table if @indirect)
 * and returns the used length, or -1 if the device returned nothing.
 */
long sim_driver_submit(struct sim_driver *d, const struct sim_seg *segs,
		       unsigned int n, bool indirect);

/*
 * Sends @nreq request frames and room for @nresp response frames, split
 * into descriptors as @split says. Returns the used length or -1.
 */
long sim_rpmb_xfer(struct sim_driver *d, const void *req, unsigned int nreq,
		   void *resp, unsigned int nresp, enum sim_split split,
		   bool indirect);

/* Reads InterruptStatus and acknowledges it; returns what was pending. */
uint32_t sim_driver_ack_irq(struct sim_driver *d);

#endif /* SIM_DRIVER_H */
