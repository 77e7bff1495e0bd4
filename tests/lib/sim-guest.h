/* SPDX-License-Identifier: MIT */
/*
 * Test double below the real backend interface (virtio_host_ops): guest
 * RAM is a heap buffer at a made-up guest-physical base, and the
 * interrupt line is a counter. Every mapping is bounds-checked and
 * counted, so tests can prove the device never reaches outside the RAM
 * and never leaks a mapping.
 */
#ifndef SIM_GUEST_H
#define SIM_GUEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "virtio-host.h"

struct sim_guest {
	uint8_t *ram;
	uint64_t base;
	size_t size;

	/* A range the guest granted read-only (like a DMA_TO_DEVICE grant). */
	uint64_t ro_start, ro_len;

	long live_maps;		/* mappings not yet released */
	unsigned long maps;	/* total map calls */
	unsigned long refused;	/* map calls refused */
	int irq_level;
	unsigned long irq_raises;

	struct virtio_host host;
};

struct sim_guest *sim_guest_new(uint64_t base, size_t size);
void sim_guest_free(struct sim_guest *g);
/* The same over RAM the caller owns (shared memory, say); unwrap leaves it. */
struct sim_guest *sim_guest_wrap(uint8_t *ram, uint64_t base, size_t size);
void sim_guest_unwrap(struct sim_guest *g);
void *sim_guest_ptr(struct sim_guest *g, uint64_t addr);

#endif /* SIM_GUEST_H */
