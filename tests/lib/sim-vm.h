/* SPDX-License-Identifier: MIT */
/*
 * Test double of a Xen guest for a worker in another process, shaped
 * like the ioreq interface it stands in for: guest RAM in shared memory,
 * one access slot per vCPU in a shared page, an eventfd to say "an access
 * waits" and one per vCPU to say "answered", and one eventfd per device
 * interrupt. Below the real interfaces (the worker's access source and
 * the devices' virtio_host), so the worker code it drives is the real
 * one. Create it before forking; both processes use it.
 */
#ifndef SIM_VM_H
#define SIM_VM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "guest-devices.h"
#include "guest-service.h"
#include "sim-guest.h"

#define SIM_VM_MAX_VCPUS	4
#define SIM_VM_MAX_DEVS		4

struct sim_slot {
	uint32_t state;			/* 0 idle, 1 posted, 2 answered */
	uint32_t size;
	uint32_t write;
	uint32_t pad;
	uint64_t addr;
	uint64_t data;
};

struct sim_vm {
	struct sim_guest *ram;		/* wraps the shared RAM */
	struct sim_slot *slots;		/* shared page */
	int post_fd;			/* guest -> worker */
	int done_fd[SIM_VM_MAX_VCPUS];	/* worker -> guest */
	int irq_fd[SIM_VM_MAX_DEVS];	/* worker -> guest */
	unsigned int nvcpus;

	/* Worker side. */
	struct mmio_bus *bus;
	struct sim_vm_dev {
		struct sim_vm *vm;
		unsigned int dev;
		int irq_level;
	} devs[SIM_VM_MAX_DEVS];
	uint64_t claimed[SIM_VM_MAX_DEVS];	/* window bases, 0 free */
};

struct sim_vm *sim_vm_new(uint64_t ram_base, size_t ram_size,
			  unsigned int nvcpus);
void sim_vm_free(struct sim_vm *vm);

/* Guest side: one MMIO access from @vcpu, waiting for its answer. */
uint64_t sim_vm_access(struct sim_vm *vm, unsigned int vcpu, uint64_t addr,
		       unsigned int size, bool write, uint64_t value);
/* Waits for device @dev's interrupt; false on timeout. */
bool sim_vm_wait_irq(struct sim_vm *vm, unsigned int dev, int timeout_ms);

/* Worker side: the access source for guest_service_run, onto @bus. */
struct access_source sim_vm_access_source(struct sim_vm *vm,
					  struct mmio_bus *bus);
/* Worker side: device @dev's guest memory and interrupt. */
void sim_vm_dev_host(struct sim_vm *vm, unsigned int dev,
		     struct virtio_host *host);
/*
 * Worker side: the hypervisor glue for guest_devices_new (opaque: the
 * sim_vm); device devid interrupts on irq_fd[devid].
 */
extern const struct guest_glue_ops sim_vm_glue;

#endif /* SIM_VM_H */
