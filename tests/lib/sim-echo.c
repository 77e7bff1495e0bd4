// SPDX-License-Identifier: MIT
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "sim-echo.h"

static struct sim_echo *to_echo(struct virtio_dev *dev)
{
	return (struct sim_echo *)dev;
}

static void echo_get_config(struct virtio_dev *dev, uint8_t *config)
{
	config[0] = 0x11;
	config[1] = 0x22;
	config[2] = 0x33;
	config[3] = 0x44;
}

static uint32_t echo_handle_chain(struct virtio_dev *dev, unsigned int queue,
				  struct virtqueue *vq,
				  const struct vq_chain *chain)
{
	struct sim_echo *e = to_echo(dev);
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

static void echo_reset(struct virtio_dev *dev)
{
	to_echo(dev)->resets++;
}

static void echo_destroy(struct virtio_dev *dev)
{
	virtio_dev_fini(dev);
	free(to_echo(dev));
}

static const struct virtio_dev_ops echo_ops = {
	.type = "echo",
	.device_id = SIM_ECHO_DEVICE_ID,
	.features = 0,
	.num_queues = 1,
	.queue_max = SIM_ECHO_QUEUE_MAX,
	.config_size = 4,
	.get_config = echo_get_config,
	.handle_chain = echo_handle_chain,
	.reset = echo_reset,
	.destroy = echo_destroy,
};

struct sim_echo *sim_echo_new(const char *name)
{
	struct sim_echo *e = calloc(1, sizeof(*e));

	if (e)
		virtio_dev_init(&e->vdev, &echo_ops, name ? name : "echo");
	return e;
}

struct virtio_dev *sim_echo_dev(struct sim_echo *e)
{
	return &e->vdev;
}
