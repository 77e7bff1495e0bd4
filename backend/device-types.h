/* SPDX-License-Identifier: MIT */
/*
 * The kinds of virtio device the daemon can serve, by the type string
 * libxl writes into xenstore. Each kind lives in a file of its own
 * (rpmb-type.c) and has two halves: what the privileged supervisor
 * decides for a new device (its settings, from the config), and what the
 * guest's worker builds from those settings inside the guest's own
 * directory (the device model and whatever state it keeps). Adding a
 * kind is one new file and one row in device_types[].
 */
#ifndef BACKEND_DEVICE_TYPES_H
#define BACKEND_DEVICE_TYPES_H

#include <stddef.h>

#include "virtio.h"

struct config;

struct device_type {
	const char *xs_type;		/* libxl's "type" key: "virtio,device1c" */
	const char *name;		/* short: "rpmb"; in labels and messages */

	/*
	 * Supervisor: the settings of a new device of the guest named @name
	 * (with UUID @uuid; either may be NULL), as one string for the
	 * worker. 0, or -errno with @err.
	 */
	int (*params)(const struct config *cfg, const char *name,
		      const char *uuid, char *out, size_t len, char *err,
		      size_t errlen);

	/*
	 * Worker, inside @dir (the guest's directory): builds the device
	 * model of device @devid from @params. Its own state (a store) goes
	 * to *@state. NULL on failure, with @err.
	 */
	struct virtio_dev *(*create)(unsigned int devid, const char *label,
				     const char *params, const char *dir,
				     void **state, char *err, size_t errlen);

	/* Worker: undoes create, the device model first. */
	void (*destroy)(struct virtio_dev *dev, void *state);
};

/* The daemon's kinds, NULL-terminated. */
extern const struct device_type *const device_types[];

const struct device_type *device_type_by_xs(const struct device_type *const *table,
					    const char *xs_type);
const struct device_type *device_type_by_name(const struct device_type *const *table,
					      const char *name);

/* rpmb-type.c */
extern const struct device_type rpmb_device_type;

#endif /* BACKEND_DEVICE_TYPES_H */
