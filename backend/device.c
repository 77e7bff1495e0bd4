// SPDX-License-Identifier: MIT
/*
 * Device lifecycle, driven by xenstore. libxl writes each generic virtio
 * device in one transaction with backend state 1 (Initialising) and
 * online=1, and does not wait for us before unpausing the guest
 * (tools/libs/light/libxl_virtio.c: skip_attach). We set the device up,
 * answer with state 2 (InitWait), as other virtio-mmio backends do, and
 * stay there. On removal libxl writes online=0 and state 5 (Closing) and
 * waits up to 10 s for state 6 (Closed) (libxl_device.c,
 * libxl__initiate_device_generic_remove).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon.h"
#include "gaddr.h"
#include "log.h"
#include "rpmb-store.h"
#include "store-name.h"
#include "virtio-rpmb.h"

static char *xs_read_key(struct daemon *d, const char *dir, const char *key)
{
	char path[256];
	unsigned int len;

	snprintf(path, sizeof(path), "%s/%s", dir, key);
	return xs_read(d->xs, XBT_NULL, path, &len);
}

static void xs_write_state(struct daemon *d, const char *dir,
			   enum xenbus_state state)
{
	char path[256], value[4];

	snprintf(path, sizeof(path), "%s/state", dir);
	snprintf(value, sizeof(value), "%d", state);
	if (!xs_write(d->xs, XBT_NULL, path, value, strlen(value)))
		log_warn("cannot write %s: %m", path);
}

static struct device *device_find(struct daemon *d, unsigned int fe,
				  unsigned int devid)
{
	for (struct guest *g = d->guests; g; g = g->next)
		for (struct device *dev = g->devices; dev; dev = dev->next)
			if (dev->keys.frontend_id == fe && dev->keys.devid == devid)
				return dev;
	return NULL;
}

static int read_keys(struct daemon *d, const char *dir, struct vdev_keys *k)
{
	char err[160] = "";
	char *base = xs_read_key(d, dir, "base");
	char *irq = xs_read_key(d, dir, "irq");
	char *transport = xs_read_key(d, dir, "transport");
	char *grants = xs_read_key(d, dir, "grant_usage");
	char *feid = xs_read_key(d, dir, "frontend-id");
	char expect[16];
	int ret = -EINVAL;

	snprintf(expect, sizeof(expect), "%u", k->frontend_id);
	if (vdev_check_transport(transport, err, sizeof(err)) ||
	    vdev_parse_base(base, &k->base, err, sizeof(err)) ||
	    vdev_parse_irq(irq, &k->irq, err, sizeof(err)) ||
	    vdev_parse_grant_usage(grants, &k->grants, err, sizeof(err)))
		goto out;
	if (!feid || strcmp(feid, expect)) {
		snprintf(err, sizeof(err), "frontend-id '%s' does not match %s",
			 feid ? feid : "", expect);
		goto out;
	}
	ret = 0;
out:
	if (ret)
		log_err("%s: skipped: %s", dir, err);
	free(base);
	free(irq);
	free(transport);
	free(grants);
	free(feid);
	return ret;
}

/* The guest's stable identity (name or UUID), never its domid. */
static char *guest_identity(struct daemon *d, unsigned int fe)
{
	char dir[64], *value, *id = NULL;
	const char *uuid;

	snprintf(dir, sizeof(dir), "/local/domain/%u", fe);
	if (d->cfg.store_key == STORE_KEY_NAME) {
		value = xs_read_key(d, dir, "name");
		if (!value)
			log_err("dom%u: cannot read its name: %m", fe);
		return value;
	}
	value = xs_read_key(d, dir, "vm");
	uuid = uuid_from_vm_path(value);
	if (uuid)
		id = strdup(uuid);
	else
		log_err("dom%u: no UUID in its 'vm' node", fe);
	free(value);
	return id;
}

