/* SPDX-License-Identifier: MIT */
/*
 * One guest's virtio-mmio devices: each device model behind its own
 * transport at its window, guest accesses dispatched to the window they
 * fall in, and queues served by a service pool rather than inside the
 * access. This is the whole virtio host a hypervisor glue needs: it
 * delivers accesses and provides guest memory and interrupts per device
 * (struct virtio_host), nothing more.
 *
 * Threads: add, remove and the accesses come from one thread (the glue's
 * event loop); the pool's threads serve queues meanwhile.
 */
#ifndef MMIO_BUS_H
#define MMIO_BUS_H

#include <stdbool.h>
#include <stdint.h>

#include "virtio-host.h"
#include "virtio.h"

/* The most devices one guest can have (libxl hands out 11 SPIs). */
#define MMIO_BUS_MAX_DEVICES	16

struct mmio_bus;

/*
 * Requests a queue is served before the others get a turn: enough to
 * amortise a turn's cost over a burst, few enough that a guest that keeps
 * republishing delays its neighbours by at most this many requests.
 */
#define MMIO_BUS_BATCH		8

/*
 * @nthreads service threads, each turn serving at most @batch requests
 * of one queue before others get theirs. @label names the guest in logs.
 */
struct mmio_bus *mmio_bus_new(const char *label, unsigned int nthreads,
			      unsigned int batch);
/*
 * Stops the threads. Devices still on the bus are removed and destroyed
 * (owners that keep state beside a device remove it themselves first).
 */
void mmio_bus_free(struct mmio_bus *bus);

/*
 * Puts @dev (now the bus's) at the window @base..@base+0x1ff, with @mem
 * giving its guest memory and interrupt (its kick op is the bus's own).
 * -EEXIST if the window overlaps another, -ENOSPC if full.
 */
int mmio_bus_add(struct mmio_bus *bus, uint64_t base, struct virtio_dev *dev,
		 const struct virtio_host *mem);

/*
 * Stops serving the device at @base: no request of it is in hand when
 * this returns, its queues are unmapped, and the device is the caller's
 * again (NULL if there was none).
 */
struct virtio_dev *mmio_bus_remove(struct mmio_bus *bus, uint64_t base);

/* The device at @base, or NULL. */
struct virtio_dev *mmio_bus_device(struct mmio_bus *bus, uint64_t base);

/*
 * A guest access of @size bytes at guest-physical @addr. An access that
 * hits no window (or straddles a window's end) is logged (rate-limited)
 * and ignored; reading it gives all ones, as an unclaimed bus would.
 */
uint64_t mmio_bus_read(struct mmio_bus *bus, uint64_t addr, unsigned int size);
void mmio_bus_write(struct mmio_bus *bus, uint64_t addr, unsigned int size,
		    uint64_t value);

/*
 * The device at @base was set up anew after the backend lost its state
 * (a worker restarted): see virtio_mmio_set_needs_reset. -ENOENT if none.
 */
int mmio_bus_needs_reset(struct mmio_bus *bus, uint64_t base);

/*
 * Index of the window (each @win_size bytes at bases[i]) containing
 * [addr, addr + size), or -1. An access that straddles a window's end is
 * not inside it. Pure; exported for tests.
 */
int mmio_find_window(const uint64_t *bases, unsigned int n, uint64_t win_size,
		     uint64_t addr, unsigned int size);

#endif /* MMIO_BUS_H */
