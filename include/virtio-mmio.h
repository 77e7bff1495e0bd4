/* SPDX-License-Identifier: MIT */
/*
 * virtio-mmio transport, version 2 ("modern"), device side: the register
 * file, feature negotiation, the status state machine, queues, serving
 * them through the device's ops and interrupts. It takes any device
 * (struct virtio_dev) and any backend (struct virtio_host).
 *
 * Threads: register accesses (virtio_mmio_read/write) and queue serving
 * (virtio_mmio_serve) may come from different threads. A register access
 * never waits for a request being handled, except a reset or a queue
 * being disabled, which wait for that one request to finish (its
 * buffers and rings stay mapped until then).
 */
#ifndef VIRTIO_MMIO_H
#define VIRTIO_MMIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "virtio-host.h"
#include "virtio.h"

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

#define VIRTIO_MMIO_INT_VRING		1
#define VIRTIO_MMIO_INT_CONFIG		2

/* One device's register window (libxl's VIRTIO_MMIO_DEV_SIZE). */
#define VIRTIO_MMIO_WINDOW_SIZE		0x200

struct virtio_mmio;

/*
 * A transport for @dev, which must outlive it. Returns NULL if the
 * device's ops ask for more than the transport supports.
 */
struct virtio_mmio *virtio_mmio_new(struct virtio_dev *dev,
				    const struct virtio_host *host);
/* Stops the queues; the device stays the caller's. */
void virtio_mmio_free(struct virtio_mmio *vm);

struct virtio_dev *virtio_mmio_dev(const struct virtio_mmio *vm);

/*
 * A guest access to the window: @offset from its base, @size 1, 2, 4 or
 * 8 bytes. Bad accesses are logged (rate-limited) and ignored; reads of
 * them give 0.
 */
uint64_t virtio_mmio_read(struct virtio_mmio *vm, uint64_t offset,
			  unsigned int size);
void virtio_mmio_write(struct virtio_mmio *vm, uint64_t offset,
		       unsigned int size, uint64_t value);

/* Device reset as if the driver wrote 0 to Status (e.g. guest went away). */
void virtio_mmio_reset(struct virtio_mmio *vm);

/*
 * Serves queue @queue: at most @budget chains, then the interrupt the
 * driver asked for. Returns true if chains are left, in which case the
 * caller must call again (the driver will not kick for them). With a
 * kick op in the host, this is what the backend's service thread calls.
 */
bool virtio_mmio_serve(struct virtio_mmio *vm, unsigned int queue,
		       unsigned int budget);

/*
 * The backend lost what the driver set up (a worker restarted): set
 * NEEDS_RESET as if the driver had configured the device, so a driver
 * that handles it (virtio 1.x 2.1.2) resets and starts again, and raise
 * a configuration-change interrupt.
 */
void virtio_mmio_set_needs_reset(struct virtio_mmio *vm);

#endif /* VIRTIO_MMIO_H */
