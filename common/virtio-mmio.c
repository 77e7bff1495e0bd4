// SPDX-License-Identifier: MIT
/*
 * virtio-mmio register file, device status state machine and queue
 * serving (virtio 1.x, section 4.2.2). Every access comes from an
 * untrusted guest: anything the spec does not allow is logged
 * (rate-limited, on the device's own budget) and ignored.
 *
 * Locking: one mutex per transport covers registers and queue state. A
 * chain is handled with the mutex dropped (it may wait for a disk), so
 * register accesses stay prompt; in_flight marks that window, and the
 * few operations that take queue memory away (reset, disabling a queue)
 * first stop new chains from being taken, then wait for it to close.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "virtio-mmio.h"

#define TRANSPORT_FEATURES						\
	((1ULL << VIRTIO_F_VERSION_1) | (1ULL << VIRTIO_F_ACCESS_PLATFORM) | \
	 (1ULL << VIRTIO_RING_F_INDIRECT_DESC) |			\
	 (1ULL << VIRTIO_RING_F_EVENT_IDX))

struct virtio_mmio {
	struct virtio_dev *dev;
	const struct virtio_host *host;

	pthread_mutex_t lock;
	pthread_cond_t idle;		/* in_flight went false */
	bool in_flight;			/* a chain is being handled, unlocked */
	bool serving;			/* a serve loop runs (one at a time) */
	bool kicked[VIRTIO_MAX_QUEUES];	/* notified since the loop looked */

	uint32_t status;
	uint32_t isr;
	int irq_level;
	uint32_t device_features_sel;
	uint32_t driver_features_sel;
	uint64_t driver_features;
	uint32_t queue_sel;
	struct virtqueue vqs[VIRTIO_MAX_QUEUES];
	struct vq_chain chain;		/* scratch for the chain in hand */
};

#define guest_warn(vm, ...)	guest_log(&(vm)->dev->log, __VA_ARGS__)

static uint64_t offered_features(const struct virtio_mmio *vm)
{
	return vm->dev->ops->features | TRANSPORT_FEATURES;
}

static void set_irq(struct virtio_mmio *vm, int level)
{
	if (vm->irq_level == level)
		return;
	vm->irq_level = level;
	/*
	 * The used ring must be visible before the interrupt is: a guest
	 * that takes it reads the ring at once. vq_serve() fences
	 * only when it has to, so this release covers a backend whose
	 * signalling path is not itself a barrier.
	 */
	__atomic_thread_fence(__ATOMIC_RELEASE);
	vm->host->ops->set_irq(vm->host->opaque, level);
}

static void raise_isr(struct virtio_mmio *vm, uint32_t bits)
{
	vm->isr |= bits;
	set_irq(vm, 1);
}

/*
 * The driver broke the protocol (e.g. a corrupt ring): set NEEDS_RESET and
 * tell the driver through a configuration-change interrupt (4.2.2.1).
 */
static void needs_reset(struct virtio_mmio *vm)
{
	if (vm->status & VIRTIO_STATUS_NEEDS_RESET)
		return;
	guest_warn(vm, "driver broke the protocol; device needs reset");
	vm->status |= VIRTIO_STATUS_NEEDS_RESET;
	if (vm->status & VIRTIO_STATUS_DRIVER_OK)
		raise_isr(vm, VIRTIO_MMIO_INT_CONFIG);
}

/*
 * Takes queue memory away safely: no new chain is taken from the queues
 * (vq_pop sees them stopping), and the chain in hand, if any, finishes
 * with its buffers still mapped. Bounded: at most one request.
 */
static void quiesce(struct virtio_mmio *vm, struct virtqueue *only)
{
	for (unsigned int i = 0; i < VIRTIO_MAX_QUEUES; i++)
		if (!only || only == &vm->vqs[i])
			vm->vqs[i].stopping = true;
	while (vm->in_flight)
		pthread_cond_wait(&vm->idle, &vm->lock);
}

static void reset_locked(struct virtio_mmio *vm)
{
	quiesce(vm, NULL);
	for (unsigned int i = 0; i < VIRTIO_MAX_QUEUES; i++) {
		vq_stop(&vm->vqs[i]);
		memset(&vm->vqs[i], 0, sizeof(vm->vqs[i]));
		vm->vqs[i].log = &vm->dev->log;
		vm->kicked[i] = false;
	}
	vm->status = 0;
	vm->isr = 0;
	vm->device_features_sel = 0;
	vm->driver_features_sel = 0;
	vm->driver_features = 0;
	vm->queue_sel = 0;
	set_irq(vm, 0);
	if (vm->dev->ops->reset)
		vm->dev->ops->reset(vm->dev);
}