static int open_store(struct daemon *d, struct device *dev,
		      const char *identity)
{
	struct rpmb_store_params params = {
		.capacity = config_capacity_for(&d->cfg, identity),
		.max_wr_cnt = d->cfg.max_wr_cnt,
		.max_rd_cnt = d->cfg.max_rd_cnt,
	};
	char err[256];
	int ret;

	ret = store_path(d->cfg.store_dir, identity, dev->keys.devid,
			 dev->store_path, sizeof(dev->store_path));
	if (ret) {
		log_err("%s: no store name for '%s'", dev->path, identity);
		return ret;
	}
	ret = rpmb_store_open(dev->store_path, RPMB_STORE_OPEN_OR_CREATE,
			      &params, &dev->store, err, sizeof(err));
	if (ret)
		log_err("%s: store %s: %s", dev->path, dev->store_path, err);
	return ret;
}

static void device_free(struct device *dev)
{
	virtio_rpmb_free(dev->vr);
	rpmb_store_close(dev->store);
	free(dev);
}

static void device_setup(struct daemon *d, const char *dir, unsigned int fe,
			 unsigned int devid, enum xenbus_state state)
{
	struct device *dev = calloc(1, sizeof(*dev));
	char name[64], *identity = NULL;
	struct guest *g;

	if (!dev)
		return;
	snprintf(dev->path, sizeof(dev->path), "%s", dir);
	dev->keys.frontend_id = fe;
	dev->keys.devid = devid;
	if (read_keys(d, dir, &dev->keys))
		goto fail;
	identity = guest_identity(d, fe);
	if (!identity || open_store(d, dev, identity))
		goto fail;
	snprintf(name, sizeof(name), "dom%u/rpmb%u", fe, devid);
	guest_mem_init_host(dev);
	g = guest_get(d, fe);
	if (!g)
		goto fail;
	dev->guest = g;
	dev->vr = virtio_rpmb_new(dev->store, &dev->host, name);
	if (!dev->vr || guest_map_window(g, dev)) {
		guest_put_if_unused(g);
		goto fail;
	}
	dev->next = g->devices;
	g->devices = dev;
	log_info("%s: serving %s at %#llx, SPI %u, %s, store %s", name,
		 identity, (unsigned long long)dev->keys.base, dev->keys.irq,
		 dev->keys.grants ? "grants" : "foreign mappings",
		 dev->store_path);
	free(identity);
	if (state != XB_INITWAIT)
		xs_write_state(d, dir, XB_INITWAIT);
	return;
fail:
	free(identity);
	device_free(dev);
}

static void device_teardown(struct device *dev, bool still_listed)
{
	struct guest *g = dev->guest;
	struct daemon *d = g->d;
	struct device **pp;

	for (pp = &g->devices; *pp; pp = &(*pp)->next) {
		if (*pp == dev) {
			*pp = dev->next;
			break;
		}
	}
	guest_unmap_window(g, dev);
	log_info("%s: device removed", dev->path);
	if (still_listed) {
		xs_write_state(d, dev->path, XB_CLOSED);
		/* libxl removes a dom0 backend's nodes; a driver domain does. */
		if (d->self_domid != 0)
			xs_rm(d->xs, XBT_NULL, dev->path);
	}
	device_free(dev);
	guest_put_if_unused(g);
}

static void device_evaluate(struct daemon *d, unsigned int fe,
			    unsigned int devid)
{
	struct device *dev = device_find(d, fe, devid);
	char dir[128], *type, *online, *state_str;
	enum xenbus_state state;
	bool up;

	snprintf(dir, sizeof(dir), "%s/%u/%u", d->root, fe, devid);
	type = xs_read_key(d, dir, "type");
	if (!type) {
		if (dev)
			device_teardown(dev, false);
		return;
	}
	if (strcmp(type, VIRTIO_RPMB_TYPE)) {
		free(type);	/* another backend's device: not ours to touch */
		return;
	}
	free(type);
	online = xs_read_key(d, dir, "online");
	state_str = xs_read_key(d, dir, "state");
	state = xs_parse_state(state_str);
	up = online && !strcmp(online, "1");
	free(online);
	free(state_str);

	if (dev) {
		if (!up || state == XB_CLOSING || state == XB_CLOSED)
			device_teardown(dev, true);
		return;
	}
	/* State 2 without us: a previous run of the daemon set it up. */
	if (up && (state == XB_INITIALISING || state == XB_INITWAIT))
		device_setup(d, dir, fe, devid, state);
}

