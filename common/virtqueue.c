// SPDX-License-Identifier: MIT
/*
 * Split virtqueue, device side (virtio 1.x, section "Split Virtqueues").
 *
 * The rings stay mapped while the queue is ready; buffers are mapped one
 * at a time, for exactly the range and direction the descriptor names,
 * and unmapped before the used entry is published (Xen grant mappings
 * must be gone before the guest may reuse the grant).
 */
#include <endian.h>
#include <errno.h>
#include <string.h>

#include "log.h"
#include "virtqueue.h"

#define AVAIL_FLAGS	0
#define AVAIL_IDX	1
#define AVAIL_RING	2

#define USED_FLAGS_OFF	0
#define USED_IDX_OFF	2
#define USED_RING_OFF	4
#define USED_ELEM_SIZE	8

static size_t avail_size(uint16_t num)
{
	return 2 * (3 + (size_t)num);
}

static size_t used_size(uint16_t num)
{
	return 6 + USED_ELEM_SIZE * (size_t)num;
}

static bool is_power_of_2(unsigned int n)
{
	return n && !(n & (n - 1));
}

static int map_ring(struct virtqueue *vq, uint64_t addr, size_t len,
		    enum guest_access access, struct guest_mapping *map)
{
	const struct virtio_host *host = vq->host;

	memset(map, 0, sizeof(*map));
	if (addr + len < addr)
		return -EINVAL;
	return host->ops->map(host->opaque, addr, len, access, map);
}

static void unmap_ring(struct virtqueue *vq, struct guest_mapping *map)
{
	if (map->ptr)
		vq->host->ops->unmap(vq->host->opaque, map);
	memset(map, 0, sizeof(*map));
}

int vq_start(struct virtqueue *vq, const struct virtio_host *host)
{
	int ret;

	if (!is_power_of_2(vq->num) || vq->num > VQ_MAX_SIZE)
		return -EINVAL;
	/* Alignment the spec requires; misaligned rings would tear atomics. */
	if ((vq->desc_addr & 15) || (vq->avail_addr & 1) || (vq->used_addr & 3))
		return -EINVAL;

	vq->host = host;
	ret = map_ring(vq, vq->desc_addr, sizeof(struct vring_desc) * vq->num,
		       GUEST_ACCESS_READ, &vq->desc_map);
	if (!ret)
		ret = map_ring(vq, vq->avail_addr, avail_size(vq->num),
			       GUEST_ACCESS_READ, &vq->avail_map);
	if (!ret)
		ret = map_ring(vq, vq->used_addr, used_size(vq->num),
			       GUEST_ACCESS_RW, &vq->used_map);
	if (ret) {
		vq_stop(vq);
		return ret;
	}
	vq->desc = vq->desc_map.ptr;
	vq->avail = vq->avail_map.ptr;
	vq->used = vq->used_map.ptr;
	vq->last_avail = 0;
	vq->used_idx = 0;
	vq->signalled_valid = false;
	vq->stopping = false;
	vq->ready = true;
	return 0;
}

void vq_stop(struct virtqueue *vq)
{
	if (vq->host) {
		unmap_ring(vq, &vq->desc_map);
		unmap_ring(vq, &vq->avail_map);
		unmap_ring(vq, &vq->used_map);
	}
	vq->desc = NULL;
	vq->avail = NULL;
	vq->used = NULL;
	vq->ready = false;
	vq->last_avail = 0;
	vq->used_idx = 0;
	vq->signalled_valid = false;
}

static uint16_t avail_idx(const struct virtqueue *vq)
{
	/* Acquire: ring entries written before idx must be seen after it. */
	return le16toh(__atomic_load_n(&vq->avail[AVAIL_IDX], __ATOMIC_ACQUIRE));
}

static uint16_t avail_entry(const struct virtqueue *vq, uint16_t slot)
{
	return le16toh(__atomic_load_n(&vq->avail[AVAIL_RING + slot],
				       __ATOMIC_RELAXED));
}

static uint16_t *avail_event_ptr(struct virtqueue *vq)
{
	return (uint16_t *)(vq->used + USED_RING_OFF + USED_ELEM_SIZE * vq->num);
}

