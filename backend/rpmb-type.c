// SPDX-License-Identifier: MIT
/*
 * The virtio-rpmb kind of device ("virtio,device1c"): its settings come
 * from the config (capacity, per guest if overridden; request limits),
 * and each device keeps its key, counter and data in a store file
 * "<devid>.rpmb" in its guest's directory, created on first use.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "device-types.h"
#include "log.h"
#include "rpmb-store.h"
#include "virtio-rpmb.h"

static int rpmb_params(const struct config *cfg, const char *name,
		       const char *uuid, char *out, size_t len, char *err,
		       size_t errlen)
{
	unsigned int capacity = cfg->capacity;

	/* Overrides are by name (friendlier), else by UUID. */
	if (name)
		capacity = config_capacity_for(cfg, name);
	if (capacity == cfg->capacity && uuid)
		capacity = config_capacity_for(cfg, uuid);
	if ((size_t)snprintf(out, len, "capacity=%u max_wr_cnt=%u max_rd_cnt=%u",
			     capacity, cfg->max_wr_cnt, cfg->max_rd_cnt) >= len) {
		snprintf(err, errlen, "settings do not fit");
		return -ENAMETOOLONG;
	}
	return 0;
}

/* Exactly what rpmb_params writes, nothing else. */
static int parse_params(const char *params, struct rpmb_store_params *p)
{
	int end = -1;

	if (sscanf(params, "capacity=%u max_wr_cnt=%u max_rd_cnt=%u%n",
		   &p->capacity, &p->max_wr_cnt, &p->max_rd_cnt, &end) != 3 ||
	    end < 0 || params[end])
		return -EINVAL;
	return 0;
}

static struct virtio_dev *rpmb_create(unsigned int devid, const char *label,
				      const char *params, const char *dir,
				      void **state, char *err, size_t errlen)
{
	struct rpmb_store_params p;
	struct rpmb_store *st;
	struct virtio_dev *dev;
	char path[256];

	*state = NULL;
	if (parse_params(params, &p)) {
		snprintf(err, errlen, "bad settings '%s'", params);
		return NULL;
	}
	snprintf(path, sizeof(path), "%s/%u.rpmb", dir, devid);
	/* Created on first use; the settings apply only then. */
	if (rpmb_store_open(path, RPMB_STORE_OPEN_OR_CREATE, &p, &st, err,
			    errlen))
		return NULL;
	dev = virtio_rpmb_new(st, label);
	if (!dev) {
		snprintf(err, errlen, "%s: cannot create the device", path);
		rpmb_store_close(st);
		return NULL;
	}
	*state = st;
	return dev;
}

static void rpmb_destroy(struct virtio_dev *dev, void *state)
{
	virtio_dev_destroy(dev);
	rpmb_store_close(state);
}

const struct device_type rpmb_device_type = {
	.xs_type = "virtio,device1c",	/* device id 28 in hex */
	.name = "rpmb",
	.params = rpmb_params,
	.create = rpmb_create,
	.destroy = rpmb_destroy,
};
