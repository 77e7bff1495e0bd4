/* SPDX-License-Identifier: MIT */
/*
 * A trivial device model for transport, virtqueue and host tests that
 * should not depend on RPMB: it copies each chain's readable bytes into
 * its writable bytes (as far as they fit). Like any device it knows no
 * transport; tests put it behind virtio-mmio, and the daemon's device
 * table can carry it too (the tests' second device type).
 */
#ifndef SIM_ECHO_H
#define SIM_ECHO_H

#include "virtio.h"

#define SIM_ECHO_DEVICE_ID	0x7e57
#define SIM_ECHO_QUEUE_MAX	64

struct sim_echo {
	struct virtio_dev vdev;		/* first */
	uint8_t buf[64 * 1024];
	unsigned long chains;		/* chains the device was handed */
	unsigned long resets;
	/* Called as each chain is handled: a driver acting meanwhile. */
	void (*while_handling)(void *arg);
	void *while_handling_arg;
};

struct sim_echo *sim_echo_new(const char *name);
/* The same, as the generic device it is. */
struct virtio_dev *sim_echo_dev(struct sim_echo *e);

#endif /* SIM_ECHO_H */
