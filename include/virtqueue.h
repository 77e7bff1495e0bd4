/* SPDX-License-Identifier: MIT */
/*
 * Device side of a virtio split virtqueue living in guest memory. Every
 * value read from the rings is guest-controlled and checked before use.
 */
#ifndef VIRTQUEUE_H
#define VIRTQUEUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "log.h"
#include "virtio-host.h"

#define VRING_DESC_F_NEXT	1
#define VRING_DESC_F_WRITE	2
#define VRING_DESC_F_INDIRECT	4

#define VRING_AVAIL_F_NO_INTERRUPT	1

/* Largest queue we offer, and the bounds of what one chain may carry. */
#define VQ_MAX_SIZE		256
#define VQ_MAX_INDIRECT		512
#define VQ_MAX_CHAIN_BUFS	(VQ_MAX_SIZE + VQ_MAX_INDIRECT)
#define VQ_MAX_CHAIN_BYTES	(4u << 20)

struct vring_desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
	uint16_t next;
};

struct vq_buf {
	uint64_t addr;
	uint32_t len;
	bool writable;
};

struct vq_chain {
	uint16_t head;
	unsigned int nbufs;
	unsigned int nreadable;	/* bufs[0..nreadable) are device-readable */
	uint32_t readable_len;
	uint32_t writable_len;
	struct vq_buf bufs[VQ_MAX_CHAIN_BUFS];
};

struct virtqueue {
	/* Set by the transport while the queue is being configured. */
	uint16_t num;
	uint64_t desc_addr;
	uint64_t avail_addr;
	uint64_t used_addr;
	bool ready;
	/* No more chains are to be taken: the rings are about to go. */
	bool stopping;

	/* Negotiated features that change how the rings are used. */
	bool event_idx;
	bool indirect;

	/* Where complaints about the guest's rings go (set by the transport). */
	struct guest_log *log;

	/* Private to virtqueue.c once the queue is ready. */
	const struct virtio_host *host;
	struct guest_mapping desc_map, avail_map, used_map;
	struct vring_desc *desc;
	uint16_t *avail;	/* flags, idx, ring[num], used_event */
	uint8_t *used;		/* flags, idx, {id, len}[num], avail_event */
	uint16_t last_avail;
	uint16_t used_idx;
	uint16_t signalled_used;
	bool signalled_valid;
};

/*
 * Maps the rings for a queue whose num and addresses have been set.
 * Returns 0, or a negative errno if the driver's configuration is
 * invalid or the memory is not accessible.
 */
int vq_start(struct virtqueue *vq, const struct virtio_host *host);

/* Unmaps the rings and forgets all state; safe on a stopped queue. */
void vq_stop(struct virtqueue *vq);

/*
 * Takes the next available chain. With EVENT_IDX, taking the last one
 * re-arms the driver's kick. Returns 1 with @chain filled, 0 if the ring
 * is empty, -EINVAL if this chain is malformed (chain->head is still
 * valid: complete it with length 0), or -EPROTO if the ring itself is
 * corrupt and the device needs a reset.
 */
int vq_pop(struct virtqueue *vq, struct vq_chain *chain);

/* Publishes a used element. */
void vq_push(struct virtqueue *vq, uint16_t head, uint32_t len);

/*
 * Handles one well-formed chain; returns the bytes written to the guest.
 * Malformed chains never reach it: they complete with length 0.
 */
typedef uint32_t (*vq_chain_fn)(void *dev, struct virtqueue *vq,
				const struct vq_chain *chain);

#define VQ_SERVE_NOTIFY	1u	/* the driver wants a used-buffer notification */
#define VQ_SERVE_BROKEN	2u	/* the ring is corrupt: the device needs a reset */
#define VQ_SERVE_MORE	4u	/* @budget ran out before the ring did */

/*
 * Completes, through @handle, the chains the driver makes available,
 * at most @budget of them, and says what the transport must do about it
 * (VQ_SERVE_*). Stops at a corrupt ring. With VQ_SERVE_MORE the driver
 * will not kick for what is left (its kick is re-armed only once the
 * ring is seen empty): the caller must come back. @chain is the caller's
 * scratch space.
 */
unsigned int vq_serve(struct virtqueue *vq, struct vq_chain *chain,
		      vq_chain_fn handle, void *dev, unsigned int budget);

/* Copies the chain's device-readable bytes (at most @len) to @dst. */
int vq_gather(struct virtqueue *vq, const struct vq_chain *chain,
	      void *dst, size_t len);

/* Copies @len bytes into the chain's device-writable buffers. */
int vq_scatter(struct virtqueue *vq, const struct vq_chain *chain,
	       const void *src, size_t len);

/* A position in a chain's device-writable buffers. */
struct vq_cursor {
	unsigned int buf;	/* index into chain->bufs */
	uint32_t off;		/* bytes already written to that buffer */
};

/* Starts a cursor at the first device-writable byte of @chain. */
void vq_cursor_init(const struct vq_chain *chain, struct vq_cursor *cur);

/*
 * Copies @len bytes into the device-writable buffers at @cur and moves
 * it on: for responses written in pieces. -ENOSPC if they do not fit.
 */
int vq_scatter_at(struct virtqueue *vq, const struct vq_chain *chain,
		  struct vq_cursor *cur, const void *src, size_t len);

#endif /* VIRTQUEUE_H */
