/* SPDX-License-Identifier: MIT */
/*
 * virtio-mmio transport, version 2 ("modern"), device side. A device
 * plugs in through struct virtio_dev_ops; the transport owns registers,
 * feature negotiation, the status state machine, queues and interrupts.
 */
#ifndef VIRTIO_MMIO_H
#define VIRTIO_MMIO_H

#include <stddef.h>
#include <stdint.h>

#include "virtio-host.h"
#include "virtqueue.h"

#define VIRTIO_MMIO_MAGIC		0x74726976	/* "virt" */
#define VIRTIO_MMIO_VERSION		2
/* Our own vendor id ("XRPM"): drivers do not match on it. */
#define VIRTIO_MMIO_VENDOR_ID		0x4d505258

#define VIRTIO_MMIO_MAGIC_VALUE		0x000
#define VIRTIO_MMIO_VERSION_REG		0x004
#define VIRTIO_MMIO_DEVICE_ID		0x008
#define VIRTIO_MMIO_VENDOR_ID_REG	0x00c
#define VIRTIO_MMIO_DEVICE_FEATURES	0x010
#define VIRTIO_MMIO_DEVICE_FEATURES_SEL	0x014
#define VIRTIO_MMIO_DRIVER_FEATURES	0x020
#define VIRTIO_MMIO_DRIVER_FEATURES_SEL	0x024
#define VIRTIO_MMIO_QUEUE_SEL		0x030
#define VIRTIO_MMIO_QUEUE_NUM_MAX	0x034
#define VIRTIO_MMIO_QUEUE_NUM		0x038
#define VIRTIO_MMIO_QUEUE_READY		0x044
#define VIRTIO_MMIO_QUEUE_NOTIFY	0x050
#define VIRTIO_MMIO_INTERRUPT_STATUS	0x060
#define VIRTIO_MMIO_INTERRUPT_ACK	0x064
#define VIRTIO_MMIO_STATUS		0x070
#define VIRTIO_MMIO_QUEUE_DESC_LOW	0x080
#define VIRTIO_MMIO_QUEUE_DESC_HIGH	0x084
#define VIRTIO_MMIO_QUEUE_AVAIL_LOW	0x090
#define VIRTIO_MMIO_QUEUE_AVAIL_HIGH	0x094
#define VIRTIO_MMIO_QUEUE_USED_LOW	0x0a0
#define VIRTIO_MMIO_QUEUE_USED_HIGH	0x0a4
#define VIRTIO_MMIO_SHM_SEL		0x0ac
#define VIRTIO_MMIO_SHM_LEN_LOW		0x0b0
#define VIRTIO_MMIO_SHM_LEN_HIGH	0x0b4
#define VIRTIO_MMIO_SHM_BASE_LOW	0x0b8
#define VIRTIO_MMIO_SHM_BASE_HIGH	0x0bc
#define VIRTIO_MMIO_CONFIG_GENERATION	0x0fc
#define VIRTIO_MMIO_CONFIG		0x100

#define VIRTIO_STATUS_ACKNOWLEDGE	1
#define VIRTIO_STATUS_DRIVER		2
#define VIRTIO_STATUS_DRIVER_OK		4
#define VIRTIO_STATUS_FEATURES_OK	8
#define VIRTIO_STATUS_NEEDS_RESET	0x40
#define VIRTIO_STATUS_FAILED		0x80

#define VIRTIO_MMIO_INT_VRING		1
#define VIRTIO_MMIO_INT_CONFIG		2

#define VIRTIO_RING_F_INDIRECT_DESC	28
#define VIRTIO_RING_F_EVENT_IDX		29
#define VIRTIO_F_VERSION_1		32
#define VIRTIO_F_ACCESS_PLATFORM	33

#define VIRTIO_MMIO_MAX_QUEUES		4

struct virtio_mmio;

struct virtio_dev_ops {
	uint32_t device_id;
	uint64_t features;		/* device-specific bits offered */
	unsigned int num_queues;
	uint16_t queue_max;
	size_t config_size;
	/* Fills the whole config space (config_size bytes). */
	void (*get_config)(void *dev, uint8_t *config);
	/* The driver kicked @vq; process what it made available. */
	void (*queue_notify)(void *dev, struct virtio_mmio *vm,
			     struct virtqueue *vq);
	/* The driver reset the device; queues are already stopped. */
	void (*reset)(void *dev);
};

struct virtio_mmio *virtio_mmio_new(const struct virtio_dev_ops *ops,
				    void *dev, const struct virtio_host *host,
				    const char *name);
void virtio_mmio_free(struct virtio_mmio *vm);

uint64_t virtio_mmio_read(struct virtio_mmio *vm, uint64_t offset,
			  unsigned int size);
void virtio_mmio_write(struct virtio_mmio *vm, uint64_t offset,
		       unsigned int size, uint64_t value);
void virtio_mmio_reset(struct virtio_mmio *vm);

/*
 * Completes everything the driver made available on @vq through
 * @handle, then interrupts as the driver asked. A corrupt ring puts the
 * device in NEEDS_RESET. @chain is the caller's scratch space.
 */
void virtio_mmio_serve_queue(struct virtio_mmio *vm, struct virtqueue *vq,
			     struct vq_chain *chain, vq_chain_fn handle,
			     void *dev);

/* Raises the used-buffer interrupt. */
void virtio_mmio_signal_used(struct virtio_mmio *vm);

/*
 * The driver broke the protocol (e.g. a corrupt ring): set NEEDS_RESET and
 * tell the driver through a configuration-change interrupt (4.2.2.1).
 */
void virtio_mmio_needs_reset(struct virtio_mmio *vm);

#endif /* VIRTIO_MMIO_H */
