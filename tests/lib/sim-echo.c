// SPDX-License-Identifier: MIT
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "sim-echo.h"

static void echo_get_config(void *dev, uint8_t *config)
{
	config[0] = 0x11;
	config[1] = 0x22;
	config[2] = 0x33;
	config[3] = 0x44;
}

static uint32_t echo_chain(void *dev, struct virtqueue *vq,
			   const struct vq_chain *chain)
{
	struct sim_echo *e = dev;
	uint32_t n = chain->readable_len;

	e->chains++;
	if (e->while_handling)
		e->while_handling(e->while_handling_arg);
	if (n > chain->writable_len)
		n = chain->writable_len;
	if (n > sizeof(e->buf))
		n = sizeof(e->buf);
	if (vq_gather(vq, chain, e->buf, n) || vq_scatter(vq, chain, e->buf, n))
		return 0;
	return n;
}

static void echo_notify(void *dev, struct virtio_mmio *vm, struct virtqueue *vq)
{
	struct sim_echo *e = dev;
	unsigned long before = e->chains;
	uint16_t used_before = vq->used_idx;

	virtio_mmio_serve_queue(vm, vq, &e->chain, echo_chain, e);
	/* Completions that never reached echo_chain were malformed. */
	e->bad_chains += (uint16_t)(vq->used_idx - used_before) -
			 (e->chains - before);
}

static void echo_reset(void *dev)
{
	struct sim_echo *e = dev;

	e->resets++;
}

static const struct virtio_dev_ops echo_ops = {
	.device_id = SIM_ECHO_DEVICE_ID,
	.features = 0,
	.num_queues = 1,
	.queue_max = SIM_ECHO_QUEUE_MAX,
	.config_size = 4,
	.get_config = echo_get_config,
	.queue_notify = echo_notify,
	.reset = echo_reset,
};

struct sim_echo *sim_echo_new(const struct virtio_host *host)
{
	struct sim_echo *e = calloc(1, sizeof(*e));

	if (!e)
		return NULL;
	e->mmio = virtio_mmio_new(&echo_ops, e, host, "echo");
	if (!e->mmio) {
		free(e);
		return NULL;
	}
	return e;
}

void sim_echo_free(struct sim_echo *e)
{
	if (!e)
		return;
	virtio_mmio_free(e->mmio);
	free(e);
}

uint64_t sim_echo_read(void *dev, uint64_t off, unsigned int size)
{
	struct sim_echo *e = dev;

	return virtio_mmio_read(e->mmio, off, size);
}

void sim_echo_write(void *dev, uint64_t off, unsigned int size, uint64_t value)
{
	struct sim_echo *e = dev;

	virtio_mmio_write(e->mmio, off, size, value);
}