void virtio_mmio_reset(struct virtio_mmio *vm)
{
	pthread_mutex_lock(&vm->lock);
	reset_locked(vm);
	pthread_mutex_unlock(&vm->lock);
}

struct virtio_mmio *virtio_mmio_new(struct virtio_dev *dev,
				    const struct virtio_host *host)
{
	const struct virtio_dev_ops *ops = dev->ops;
	struct virtio_mmio *vm;

	if (ops->num_queues > VIRTIO_MAX_QUEUES ||
	    ops->queue_max > VQ_MAX_SIZE || ops->config_size > VIRTIO_CONFIG_MAX)
		return NULL;
	vm = calloc(1, sizeof(*vm));
	if (!vm)
		return NULL;
	vm->dev = dev;
	vm->host = host;
	pthread_mutex_init(&vm->lock, NULL);
	pthread_cond_init(&vm->idle, NULL);
	for (unsigned int i = 0; i < VIRTIO_MAX_QUEUES; i++)
		vm->vqs[i].log = &dev->log;
	return vm;
}

void virtio_mmio_free(struct virtio_mmio *vm)
{
	if (!vm)
		return;
	pthread_mutex_lock(&vm->lock);
	quiesce(vm, NULL);
	for (unsigned int i = 0; i < VIRTIO_MAX_QUEUES; i++)
		vq_stop(&vm->vqs[i]);
	pthread_mutex_unlock(&vm->lock);
	pthread_cond_destroy(&vm->idle);
	pthread_mutex_destroy(&vm->lock);
	free(vm);
}

struct virtio_dev *virtio_mmio_dev(const struct virtio_mmio *vm)
{
	return vm->dev;
}

void virtio_mmio_set_needs_reset(struct virtio_mmio *vm)
{
	pthread_mutex_lock(&vm->lock);
	vm->status = VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER |
		     VIRTIO_STATUS_FEATURES_OK | VIRTIO_STATUS_DRIVER_OK |
		     VIRTIO_STATUS_NEEDS_RESET;
	raise_isr(vm, VIRTIO_MMIO_INT_CONFIG);
	pthread_mutex_unlock(&vm->lock);
}

/* --- serving queues ------------------------------------------------ */

struct serve_ctx {
	struct virtio_mmio *vm;
	unsigned int queue;
};

/* Runs the device's handler with the lock dropped. */
static uint32_t handle_unlocked(void *opaque, struct virtqueue *vq,
				const struct vq_chain *chain)
{
	struct serve_ctx *c = opaque;
	struct virtio_mmio *vm = c->vm;
	uint32_t len;

	vm->in_flight = true;
	pthread_mutex_unlock(&vm->lock);
	len = vm->dev->ops->handle_chain(vm->dev, c->queue, vq, chain);
	pthread_mutex_lock(&vm->lock);
	vm->in_flight = false;
	pthread_cond_broadcast(&vm->idle);
	return len;
}

static bool can_serve(const struct virtio_mmio *vm, const struct virtqueue *vq)
{
	return (vm->status & VIRTIO_STATUS_DRIVER_OK) &&
	       !(vm->status & VIRTIO_STATUS_NEEDS_RESET) && vq->ready &&
	       !vq->stopping;
}

/* Lock held. Returns true if chains are left over @budget. */
static bool serve_locked(struct virtio_mmio *vm, unsigned int queue,
			 unsigned int budget)
{
	struct serve_ctx ctx = { .vm = vm, .queue = queue };
	struct virtqueue *vq = &vm->vqs[queue];
	unsigned int result = 0;

	/* One loop at a time per device: requests stay in order. */
	if (vm->serving)
		return false;
	vm->serving = true;
	/* A notify during the loop means "look again", not a lost kick. */
	do {
		vm->kicked[queue] = false;
		if (!can_serve(vm, vq))
			break;
		result = vq_serve(vq, &vm->chain, handle_unlocked, &ctx, budget);
		if (result & VQ_SERVE_BROKEN)
			needs_reset(vm);
		else if (result & VQ_SERVE_NOTIFY)
			raise_isr(vm, VIRTIO_MMIO_INT_VRING);
	} while (vm->kicked[queue] && !(result & VQ_SERVE_MORE));
	vm->serving = false;
	return (result & VQ_SERVE_MORE) && can_serve(vm, vq);
}

bool virtio_mmio_serve(struct virtio_mmio *vm, unsigned int queue,
		       unsigned int budget)
{
	bool more = false;

	if (queue >= vm->dev->ops->num_queues || !budget)
		return false;
	pthread_mutex_lock(&vm->lock);
	more = serve_locked(vm, queue, budget);
	pthread_mutex_unlock(&vm->lock);
	return more;
}

