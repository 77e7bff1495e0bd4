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

static uint32_t echo_chain(struct sim_echo *e, struct virtqueue *vq)
{
	uint32_t n = e->chain.readable_len;

	if (n > sizeof(e->buf) || n > e->chain.writable_len)
		n = e->chain.writable_len < sizeof(e->buf) ?
		    e->chain.writable_len : sizeof(e->buf);
	if (n > e->chain.readable_len)
		n = e->chain.readable_len;
	if (vq_gather(vq, &e->chain, e->buf, n) ||
	    vq_scatter(vq, &e->chain, e->buf, n))
		return 0;
	return n;
}

static void echo_notify(void *dev, struct virtio_mmio *vm, struct virtqueue *vq)
{
	struct sim_echo *e = dev;
	bool more, pushed = false;
	int ret;

	do {
		while ((ret = vq_pop(vq, &e->chain)) != 0) {
			uint32_t len = 0;

			if (ret == -EPROTO) {
				virtio_mmio_needs_reset(vm);
				return;
			}
			if (ret > 0) {
				len = echo_chain(e, vq);
				e->chains++;
			} else {
				e->bad_chains++;
			}
			vq_push(vq, e->chain.head, len);
			pushed = true;
		}
		more = false;
		if (pushed && vq_finish_batch(vq, &more))
			virtio_mmio_signal_used(vm);
		pushed = false;
	} while (more);
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