static uint16_t used_event(const struct virtqueue *vq)
{
	return le16toh(__atomic_load_n(&vq->avail[AVAIL_RING + vq->num],
				       __ATOMIC_RELAXED));
}

/*
 * Snapshot one descriptor so the guest cannot change it under our feet.
 * memcpy, because indirect tables need not be aligned; a torn snapshot is
 * just another guest-chosen value and gets the same checks.
 */
static struct vring_desc read_desc(const struct vring_desc *table, uint16_t i)
{
	struct vring_desc d;

	memcpy(&d, (const uint8_t *)table + (size_t)i * sizeof(d), sizeof(d));
	d.addr = le64toh(d.addr);
	d.len = le32toh(d.len);
	d.flags = le16toh(d.flags);
	d.next = le16toh(d.next);
	return d;
}

static int add_buf(struct virtqueue *vq, struct vq_chain *chain,
		   const struct vring_desc *d, bool *seen_writable)
{
	bool writable = d->flags & VRING_DESC_F_WRITE;
	uint64_t total = (uint64_t)chain->readable_len + chain->writable_len;

	if (!writable && *seen_writable) {
		guest_log(vq->log, "virtqueue: readable descriptor after writable one");
		return -EINVAL;
	}
	if (d->addr + d->len < d->addr) {
		guest_log(vq->log, "virtqueue: descriptor wraps the address space");
		return -EINVAL;
	}
	if (total + d->len > VQ_MAX_CHAIN_BYTES) {
		guest_log(vq->log, "virtqueue: chain longer than %u bytes",
			  VQ_MAX_CHAIN_BYTES);
		return -EINVAL;
	}
	/* Empty buffers carry nothing; dropping them keeps copies simple. */
	if (!d->len)
		return 0;
	if (chain->nbufs == VQ_MAX_CHAIN_BUFS) {
		guest_log(vq->log, "virtqueue: chain has too many buffers");
		return -EINVAL;
	}
	chain->bufs[chain->nbufs++] = (struct vq_buf) {
		.addr = d->addr, .len = d->len, .writable = writable,
	};
	if (writable) {
		chain->writable_len += d->len;
		*seen_writable = true;
	} else {
		chain->readable_len += d->len;
		chain->nreadable++;
	}
	return 0;
}

static int walk_indirect(struct virtqueue *vq, const struct vring_desc *d,
			 struct vq_chain *chain, bool *seen_writable)
{
	struct guest_mapping map;
	const struct vring_desc *table;
	unsigned int n, i, steps;
	int ret;

	if (!vq->indirect) {
		guest_log(vq->log, "virtqueue: indirect descriptor not negotiated");
		return -EINVAL;
	}
	if (d->flags & VRING_DESC_F_NEXT) {
		guest_log(vq->log, "virtqueue: indirect descriptor with NEXT set");
		return -EINVAL;
	}
	if (!d->len || d->len % sizeof(struct vring_desc) ||
	    d->len / sizeof(struct vring_desc) > VQ_MAX_INDIRECT) {
		guest_log(vq->log, "virtqueue: bad indirect table length %u", d->len);
		return -EINVAL;
	}
	n = d->len / sizeof(struct vring_desc);
	ret = vq->host->ops->map(vq->host->opaque, d->addr, d->len,
				 GUEST_ACCESS_READ, &map);
	if (ret) {
		guest_log(vq->log, "virtqueue: indirect table at %#llx not accessible",
			  (unsigned long long)d->addr);
		return -EINVAL;
	}
	table = map.ptr;
	for (i = 0, steps = 0;; steps++) {
		struct vring_desc id;

		if (steps == n) {
			guest_log(vq->log, "virtqueue: loop in indirect table");
			ret = -EINVAL;
			break;
		}
		id = read_desc(table, (uint16_t)i);
		if (id.flags & VRING_DESC_F_INDIRECT) {
			guest_log(vq->log, "virtqueue: nested indirect table");
			ret = -EINVAL;
			break;
		}
		ret = add_buf(vq, chain, &id, seen_writable);
		if (ret || !(id.flags & VRING_DESC_F_NEXT))
			break;
		if (id.next >= n) {
			guest_log(vq->log, "virtqueue: indirect next %u out of range",
				  id.next);
			ret = -EINVAL;
			break;
		}
		i = id.next;
	}
	vq->host->ops->unmap(vq->host->opaque, &map);
	return ret;
}