/*
 * Removing a whole frontend directory fires one event for the directory
 * itself, none for the devices in it: look at each of ours there.
 */
static void evaluate_frontend(struct daemon *d, unsigned int fe)
{
	for (struct guest *g = d->guests; g; g = g->next) {
		if (g->domid != fe)
			continue;
		for (struct device *dev = g->devices, *next; dev; dev = next) {
			char *type = xs_read_key(d, dev->path, "type");

			next = dev->next;
			if (!type) {
				/* The last device's teardown frees the guest too. */
				bool last = g->devices == dev && !dev->next;

				device_teardown(dev, false);
				if (last)
					return;
			}
			free(type);
		}
		return;
	}
}

void devices_on_watch(struct daemon *d, const char *path)
{
	unsigned int fe, devid;
	char probe[160];

	if (!xs_parse_device_path(path, d->root, &fe, &devid)) {
		device_evaluate(d, fe, devid);
		return;
	}
	/* "<root>/<fe>": check it as if it were "<root>/<fe>/0". */
	snprintf(probe, sizeof(probe), "%s/0", path);
	if (!xs_parse_device_path(probe, d->root, &fe, &devid))
		evaluate_frontend(d, fe);
}

static bool parse_dir_number(const char *s, unsigned int *out)
{
	char path[160];
	unsigned int dummy;

	/* Reuse the strict path parser on a synthetic path. */
	snprintf(path, sizeof(path), "r/%s/0", s);
	return !xs_parse_device_path(path, "r", out, &dummy);
}

void devices_scan(struct daemon *d)
{
	unsigned int nfe, ndev;
	char **fes = xs_directory(d->xs, XBT_NULL, d->root, &nfe);

	for (unsigned int i = 0; fes && i < nfe; i++) {
		unsigned int fe, devid;
		char dir[128], **devs;

		if (!parse_dir_number(fes[i], &fe))
			continue;
		snprintf(dir, sizeof(dir), "%s/%u", d->root, fe);
		devs = xs_directory(d->xs, XBT_NULL, dir, &ndev);
		for (unsigned int j = 0; devs && j < ndev; j++)
			if (parse_dir_number(devs[j], &devid))
				device_evaluate(d, fe, devid);
		free(devs);
	}
	free(fes);
}

static bool domain_exists(struct daemon *d, unsigned int domid)
{
	char path[64];
	unsigned int len;
	void *v;

	snprintf(path, sizeof(path), "/local/domain/%u/domid", domid);
	v = xs_read(d->xs, XBT_NULL, path, &len);
	if (v) {
		free(v);
		return true;
	}
	/* A driver domain may be refused a look; only ENOENT means gone. */
	return errno != ENOENT;
}

/* Tears down every device of @g, which frees @g with its last device. */
static void guest_teardown(struct guest *g)
{
	if (!g->devices) {
		guest_put_if_unused(g);
		return;
	}
	while (g->devices) {
		bool last = !g->devices->next;

		device_teardown(g->devices, false);
		if (last)
			return;
	}
}

void devices_check_dead_guests(struct daemon *d)
{
	struct guest *g = d->guests, *next;

	while (g) {
		next = g->next;
		if (!domain_exists(d, g->domid)) {
			log_info("dom%u is gone", g->domid);
			guest_teardown(g);
		}
		g = next;
	}
}

/* Leaves xenstore as it is, so a restarted daemon picks the devices up. */
void devices_teardown_all(struct daemon *d)
{
	while (d->guests)
		guest_teardown(d->guests);
}
