/* SPDX-License-Identifier: MIT */
/*
 * What a virtio device is, whatever carries it: the feature and status
 * bits of the virtio 1.x spec that belong to no transport, and the ops
 * table every device model implements. A device never names a transport:
 * the transport (virtio-mmio today; PCI or vhost-user tomorrow) owns
 * registers, notifications, queue serving and interrupts, and calls the
 * device only through these ops (kvmtool's virtio/ devices work the same
 * way).
 */
#ifndef VIRTIO_H
#define VIRTIO_H

#include <stddef.h>
#include <stdint.h>

#include "log.h"
#include "virtqueue.h"

/* Device status (virtio 1.x 2.1). */
#define VIRTIO_STATUS_ACKNOWLEDGE	1
#define VIRTIO_STATUS_DRIVER		2
#define VIRTIO_STATUS_DRIVER_OK		4
#define VIRTIO_STATUS_FEATURES_OK	8
#define VIRTIO_STATUS_NEEDS_RESET	0x40
#define VIRTIO_STATUS_FAILED		0x80

/* Feature bits of the rings and the device core (virtio 1.x 6). */
#define VIRTIO_RING_F_INDIRECT_DESC	28
#define VIRTIO_RING_F_EVENT_IDX		29
#define VIRTIO_F_VERSION_1		32
#define VIRTIO_F_ACCESS_PLATFORM	33

/* The most queues any of our devices has; transports size their state. */
#define VIRTIO_MAX_QUEUES		4
/* The largest device config space a transport will expose. */
#define VIRTIO_CONFIG_MAX		256

struct virtio_dev;

struct virtio_dev_ops {
	const char *type;		/* short name, e.g. "rpmb" */
	uint32_t device_id;
	uint64_t features;		/* device-specific bits offered */
	unsigned int num_queues;	/* at most VIRTIO_MAX_QUEUES */
	uint16_t queue_max;		/* at most VQ_MAX_SIZE */
	size_t config_size;		/* at most VIRTIO_CONFIG_MAX */

	/* Fills the whole config space (config_size bytes). */
	void (*get_config)(struct virtio_dev *dev, uint8_t *config);

	/*
	 * Handles one well-formed chain taken from queue @queue and returns
	 * how many bytes it wrote into the chain's writable buffers
	 * (vq_gather/vq_scatter on @vq). May take long (a store's fsync):
	 * the transport calls it with none of its own locks held, and never
	 * for two chains of one device at once, so requests of one device
	 * are handled strictly in order.
	 */
	uint32_t (*handle_chain)(struct virtio_dev *dev, unsigned int queue,
				 struct virtqueue *vq,
				 const struct vq_chain *chain);

	/* The driver reset the device; its queues are already stopped. */
	void (*reset)(struct virtio_dev *dev);

	/* Frees the device (what its constructor made). */
	void (*destroy)(struct virtio_dev *dev);
};

/* Embedded first in every device model's own state. */
struct virtio_dev {
	const struct virtio_dev_ops *ops;
	/* Everything the guest can make this device say, under one budget. */
	struct guest_log log;
};

/* For device constructors; @name says which guest and device. */
static inline void virtio_dev_init(struct virtio_dev *dev,
				   const struct virtio_dev_ops *ops,
				   const char *name)
{
	dev->ops = ops;
	guest_log_init(&dev->log, name);
}

/* For device destructors, last. */
static inline void virtio_dev_fini(struct virtio_dev *dev)
{
	guest_log_fini(&dev->log);
}

static inline const char *virtio_dev_name(const struct virtio_dev *dev)
{
	return dev->log.who;
}

static inline void virtio_dev_destroy(struct virtio_dev *dev)
{
	if (dev)
		dev->ops->destroy(dev);
}

#endif /* VIRTIO_H */