static int walk_chain(struct virtqueue *vq, struct vq_chain *chain)
{
	bool seen_writable = false;
	uint16_t i = chain->head;
	unsigned int steps;
	int ret;

	for (steps = 0;; steps++) {
		struct vring_desc d;

		if (steps == vq->num) {
			guest_log(vq->log, "virtqueue: descriptor chain loops");
			return -EINVAL;
		}
		d = read_desc(vq->desc, i);
		if (d.flags & VRING_DESC_F_INDIRECT) {
			/* An indirect table must be the whole chain (2.7.5.3.1). */
			if (steps) {
				guest_log(vq->log, "virtqueue: indirect table mid-chain");
				return -EINVAL;
			}
			return walk_indirect(vq, &d, chain, &seen_writable);
		}
		ret = add_buf(vq, chain, &d, &seen_writable);
		if (ret)
			return ret;
		if (!(d.flags & VRING_DESC_F_NEXT))
			return 0;
		if (d.next >= vq->num) {
			guest_log(vq->log, "virtqueue: next index %u out of range", d.next);
			return -EINVAL;
		}
		i = d.next;
	}
}

/*
 * EVENT_IDX: ask the driver to kick for the entry after the ones taken.
 * Called when the last entry we saw is taken, before it is handled: the
 * fence then has almost no stores to wait for, whereas after the handler
 * it would wait for the whole response to reach memory. The empty check
 * in the next vq_pop() is the re-check that closes the race with a driver
 * adding an entry meanwhile (virtio 1.x 2.7.10); such an entry costs at
 * worst a needless kick.
 */
