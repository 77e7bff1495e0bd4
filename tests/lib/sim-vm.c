// SPDX-License-Identifier: MIT
/*
 * The slots follow the ioreq protocol's order: the guest fills a slot,
 * publishes "posted" (release) and signals; the worker answers, publishes
 * "answered" (release) and signals that vCPU.
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <unistd.h>

#include "mmio-bus.h"
#include "sim-vm.h"

static void *shared(size_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

struct sim_vm *sim_vm_new(uint64_t ram_base, size_t ram_size,
			  unsigned int nvcpus)
{
	struct sim_vm *vm = calloc(1, sizeof(*vm));
	uint8_t *ram;

	if (!vm || nvcpus > SIM_VM_MAX_VCPUS)
		abort();
	ram = shared(ram_size);
	vm->slots = shared(4096);
	if (!ram || !vm->slots)
		abort();
	vm->ram = sim_guest_wrap(ram, ram_base, ram_size);
	vm->nvcpus = nvcpus;
	vm->post_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	for (unsigned int i = 0; i < nvcpus; i++)
		vm->done_fd[i] = eventfd(0, EFD_CLOEXEC);
	for (unsigned int i = 0; i < SIM_VM_MAX_DEVS; i++)
		vm->irq_fd[i] = eventfd(0, EFD_CLOEXEC);
	return vm;
}

void sim_vm_free(struct sim_vm *vm)
{
	if (!vm)
		return;
	munmap(vm->ram->ram, vm->ram->size);
	munmap(vm->slots, 4096);
	sim_guest_unwrap(vm->ram);
	close(vm->post_fd);
	for (unsigned int i = 0; i < vm->nvcpus; i++)
		close(vm->done_fd[i]);
	for (unsigned int i = 0; i < SIM_VM_MAX_DEVS; i++)
		close(vm->irq_fd[i]);
	free(vm);
}

static void kick(int fd)
{
	uint64_t one = 1;

	if (write(fd, &one, sizeof(one)) != sizeof(one))
		abort();
}

static void drain(int fd)
{
	uint64_t n;

	if (read(fd, &n, sizeof(n)) < 0 && errno != EAGAIN)
		abort();
}

uint64_t sim_vm_access(struct sim_vm *vm, unsigned int vcpu, uint64_t addr,
		       unsigned int size, bool write, uint64_t value)
{
	struct sim_slot *s = &vm->slots[vcpu];

	s->addr = addr;
	s->size = size;
	s->write = write;
	s->data = value;
	__atomic_store_n(&s->state, 1, __ATOMIC_RELEASE);
	kick(vm->post_fd);
	/* A vCPU stays in its access until the answer is there. */
	while (__atomic_load_n(&s->state, __ATOMIC_ACQUIRE) != 2)
		drain(vm->done_fd[vcpu]);
	__atomic_store_n(&s->state, 0, __ATOMIC_RELAXED);
	return s->data;
}

bool sim_vm_wait_irq(struct sim_vm *vm, unsigned int dev, int timeout_ms)
{
	struct pollfd p = { .fd = vm->irq_fd[dev], .events = POLLIN };

	if (poll(&p, 1, timeout_ms) != 1)
		return false;
	drain(vm->irq_fd[dev]);
	return true;
}

static void handle(void *opaque)
{
	struct sim_vm *vm = opaque;

	drain(vm->post_fd);
	for (unsigned int i = 0; i < vm->nvcpus; i++) {
		struct sim_slot *s = &vm->slots[i];

		if (__atomic_load_n(&s->state, __ATOMIC_ACQUIRE) != 1)
			continue;
		if (s->write)
			mmio_bus_write(vm->bus, s->addr, s->size, s->data);
		else
			s->data = mmio_bus_read(vm->bus, s->addr, s->size);
		__atomic_store_n(&s->state, 2, __ATOMIC_RELEASE);
		kick(vm->done_fd[i]);
	}
}

struct access_source sim_vm_access_source(struct sim_vm *vm,
					  struct mmio_bus *bus)
{
	vm->bus = bus;
	return (struct access_source){
		.fd = vm->post_fd, .handle = handle, .handle_all = handle,
		.opaque = vm,
	};
}

static int dh_map(void *opaque, uint64_t addr, size_t len,
		  enum guest_access access, struct guest_mapping *map)
{
	struct sim_vm_dev *d = opaque;

	return d->vm->ram->host.ops->map(d->vm->ram, addr, len, access, map);
}

static void dh_unmap(void *opaque, struct guest_mapping *map)
{
	struct sim_vm_dev *d = opaque;

	d->vm->ram->host.ops->unmap(d->vm->ram, map);
}

/* Edge-triggered, as the virtio SPI is: a rising level interrupts. */
static void dh_set_irq(void *opaque, int level)
{
	struct sim_vm_dev *d = opaque;

	if (level && !d->irq_level)
		kick(d->vm->irq_fd[d->dev]);
	d->irq_level = level;
}

static const struct virtio_host_ops dev_host_ops = {
	.map = dh_map,
	.unmap = dh_unmap,
	.set_irq = dh_set_irq,
};

void sim_vm_dev_host(struct sim_vm *vm, unsigned int dev,
		     struct virtio_host *host)
{
	vm->devs[dev] = (struct sim_vm_dev){ .vm = vm, .dev = dev };
	*host = (struct virtio_host){ .ops = &dev_host_ops,
				      .opaque = &vm->devs[dev] };
}

static int glue_claim(void *opaque, uint64_t base)
{
	struct sim_vm *vm = opaque;

	for (unsigned int i = 0; i < SIM_VM_MAX_DEVS; i++)
		if (vm->claimed[i] == base)
			return -EEXIST;
	for (unsigned int i = 0; i < SIM_VM_MAX_DEVS; i++)
		if (!vm->claimed[i]) {
			vm->claimed[i] = base;
			return 0;
		}
	return -ENOSPC;
}

static void glue_unclaim(void *opaque, uint64_t base)
{
	struct sim_vm *vm = opaque;

	for (unsigned int i = 0; i < SIM_VM_MAX_DEVS; i++)
		if (vm->claimed[i] == base)
			vm->claimed[i] = 0;
}

static int glue_mem_new(void *opaque, unsigned int devid,
			const struct wmsg_add *add, struct virtio_host *mem)
{
	(void)add;
	if (devid >= SIM_VM_MAX_DEVS)
		return -ERANGE;
	sim_vm_dev_host(opaque, devid, mem);
	return 0;
}

static void glue_mem_free(void *opaque, struct virtio_host *mem)
{
	(void)opaque;
	(void)mem;
}

const struct guest_glue_ops sim_vm_glue = {
	.claim = glue_claim,
	.unclaim = glue_unclaim,
	.mem_new = glue_mem_new,
	.mem_free = glue_mem_free,
};