/* --- registers --------------------------------------------------------- */

static struct virtqueue *selected_queue(struct virtio_mmio *vm)
{
	if (vm->queue_sel >= vm->dev->ops->num_queues)
		return NULL;
	return &vm->vqs[vm->queue_sel];
}

static uint64_t read_config(struct virtio_mmio *vm, uint64_t off,
			    unsigned int size)
{
	uint8_t config[VIRTIO_CONFIG_MAX] = { 0 };
	size_t config_size = vm->dev->ops->config_size;
	uint64_t value = 0;

	if (!size || size > 4 || (off & (size - 1)) ||
	    off >= config_size || size > config_size - off) {
		guest_warn(vm, "bad config read, offset %#llx size %u",
			   (unsigned long long)off, size);
		return 0;
	}
	vm->dev->ops->get_config(vm->dev, config);
	memcpy(&value, config + off, size);	/* little-endian fields */
	return value;
}

static uint32_t read_queue_reg(struct virtio_mmio *vm, uint64_t offset)
{
	struct virtqueue *vq = selected_queue(vm);

	if (!vq)
		return 0;	/* non-existent queues read as size 0 / not ready */
	switch (offset) {
	case VIRTIO_MMIO_QUEUE_NUM_MAX:
		return vm->dev->ops->queue_max;
	case VIRTIO_MMIO_QUEUE_READY:
		return vq->ready;
	case VIRTIO_MMIO_QUEUE_NUM:
		return vq->num;
	case VIRTIO_MMIO_QUEUE_DESC_LOW:
		return (uint32_t)vq->desc_addr;
	case VIRTIO_MMIO_QUEUE_DESC_HIGH:
		return vq->desc_addr >> 32;
	case VIRTIO_MMIO_QUEUE_AVAIL_LOW:
		return (uint32_t)vq->avail_addr;
	case VIRTIO_MMIO_QUEUE_AVAIL_HIGH:
		return vq->avail_addr >> 32;
	case VIRTIO_MMIO_QUEUE_USED_LOW:
		return (uint32_t)vq->used_addr;
	default:
		return vq->used_addr >> 32;
	}
}

static uint32_t read_reg(struct virtio_mmio *vm, uint64_t offset)
{
	switch (offset) {
	case VIRTIO_MMIO_MAGIC_VALUE:
		return VIRTIO_MMIO_MAGIC;
	case VIRTIO_MMIO_VERSION_REG:
		return VIRTIO_MMIO_VERSION;
	case VIRTIO_MMIO_DEVICE_ID:
		return vm->dev->ops->device_id;
	case VIRTIO_MMIO_VENDOR_ID_REG:
		return VIRTIO_MMIO_VENDOR_ID;
	case VIRTIO_MMIO_DEVICE_FEATURES:
		if (vm->device_features_sel > 1)
			return 0;
		return offered_features(vm) >> (32 * vm->device_features_sel);
	case VIRTIO_MMIO_QUEUE_NUM_MAX:
	case VIRTIO_MMIO_QUEUE_READY:
	case VIRTIO_MMIO_QUEUE_NUM:
	case VIRTIO_MMIO_QUEUE_DESC_LOW:
	case VIRTIO_MMIO_QUEUE_DESC_HIGH:
	case VIRTIO_MMIO_QUEUE_AVAIL_LOW:
	case VIRTIO_MMIO_QUEUE_AVAIL_HIGH:
	case VIRTIO_MMIO_QUEUE_USED_LOW:
	case VIRTIO_MMIO_QUEUE_USED_HIGH:
		return read_queue_reg(vm, offset);
	case VIRTIO_MMIO_INTERRUPT_STATUS:
		return vm->isr;
	case VIRTIO_MMIO_STATUS:
		return vm->status;
	case VIRTIO_MMIO_SHM_LEN_LOW:
	case VIRTIO_MMIO_SHM_LEN_HIGH:
		return 0xffffffff;	/* "no such region" (4.2.2) */
	case VIRTIO_MMIO_SHM_BASE_LOW:
	case VIRTIO_MMIO_SHM_BASE_HIGH:
	case VIRTIO_MMIO_CONFIG_GENERATION:
		return 0;		/* the config never changes */
	default:
		guest_warn(vm, "read of write-only or unknown register %#llx",
			   (unsigned long long)offset);
		return 0;
	}
}

