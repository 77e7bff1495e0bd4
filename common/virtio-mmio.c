// SPDX-License-Identifier: MIT
/*
 * virtio-mmio register file and device status state machine (virtio 1.x,
 * section 4.2.2). Every access comes from an untrusted guest: anything the
 * spec does not allow is logged (rate-limited) and ignored.
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

#define CONFIG_MAX	256

struct virtio_mmio {
	char name[64];
	const struct virtio_dev_ops *ops;
	void *dev;
	const struct virtio_host *host;

	uint32_t status;
	uint32_t isr;
	int irq_level;
	uint32_t device_features_sel;
	uint32_t driver_features_sel;
	uint64_t driver_features;
	uint32_t queue_sel;
	struct virtqueue vqs[VIRTIO_MMIO_MAX_QUEUES];
};

static uint64_t offered_features(const struct virtio_mmio *vm)
{
	return vm->ops->features | TRANSPORT_FEATURES;
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

void virtio_mmio_signal_used(struct virtio_mmio *vm)
{
	raise_isr(vm, VIRTIO_MMIO_INT_VRING);
}

void virtio_mmio_serve_queue(struct virtio_mmio *vm, struct virtqueue *vq,
			     struct vq_chain *chain, vq_chain_fn handle,
			     void *dev)
{
	unsigned int result = vq_serve(vq, chain, handle, dev);

	if (result & VQ_SERVE_BROKEN)
		virtio_mmio_needs_reset(vm);
	else if (result & VQ_SERVE_NOTIFY)
		virtio_mmio_signal_used(vm);
}

void virtio_mmio_needs_reset(struct virtio_mmio *vm)
{
	if (vm->status & VIRTIO_STATUS_NEEDS_RESET)
		return;
	log_warn("%s: guest driver broke the protocol; device needs reset",
		 vm->name);
	vm->status |= VIRTIO_STATUS_NEEDS_RESET;
	if (vm->status & VIRTIO_STATUS_DRIVER_OK)
		raise_isr(vm, VIRTIO_MMIO_INT_CONFIG);
}

void virtio_mmio_reset(struct virtio_mmio *vm)
{
	unsigned int i;

	for (i = 0; i < VIRTIO_MMIO_MAX_QUEUES; i++) {
		vq_stop(&vm->vqs[i]);
		memset(&vm->vqs[i], 0, sizeof(vm->vqs[i]));
	}
	vm->status = 0;
	vm->isr = 0;
	vm->device_features_sel = 0;
	vm->driver_features_sel = 0;
	vm->driver_features = 0;
	vm->queue_sel = 0;
	set_irq(vm, 0);
	if (vm->ops->reset)
		vm->ops->reset(vm->dev);
}

struct virtio_mmio *virtio_mmio_new(const struct virtio_dev_ops *ops,
				    void *dev, const struct virtio_host *host,
				    const char *name)
{
	struct virtio_mmio *vm;

	if (ops->num_queues > VIRTIO_MMIO_MAX_QUEUES ||
	    ops->queue_max > VQ_MAX_SIZE || ops->config_size > CONFIG_MAX)
		return NULL;
	vm = calloc(1, sizeof(*vm));
	if (!vm)
		return NULL;
	vm->ops = ops;
	vm->dev = dev;
	vm->host = host;
	snprintf(vm->name, sizeof(vm->name), "%s", name ? name : "virtio");
	return vm;
}

void virtio_mmio_free(struct virtio_mmio *vm)
{
	unsigned int i;

	if (!vm)
		return;
	for (i = 0; i < VIRTIO_MMIO_MAX_QUEUES; i++)
		vq_stop(&vm->vqs[i]);
	free(vm);
}

static struct virtqueue *selected_queue(struct virtio_mmio *vm)
{
	if (vm->queue_sel >= vm->ops->num_queues)
		return NULL;
	return &vm->vqs[vm->queue_sel];
}

static uint64_t read_config(struct virtio_mmio *vm, uint64_t off,
			    unsigned int size)
{
	uint8_t config[CONFIG_MAX] = { 0 };
	uint64_t value = 0;

	if (!size || size > 4 || (off & (size - 1)) ||
	    off >= vm->ops->config_size || size > vm->ops->config_size - off) {
		log_guest("%s: bad config read, offset %#llx size %u",
			  vm->name, (unsigned long long)off, size);
		return 0;
	}
	vm->ops->get_config(vm->dev, config);
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
		return vm->ops->queue_max;
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
		return vm->ops->device_id;
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
		log_guest("%s: read of write-only or unknown register %#llx",
			  vm->name, (unsigned long long)offset);
		return 0;
	}
}

uint64_t virtio_mmio_read(struct virtio_mmio *vm, uint64_t offset,
			  unsigned int size)
{
	if (offset >= VIRTIO_MMIO_CONFIG)
		return read_config(vm, offset - VIRTIO_MMIO_CONFIG, size);
	if (size != 4 || (offset & 3)) {
		log_guest("%s: %u-byte read at %#llx (registers are 32-bit)",
			  vm->name, size, (unsigned long long)offset);
		return 0;
	}
	return read_reg(vm, offset);
}

static bool features_acceptable(const struct virtio_mmio *vm)
{
	uint64_t f = vm->driver_features;

	if (f & ~offered_features(vm)) {
		log_guest("%s: driver accepted features %#llx we never offered",
			  vm->name,
			  (unsigned long long)(f & ~offered_features(vm)));
		return false;
	}
	if (!(f & (1ULL << VIRTIO_F_VERSION_1))) {
		log_guest("%s: legacy driver (no VERSION_1) refused", vm->name);
		return false;
	}
	return true;
}

static void apply_features(struct virtio_mmio *vm)
{
	unsigned int i;

	for (i = 0; i < VIRTIO_MMIO_MAX_QUEUES; i++) {
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
		virtio_mmio_reset(vm);
		return;
	}
	if (value & ~0xffu || (vm->status & ~value & ~VIRTIO_STATUS_NEEDS_RESET)) {
		log_guest("%s: status %#x -> %#x not allowed without reset",
			  vm->name, vm->status, value);
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
		log_guest("%s: DRIVER_OK before FEATURES_OK ignored", vm->name);
		value &= ~VIRTIO_STATUS_DRIVER_OK;
	}
	vm->status = value | (vm->status & VIRTIO_STATUS_NEEDS_RESET);
}

static void write_driver_features(struct virtio_mmio *vm, uint32_t value)
{
	unsigned int shift;

	if (!(vm->status & VIRTIO_STATUS_DRIVER) ||
	    (vm->status & VIRTIO_STATUS_FEATURES_OK)) {
		log_guest("%s: driver features written in status %#x",
			  vm->name, vm->status);
		return;
	}
	if (vm->driver_features_sel > 1) {
		if (value)
			log_guest("%s: features word %u does not exist",
				  vm->name, vm->driver_features_sel);
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
		vq_stop(vq);
		return;
	}
	if (vq->ready)
		return;
	if (!(vm->status & VIRTIO_STATUS_FEATURES_OK)) {
		log_guest("%s: queue enabled before FEATURES_OK", vm->name);
		return;
	}
	ret = vq_start(vq, vm->host);
	if (ret) {
		log_guest("%s: queue %u setup refused (num %u, desc %#llx, avail %#llx, used %#llx): %s",
			  vm->name, vm->queue_sel, vq->num,
			  (unsigned long long)vq->desc_addr,
			  (unsigned long long)vq->avail_addr,
			  (unsigned long long)vq->used_addr, strerror(-ret));
		virtio_mmio_needs_reset(vm);
	}
}

static void write_queue_reg(struct virtio_mmio *vm, uint64_t offset,
			    uint32_t value)
{
	struct virtqueue *vq = selected_queue(vm);

	if (!vq) {
		log_guest("%s: write to queue %u, which does not exist",
			  vm->name, vm->queue_sel);
		return;
	}
	if (offset == VIRTIO_MMIO_QUEUE_READY) {
		queue_set_ready(vm, vq, value);
		return;
	}
	if (vq->ready) {
		log_guest("%s: queue %u reconfigured while ready", vm->name,
			  vm->queue_sel);
		return;
	}
	switch (offset) {
	case VIRTIO_MMIO_QUEUE_NUM:
		if (value > vm->ops->queue_max) {
			log_guest("%s: queue size %u over maximum %u",
				  vm->name, value, vm->ops->queue_max);
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
	if (value >= vm->ops->num_queues) {
		log_guest("%s: notify for queue %u, which does not exist",
			  vm->name, value);
		return;
	}
	if (!(vm->status & VIRTIO_STATUS_DRIVER_OK) ||
	    (vm->status & VIRTIO_STATUS_NEEDS_RESET) || !vm->vqs[value].ready)
		return;
	vm->ops->queue_notify(vm->dev, vm, &vm->vqs[value]);
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
		log_guest("%s: write %#x to read-only or unknown register %#llx",
			  vm->name, value, (unsigned long long)offset);
		break;
	}
}

void virtio_mmio_write(struct virtio_mmio *vm, uint64_t offset,
		       unsigned int size, uint64_t value)
{
	if (offset >= VIRTIO_MMIO_CONFIG) {
		log_guest("%s: write to read-only config space at %#llx",
			  vm->name, (unsigned long long)offset);
		return;
	}
	if (size != 4 || (offset & 3)) {
		log_guest("%s: %u-byte write at %#llx (registers are 32-bit)",
			  vm->name, size, (unsigned long long)offset);
		return;
	}
	write_reg(vm, offset, (uint32_t)value);
}
