/* SPDX-License-Identifier: MIT */
/*
 * The devices one worker serves for its guest: from a supervisor's ADD
 * request to a device model (device-types.h) serving its window on the
 * guest's MMIO bus, and back. Knows nothing of Xen: the hypervisor glue
 * claims windows and provides each device's guest memory and interrupt
 * through struct guest_glue_ops (Xen: ioreq.c and xen-mem.c; tests:
 * simulated guests).
 */
#ifndef BACKEND_GUEST_DEVICES_H
#define BACKEND_GUEST_DEVICES_H

#include <stddef.h>
#include <stdint.h>

#include "device-types.h"
#include "mmio-bus.h"
#include "worker-msg.h"

struct guest_glue_ops {
	/* Accesses to [@base, @base + 0x200) now come to us, or an error. */
	int (*claim)(void *opaque, uint64_t base);
	void (*unclaim)(void *opaque, uint64_t base);
	/* Guest memory and interrupt for the device @add describes. */
	int (*mem_new)(void *opaque, unsigned int devid,
		       const struct wmsg_add *add, struct virtio_host *mem);
	void (*mem_free)(void *opaque, struct virtio_host *mem);
};

struct guest_devices;

/*
 * @types: the kinds known; @dir: where device state lives (the guest's
 * directory); @bus: the guest's bus (stays the caller's).
 */
struct guest_devices *guest_devices_new(const struct device_type *const *types,
					const char *dir, struct mmio_bus *bus,
					const struct guest_glue_ops *glue,
					void *glue_opaque);
/* Removes every device. */
void guest_devices_free(struct guest_devices *gd);

/* 0, or a negative errno with the reason in @err. */
int guest_devices_add(struct guest_devices *gd, unsigned int devid,
		      const struct wmsg_add *add, char *err, size_t errlen);
/* -ENOENT if @devid is not served. */
int guest_devices_remove(struct guest_devices *gd, unsigned int devid);

unsigned int guest_devices_count(const struct guest_devices *gd);

#endif /* BACKEND_GUEST_DEVICES_H */
