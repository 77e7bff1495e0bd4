/* SPDX-License-Identifier: MIT */
/*
 * A trivial device on the real virtio-mmio transport, for transport and
 * virtqueue tests that should not depend on RPMB: it copies each chain's
 * readable bytes into its writable bytes (as far as they fit).
 */
#ifndef SIM_ECHO_H
#define SIM_ECHO_H

#include "virtio-mmio.h"

#define SIM_ECHO_DEVICE_ID	0x7e57
#define SIM_ECHO_QUEUE_MAX	64

struct sim_echo {
	struct virtio_mmio *mmio;
	struct vq_chain chain;
	uint8_t buf[64 * 1024];
	unsigned long chains;		/* well-formed chains handled */
	unsigned long bad_chains;	/* chains completed with length 0 */
	unsigned long resets;
	/* Called as each chain is handled: a driver acting meanwhile. */
	void (*while_handling)(void *arg);
	void *while_handling_arg;
};

struct sim_echo *sim_echo_new(const struct virtio_host *host);
void sim_echo_free(struct sim_echo *e);
uint64_t sim_echo_read(void *dev, uint64_t off, unsigned int size);
void sim_echo_write(void *dev, uint64_t off, unsigned int size, uint64_t value);

#endif /* SIM_ECHO_H */