static void arm_kick(struct virtqueue *vq)
{
	__atomic_store_n(avail_event_ptr(vq), htole16(vq->last_avail),
			 __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
}

int vq_pop(struct virtqueue *vq, struct vq_chain *chain)
{
	uint16_t idx, pending, head;

	if (!vq->ready || vq->stopping)
		return 0;
	idx = avail_idx(vq);
	pending = (uint16_t)(idx - vq->last_avail);
	if (!pending)
		return 0;
	if (pending > vq->num) {
		guest_log(vq->log, "virtqueue: avail index jumped by %u (queue size %u)",
			  pending, vq->num);
		return -EPROTO;
	}
	head = avail_entry(vq, vq->last_avail & (vq->num - 1));
	vq->last_avail++;
	if (vq->event_idx && vq->last_avail == idx)
		arm_kick(vq);

	chain->nbufs = 0;
	chain->nreadable = 0;
	chain->readable_len = 0;
	chain->writable_len = 0;
	if (head >= vq->num) {
		/* No valid head to complete: the ring itself is broken. */
		guest_log(vq->log, "virtqueue: head index %u out of range", head);
		return -EPROTO;
	}
	chain->head = head;
	return walk_chain(vq, chain) ? -EINVAL : 1;
}

void vq_push(struct virtqueue *vq, uint16_t head, uint32_t len)
{
	uint8_t *elem = vq->used + USED_RING_OFF +
			USED_ELEM_SIZE * (vq->used_idx & (vq->num - 1));
	uint32_t id_le = htole32(head), len_le = htole32(len);

	memcpy(elem, &id_le, 4);
	memcpy(elem + 4, &len_le, 4);
	vq->used_idx++;
	/* Release: the element must be visible before the new index. */
	__atomic_store_n((uint16_t *)(vq->used + USED_IDX_OFF),
			 htole16(vq->used_idx), __ATOMIC_RELEASE);
}

/* virtio 1.x 2.7.10: has new_idx passed the driver's event index? */
static bool need_event(uint16_t event, uint16_t new_idx, uint16_t old_idx)
{
	return (uint16_t)(new_idx - event - 1) < (uint16_t)(new_idx - old_idx);
}

static bool driver_wants_interrupt(struct virtqueue *vq, uint16_t old)
{
	if (vq->event_idx) {
		/* Nothing signalled yet on this queue: no event to compare. */
		if (!vq->signalled_valid)
			return true;
		return need_event(used_event(vq), vq->used_idx, old);
	}
	return !(le16toh(__atomic_load_n(&vq->avail[AVAIL_FLAGS],
					 __ATOMIC_RELAXED)) &
		 VRING_AVAIL_F_NO_INTERRUPT);
}

/* Called after a batch of at least one vq_push(). */
static bool finish_batch(struct virtqueue *vq)
{
	uint16_t old = vq->signalled_used;
	bool notify;

	if (!vq->ready)
		return false;
	/*
	 * A "yes" read before the fence is safe: at worst the interrupt is
	 * one the driver no longer needed. A "no" must be read again after
	 * the fence, which orders our used index before the driver's flag
	 * or event index (the driver does the mirror image); the fence waits
	 * for the response to reach memory, so it is skipped when it can be.
	 */
	notify = driver_wants_interrupt(vq, old);
	if (!notify) {
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
		notify = driver_wants_interrupt(vq, old);
	}
	vq->signalled_used = vq->used_idx;
	vq->signalled_valid = true;
	return notify;
}

unsigned int vq_serve(struct virtqueue *vq, struct vq_chain *chain,
		      vq_chain_fn handle, void *dev, unsigned int budget)
{
	unsigned int more = 0;
	bool pushed = false;
	int ret;

	/* The loop ends on an empty ring, seen after arm_kick()'s fence. */
	while ((ret = vq_pop(vq, chain)) != 0) {
		if (ret == -EPROTO)
			return VQ_SERVE_BROKEN;
		vq_push(vq, chain->head, ret > 0 ? handle(dev, vq, chain) : 0);
		pushed = true;
		if (!--budget) {
			more = VQ_SERVE_MORE;
			break;
		}
	}
	/*
	 * The interrupt decision does not depend on the ring being empty,
	 * so a batch cut short still tells the driver of what is done.
	 */
	return more | (pushed && finish_batch(vq) ? VQ_SERVE_NOTIFY : 0);
}

/*
 * Copies between @data and the buffers from @cur on, up to @end, for @len
 * bytes; @cur ends where the copy did. Each piece is mapped for exactly
 * its range and direction.
 */
static int copy_bufs(struct virtqueue *vq, const struct vq_chain *chain,
		     struct vq_cursor *cur, unsigned int end, uint8_t *data,
		     size_t len, bool to_guest)
{
	const struct virtio_host *host = vq->host;
	enum guest_access access = to_guest ? GUEST_ACCESS_WRITE :
					      GUEST_ACCESS_READ;

	while (len && cur->buf < end) {
		const struct vq_buf *b = &chain->bufs[cur->buf];
		size_t room = b->len - cur->off;
		size_t n = room < len ? room : len;
		struct guest_mapping map;
		int ret;

		ret = host->ops->map(host->opaque, b->addr + cur->off, n,
				     access, &map);
		if (ret) {
			guest_log(vq->log, "virtqueue: buffer %#llx+%zu not accessible",
				  (unsigned long long)(b->addr + cur->off), n);
			return ret;
		}
		if (to_guest)
			memcpy(map.ptr, data, n);
		else
			memcpy(data, map.ptr, n);
		host->ops->unmap(host->opaque, &map);
		data += n;
		len -= n;
		cur->off += (uint32_t)n;
		if (cur->off == b->len) {
			cur->buf++;
			cur->off = 0;
		}
	}
	return len ? -ENOSPC : 0;
}

/* Device-readable buffers come first: walk_chain() refuses other orders. */
int vq_gather(struct virtqueue *vq, const struct vq_chain *chain,
	      void *dst, size_t len)
{
	struct vq_cursor cur = { 0, 0 };

	return copy_bufs(vq, chain, &cur, chain->nreadable, dst, len, false);
}

void vq_cursor_init(const struct vq_chain *chain, struct vq_cursor *cur)
{
	cur->buf = chain->nreadable;
	cur->off = 0;
}

int vq_scatter_at(struct virtqueue *vq, const struct vq_chain *chain,
		  struct vq_cursor *cur, const void *src, size_t len)
{
	return copy_bufs(vq, chain, cur, chain->nbufs, (void *)src, len, true);
}

int vq_scatter(struct virtqueue *vq, const struct vq_chain *chain,
	       const void *src, size_t len)
{
	struct vq_cursor cur;

	vq_cursor_init(chain, &cur);
	return vq_scatter_at(vq, chain, &cur, src, len);
}