uint64_t virtio_mmio_read(struct virtio_mmio *vm, uint64_t offset,
			  unsigned int size)
{
	uint64_t value;

	if (offset >= VIRTIO_MMIO_CONFIG)
		return read_config(vm, offset - VIRTIO_MMIO_CONFIG, size);
	if (size != 4 || (offset & 3)) {
		guest_warn(vm, "%u-byte read at %#llx (registers are 32-bit)",
			   size, (unsigned long long)offset);
		return 0;
	}
	pthread_mutex_lock(&vm->lock);
	value = read_reg(vm, offset);
	pthread_mutex_unlock(&vm->lock);
	return value;
}

static bool features_acceptable(struct virtio_mmio *vm)
{
	uint64_t f = vm->driver_features;

	if (f & ~offered_features(vm)) {
		guest_warn(vm, "driver accepted features %#llx we never offered",
			   (unsigned long long)(f & ~offered_features(vm)));
		return false;
	}
	if (!(f & (1ULL << VIRTIO_F_VERSION_1))) {
		guest_warn(vm, "legacy driver (no VERSION_1) refused");
		return false;
	}
	return true;
}

static void apply_features(struct virtio_mmio *vm)
{
	for (unsigned int i = 0; i < VIRTIO_MAX_QUEUES; i++) {
		vm->vqs[i].event_idx = vm->driver_features &
				       (1ULL << VIRTIO_RING_F_EVENT_IDX);
		vm->vqs[i].indirect = vm->driver_features &
				      (1ULL << VIRTIO_RING_F_INDIRECT_DESC);
	}
}

static void write_status(struct virtio_mmio *vm, uint32_t value)
{
	uint32_t added = value & ~vm->status;

	if (!value) {
		reset_locked(vm);
		return;
	}
	if (value & ~0xffu || (vm->status & ~value & ~VIRTIO_STATUS_NEEDS_RESET)) {
		guest_warn(vm, "status %#x -> %#x not allowed without reset",
			   vm->status, value);
		return;
	}
	if (added & VIRTIO_STATUS_FEATURES_OK) {
		if (!features_acceptable(vm)) {
			/* Leaving the bit clear is how the spec says "no". */
			value &= ~VIRTIO_STATUS_FEATURES_OK;
		} else {
			apply_features(vm);
		}
	}
	if ((added & VIRTIO_STATUS_DRIVER_OK) &&
	    !(value & VIRTIO_STATUS_FEATURES_OK)) {
		guest_warn(vm, "DRIVER_OK before FEATURES_OK ignored");
		value &= ~VIRTIO_STATUS_DRIVER_OK;
	}
	vm->status = value | (vm->status & VIRTIO_STATUS_NEEDS_RESET);
}

static void write_driver_features(struct virtio_mmio *vm, uint32_t value)
{
	unsigned int shift;

	if (!(vm->status & VIRTIO_STATUS_DRIVER) ||
	    (vm->status & VIRTIO_STATUS_FEATURES_OK)) {
		guest_warn(vm, "driver features written in status %#x",
			   vm->status);
		return;
	}
	if (vm->driver_features_sel > 1) {
		if (value)
			guest_warn(vm, "features word %u does not exist",
				   vm->driver_features_sel);
		return;
	}
	shift = 32 * vm->driver_features_sel;
	vm->driver_features &= ~(0xffffffffULL << shift);
	vm->driver_features |= (uint64_t)value << shift;
}

static void set_addr_half(uint64_t *addr, bool high, uint32_t value)
{
	if (high)
		*addr = (*addr & 0xffffffffULL) | ((uint64_t)value << 32);
	else
		*addr = (*addr & ~0xffffffffULL) | value;
}

static void queue_set_ready(struct virtio_mmio *vm, struct virtqueue *vq,
			    uint32_t value)
{
	int ret;

	if (!value) {
		quiesce(vm, vq);
		vq_stop(vq);
		return;
	}
	if (vq->ready)
		return;
	if (!(vm->status & VIRTIO_STATUS_FEATURES_OK)) {
		guest_warn(vm, "queue enabled before FEATURES_OK");
		return;
	}
	ret = vq_start(vq, vm->host);
	if (ret) {
		guest_warn(vm, "queue %u setup refused (num %u, desc %#llx, avail %#llx, used %#llx): %s",
			   vm->queue_sel, vq->num,
			   (unsigned long long)vq->desc_addr,
			   (unsigned long long)vq->avail_addr,
			   (unsigned long long)vq->used_addr, strerror(-ret));
		needs_reset(vm);
	}
}

