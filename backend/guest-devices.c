// SPDX-License-Identifier: MIT
/*
 * Adding a device is create (its state opens) -> memory -> claim the
 * window -> onto the bus; removing is the reverse, and the bus makes
 * sure no request is in hand before memory and state go.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "guest-devices.h"
#include "log.h"

struct served {
	unsigned int devid;
	uint64_t base;
	const struct device_type *type;
	void *state;
	struct virtio_host mem;
};

struct guest_devices {
	const struct device_type *const *types;
	const char *dir;
	struct mmio_bus *bus;
	const struct guest_glue_ops *glue;
	void *glue_opaque;
	unsigned int n;
	struct served devs[MMIO_BUS_MAX_DEVICES];
};

struct guest_devices *guest_devices_new(const struct device_type *const *types,
					const char *dir, struct mmio_bus *bus,
					const struct guest_glue_ops *glue,
					void *glue_opaque)
{
	struct guest_devices *gd = calloc(1, sizeof(*gd));

	if (!gd)
		return NULL;
	gd->types = types;
	gd->dir = dir;
	gd->bus = bus;
	gd->glue = glue;
	gd->glue_opaque = glue_opaque;
	return gd;
}

static struct served *find(struct guest_devices *gd, unsigned int devid)
{
	for (unsigned int i = 0; i < gd->n; i++)
		if (gd->devs[i].devid == devid)
			return &gd->devs[i];
	return NULL;
}

int guest_devices_add(struct guest_devices *gd, unsigned int devid,
		      const struct wmsg_add *add, char *err, size_t errlen)
{
	const struct device_type *type = device_type_by_name(gd->types, add->type);
	struct served s = { .devid = devid, .base = add->base, .type = type };
	struct virtio_dev *dev;
	int ret;

	if (!type) {
		snprintf(err, errlen, "unknown device type '%s'", add->type);
		return -EINVAL;
	}
	if (find(gd, devid) || gd->n == MMIO_BUS_MAX_DEVICES) {
		snprintf(err, errlen, "device %u exists, or too many devices", devid);
		return -EEXIST;
	}
	/*
	 * Checked before the claim: releasing a failed claim would also
	 * release the window of the device that has it.
	 */
	if (mmio_bus_device(gd->bus, add->base)) {
		snprintf(err, errlen, "window %#llx is another device's",
			 (unsigned long long)add->base);
		return -EEXIST;
	}
	dev = type->create(devid, add->label, add->params, gd->dir, &s.state,
			   err, errlen);
	if (!dev)
		return -EIO;
	ret = gd->glue->mem_new(gd->glue_opaque, devid, add, &s.mem);
	if (ret) {
		snprintf(err, errlen, "no guest memory access: %s", strerror(-ret));
		goto fail_dev;
	}
	ret = gd->glue->claim(gd->glue_opaque, add->base);
	if (ret) {
		snprintf(err, errlen, "cannot claim MMIO %#llx: %s",
			 (unsigned long long)add->base, strerror(-ret));
		goto fail_mem;
	}
	ret = mmio_bus_add(gd->bus, add->base, dev, &s.mem);
	if (ret) {
		snprintf(err, errlen, "window %#llx: %s",
			 (unsigned long long)add->base, strerror(-ret));
		gd->glue->unclaim(gd->glue_opaque, add->base);
		goto fail_mem;
	}
	gd->devs[gd->n++] = s;
	return 0;
fail_mem:
	gd->glue->mem_free(gd->glue_opaque, &s.mem);
fail_dev:
	type->destroy(dev, s.state);
	return ret;
}

int guest_devices_remove(struct guest_devices *gd, unsigned int devid)
{
	struct served *s = find(gd, devid);
	struct virtio_dev *dev;

	if (!s)
		return -ENOENT;
	/* No new accesses, then no request in hand, then memory and state. */
	gd->glue->unclaim(gd->glue_opaque, s->base);
	dev = mmio_bus_remove(gd->bus, s->base);
	gd->glue->mem_free(gd->glue_opaque, &s->mem);
	s->type->destroy(dev, s->state);
	*s = gd->devs[--gd->n];
	return 0;
}

unsigned int guest_devices_count(const struct guest_devices *gd)
{
	return gd->n;
}

void guest_devices_free(struct guest_devices *gd)
{
	if (!gd)
		return;
	while (gd->n)
		guest_devices_remove(gd, gd->devs[gd->n - 1].devid);
	free(gd);
}