static void write_queue_reg(struct virtio_mmio *vm, uint64_t offset,
			    uint32_t value)
{
	struct virtqueue *vq = selected_queue(vm);

	if (!vq) {
		guest_warn(vm, "write to queue %u, which does not exist",
			   vm->queue_sel);
		return;
	}
	if (offset == VIRTIO_MMIO_QUEUE_READY) {
		queue_set_ready(vm, vq, value);
		return;
	}
	if (vq->ready) {
		guest_warn(vm, "queue %u reconfigured while ready", vm->queue_sel);
		return;
	}
	switch (offset) {
	case VIRTIO_MMIO_QUEUE_NUM:
		if (value > vm->dev->ops->queue_max) {
			guest_warn(vm, "queue size %u over maximum %u", value,
				   vm->dev->ops->queue_max);
			return;
		}
		vq->num = value;
		break;
	case VIRTIO_MMIO_QUEUE_DESC_LOW:
	case VIRTIO_MMIO_QUEUE_DESC_HIGH:
		set_addr_half(&vq->desc_addr,
			      offset == VIRTIO_MMIO_QUEUE_DESC_HIGH, value);
		break;
	case VIRTIO_MMIO_QUEUE_AVAIL_LOW:
	case VIRTIO_MMIO_QUEUE_AVAIL_HIGH:
		set_addr_half(&vq->avail_addr,
			      offset == VIRTIO_MMIO_QUEUE_AVAIL_HIGH, value);
		break;
	default:
		set_addr_half(&vq->used_addr,
			      offset == VIRTIO_MMIO_QUEUE_USED_HIGH, value);
		break;
	}
}

static void queue_notify(struct virtio_mmio *vm, uint32_t value)
{
	/* Without NOTIFICATION_DATA the value is just the queue index. */
	if (value >= vm->dev->ops->num_queues) {
		guest_warn(vm, "notify for queue %u, which does not exist",
			   value);
		return;
	}
	if (!can_serve(vm, &vm->vqs[value]))
		return;
	vm->kicked[value] = true;
	if (vm->host->ops->kick)
		vm->host->ops->kick(vm->host->opaque, value);
	else
		serve_locked(vm, value, UINT32_MAX);
}

static void interrupt_ack(struct virtio_mmio *vm, uint32_t value)
{
	vm->isr &= ~value;
	if (!vm->isr)
		set_irq(vm, 0);
}

static void write_reg(struct virtio_mmio *vm, uint64_t offset, uint32_t value)
{
	switch (offset) {
	case VIRTIO_MMIO_DEVICE_FEATURES_SEL:
		vm->device_features_sel = value;
		break;
	case VIRTIO_MMIO_DRIVER_FEATURES:
		write_driver_features(vm, value);
		break;
	case VIRTIO_MMIO_DRIVER_FEATURES_SEL:
		vm->driver_features_sel = value;
		break;
	case VIRTIO_MMIO_QUEUE_SEL:
		vm->queue_sel = value;
		break;
	case VIRTIO_MMIO_QUEUE_NUM:
	case VIRTIO_MMIO_QUEUE_READY:
	case VIRTIO_MMIO_QUEUE_DESC_LOW:
	case VIRTIO_MMIO_QUEUE_DESC_HIGH:
	case VIRTIO_MMIO_QUEUE_AVAIL_LOW:
	case VIRTIO_MMIO_QUEUE_AVAIL_HIGH:
	case VIRTIO_MMIO_QUEUE_USED_LOW:
	case VIRTIO_MMIO_QUEUE_USED_HIGH:
		write_queue_reg(vm, offset, value);
		break;
	case VIRTIO_MMIO_QUEUE_NOTIFY:
		queue_notify(vm, value);
		break;
	case VIRTIO_MMIO_INTERRUPT_ACK:
		interrupt_ack(vm, value);
		break;
	case VIRTIO_MMIO_STATUS:
		write_status(vm, value);
		break;
	case VIRTIO_MMIO_SHM_SEL:
		break;		/* no regions: any selection reads as absent */
	default:
		guest_warn(vm, "write %#x to read-only or unknown register %#llx",
			   value, (unsigned long long)offset);
		break;
	}
}

void virtio_mmio_write(struct virtio_mmio *vm, uint64_t offset,
		       unsigned int size, uint64_t value)
{
	if (offset >= VIRTIO_MMIO_CONFIG) {
		guest_warn(vm, "write to read-only config space at %#llx",
			   (unsigned long long)offset);
		return;
	}
	if (size != 4 || (offset & 3)) {
		guest_warn(vm, "%u-byte write at %#llx (registers are 32-bit)",
			   size, (unsigned long long)offset);
		return;
	}
	pthread_mutex_lock(&vm->lock);
	write_reg(vm, offset, (uint32_t)value);
	pthread_mutex_unlock(&vm->lock);
}
