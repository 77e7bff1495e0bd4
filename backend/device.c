// SPDX-License-Identifier: MIT
/*
 * Device lifecycle, driven by xenstore. The layout is libxl's generic
 * virtio device (Xen 4.18+; tools/libs/light/libxl_virtio.c for the keys,
 * libxl_device.c for the generic add/remove protocol): see xs-keys.h for
 * the keys and dev-state.h for the state handling.
 *
 * libxl writes each device in one transaction and does not wait for us
 * before unpausing the guest (generic virtio devices skip the attach
 * wait), so each device is set up as soon as its directory is seen: no
 * sleeping in the hope that more devices follow.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "daemon.h"
#include "log.h"
#include "rpmb-store.h"
#include "store-name.h"
#include "virtio-mmio.h"
#include "virtio-rpmb.h"

enum teardown_mode {
	TEARDOWN_GONE,		/* nodes gone or guest dead: write nothing */
	TEARDOWN_CLOSE,		/* toolstack asked: write state 6 */
	TEARDOWN_STOP,		/* daemon exit: leave state 2 for a restart */
};

static char *xs_read_key(struct daemon *d, const char *dir, const char *key)
{
	char path[256];
	unsigned int len;

	snprintf(path, sizeof(path), "%s/%s", dir, key);
	return xs_read(d->xs, XBT_NULL, path, &len);
}

static void xs_write_key(struct daemon *d, const char *dir, const char *key,
			 const char *value)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/%s", dir, key);
	if (!xs_write(d->xs, XBT_NULL, path, value, strlen(value)))
		log_warn("cannot write %s: %m", path);
}

static void xs_rm_key(struct daemon *d, const char *dir, const char *key)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/%s", dir, key);
	xs_rm(d->xs, XBT_NULL, path);
}

static void xs_write_state(struct daemon *d, const char *dir,
			   enum xenbus_state state)
{
	char value[4];

	snprintf(value, sizeof(value), "%d", state);
	xs_write_key(d, dir, "state", value);
}

/*
 * State 6, and in a driver domain also removing the directory: libxl
 * removes a dom0 backend's nodes itself after state 6, but leaves a
 * driver domain's to the driver domain (libxl_device.c,
 * libxl__device_destroy only removes be_path when the toolstack domain
 * is the backend).
 */
static void close_device_dir(struct daemon *d, const char *dir)
{
	xs_write_state(d, dir, XB_CLOSED);
	if (d->self_domid != 0 && !xs_rm(d->xs, XBT_NULL, dir))
		log_warn("cannot remove %s: %m", dir);
}

static struct device *find_in(struct device *list, unsigned int fe,
			      unsigned int devid)
{
	for (struct device *dev = list; dev; dev = dev->next)
		if (dev->keys.frontend_id == fe && dev->keys.devid == devid)
			return dev;
	return NULL;
}

static struct device *find_serving(struct daemon *d, unsigned int fe,
				   unsigned int devid)
{
	for (struct guest *g = d->guests; g; g = g->next) {
		struct device *dev;

		if (g->domid == fe && (dev = find_in(g->devices, fe, devid)))
			return dev;
	}
	return NULL;
}

static void unlink_from(struct device **list, struct device *dev)
{
	for (struct device **pp = list; *pp; pp = &(*pp)->next) {
		if (*pp == dev) {
			*pp = dev->next;
			return;
		}
	}
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

/*
 * The guest's stable identity, never its domid (Xen reuses domids).
 * /local/domain/<F> is written by the toolstack and readable by dom0 and
 * the guest only (libxl_create.c, libxl__domain_make: "roperm"), so the
 * guest cannot change its name, and a driver domain needs read access
 * granted (README-admin.md).
 */
static char *read_domain_key(struct daemon *d, unsigned int fe,
			     const char *key, bool required)
{
	char dir[64], *value;

	snprintf(dir, sizeof(dir), "/local/domain/%u", fe);
	value = xs_read_key(d, dir, key);
	if (!value && required)
		log_err("dom%u: cannot read %s/%s: %m%s", fe, dir, key,
			errno == EACCES ?
			" (a driver domain needs read access to it: see xen-rpmb-backend(8))" :
			"");
	return value;
}

static int guest_identity(struct daemon *d, unsigned int fe, char **name,
			  char **uuid)
{
	bool by_name = d->cfg.store_key == STORE_KEY_NAME;
	char *vm;
	const char *u;

	*uuid = NULL;
	*name = read_domain_key(d, fe, "name", by_name);
	if (by_name)
		return *name && (*name)[0] ? 0 : -ENOENT;
	vm = read_domain_key(d, fe, "vm", true);
	u = uuid_from_vm_path(vm);
	if (u)
		*uuid = strdup(u);
	else if (vm)
		log_err("dom%u: no UUID in its 'vm' node '%s'", fe, vm);
	free(vm);
	return *uuid ? 0 : -ENOENT;
}

static int open_store(struct daemon *d, struct device *dev, const char *name,
		      const char *uuid)
{
	const char *identity = uuid ? uuid : name;
	unsigned int capacity = d->cfg.capacity;
	struct rpmb_store_params params = {
		.max_wr_cnt = d->cfg.max_wr_cnt,
		.max_rd_cnt = d->cfg.max_rd_cnt,
	};
	char err[256];
	int ret;

	/* Overrides are by name (friendlier), else by UUID. */
	if (name)
		capacity = config_capacity_for(&d->cfg, name);
	if (capacity == d->cfg.capacity && uuid)
		capacity = config_capacity_for(&d->cfg, uuid);
	params.capacity = capacity;

	ret = store_path(d->cfg.store_dir, identity, dev->keys.devid,
			 dev->store_path, sizeof(dev->store_path));
	if (ret) {
		log_err("%s: no store name for '%s'", dev->name, identity);
		return ret;
	}
	/* Created on first use; params apply only then. */
	ret = rpmb_store_open(dev->store_path, RPMB_STORE_OPEN_OR_CREATE,
			      &params, &dev->store, err, sizeof(err));
	if (ret)
		log_err("%s: store %s: %s%s", dev->name, dev->store_path, err,
			ret == -EBUSY ? " (in use by another process)" : "");
	return ret;
}

/* The device model and its transport, if made. */
static void model_free(struct device *dev)
{
	virtio_mmio_free(dev->vm);
	virtio_dev_destroy(dev->vdev);
	dev->vm = NULL;
	dev->vdev = NULL;
}

static void device_free(struct device *dev)
{
	model_free(dev);
	rpmb_store_close(dev->store);
	free(dev);
}

static struct device *device_alloc(struct daemon *d, const char *dir,
				   unsigned int fe, unsigned int devid)
{
	struct device *dev = calloc(1, sizeof(*dev));

	if (!dev)
		return NULL;
	dev->d = d;
	snprintf(dev->path, sizeof(dev->path), "%s", dir);
	snprintf(dev->name, sizeof(dev->name), "dom%u/rpmb%u", fe, devid);
	dev->keys.frontend_id = fe;
	dev->keys.devid = devid;
	return dev;
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/*
 * Remembers a failure, so that the key writes that follow (each fires the
 * watch) do not retry it; the timer does, with a growing delay.
 */
static void record_failure(struct daemon *d, struct device *dev,
			   unsigned int failures)
{
	unsigned int delay = dev_retry_delay(failures);

	model_free(dev);
	rpmb_store_close(dev->store);
	dev->store = NULL;
	dev->guest = NULL;
	dev->local = DEV_LOCAL_FAILED;
	dev->failures = failures;
	dev->retry_at = now_ms() + (uint64_t)delay * 1000;
	dev->next = d->failed;
	d->failed = dev;
	log_warn("%s: not served (failure %u); retrying in %u s or on SIGHUP",
		 dev->name, failures, delay);
}

static void device_setup(struct daemon *d, const char *dir, unsigned int fe,
			 unsigned int devid, enum xenbus_state state,
			 unsigned int failures)
{
	struct device *dev = device_alloc(d, dir, fe, devid);
	char *name = NULL, *uuid = NULL, value[8];
	struct guest *g = NULL;

	if (!dev) {
		log_err("%s: out of memory", dir);
		return;
	}
	if (read_keys(d, dir, &dev->keys) || guest_identity(d, fe, &name, &uuid) ||
	    open_store(d, dev, name, uuid))
		goto fail;
	guest_mem_init_host(dev);
	g = guest_get(d, fe);
	if (!g)
		goto fail;
	if (g->ndevices >= MAX_DEVICES_PER_GUEST) {
		log_err("%s: more than %d devices for one guest", dev->name,
			MAX_DEVICES_PER_GUEST);
		goto fail_put;
	}
	dev->guest = g;
	dev->vdev = virtio_rpmb_new(dev->store, dev->name);
	dev->vm = dev->vdev ? virtio_mmio_new(dev->vdev, &dev->host) : NULL;
	if (!dev->vm || guest_map_window(g, dev))
		goto fail_put;
	dev->local = DEV_LOCAL_SERVING;
	dev->next = g->devices;
	g->devices = dev;
	g->ndevices++;
	/* Before state 2, so a restart after a crash always finds it. */
	snprintf(value, sizeof(value), "%u", g->ioservid);
	xs_write_key(d, dir, XS_KEY_IOSERVID, value);
	log_info("%s: serving %s at %#llx, SPI %u, %s, store %s", dev->name,
		 uuid ? uuid : name, (unsigned long long)dev->keys.base,
		 dev->keys.irq, dev->keys.grants ? "grants" : "foreign mappings",
		 dev->store_path);
	/* Only if needed: an unchanged write would still fire our watch. */
	if (state != XB_INITWAIT)
		xs_write_state(d, dir, XB_INITWAIT);
	free(name);
	free(uuid);
	return;
fail_put:
	/* The device is not on the guest's list: it is released if unused. */
	model_free(dev);
	guest_put_if_unused(g);
fail:
	free(name);
	free(uuid);
	record_failure(d, dev, failures + 1);
}

static void device_teardown(struct device *dev, enum teardown_mode mode)
{
	struct guest *g = dev->guest;
	struct daemon *d = dev->d;

	unlink_from(&g->devices, dev);
	g->ndevices--;
	/* The guest's next access to the window is no longer ours... */
	guest_unmap_window(g, dev);
	/* ...then the device lets go of its ring mappings and its store. */
	log_info("%s: device removed (%s)", dev->name,
		 mode == TEARDOWN_GONE ? "gone" :
		 mode == TEARDOWN_CLOSE ? "closed" : "daemon stopping");
	model_free(dev);
	rpmb_store_close(dev->store);
	dev->store = NULL;
	switch (mode) {
	case TEARDOWN_GONE:
		break;
	case TEARDOWN_CLOSE:
		xs_rm_key(d, dev->path, XS_KEY_IOSERVID);
		close_device_dir(d, dev->path);
		break;
	case TEARDOWN_STOP:
		/* The server is destroyed below (with the guest's last device). */
		xs_rm_key(d, dev->path, XS_KEY_IOSERVID);
		break;
	}
	free(dev);
	guest_put_if_unused(g);
}

static void read_view(struct daemon *d, const char *dir, struct dev_view *v)
{
	char *type = xs_read_key(d, dir, "type");
	char *online, *state;

	memset(v, 0, sizeof(*v));
	v->present = type != NULL;
	v->ours = type && !strcmp(type, VIRTIO_RPMB_TYPE);
	free(type);
	/* Another backend's device: read nothing more, write nothing ever. */
	if (!v->ours)
		return;
	online = xs_read_key(d, dir, "online");
	state = xs_read_key(d, dir, "state");
	v->online = online && !strcmp(online, "1");
	v->state = xs_parse_state(state);
	free(online);
	free(state);
}

static void device_evaluate_retry(struct daemon *d, unsigned int fe,
				  unsigned int devid, unsigned int failures)
{
	struct device *serving = find_serving(d, fe, devid);
	struct device *failed = find_in(d->failed, fe, devid);
	enum dev_local local = serving ? DEV_LOCAL_SERVING :
			       failed ? DEV_LOCAL_FAILED : DEV_LOCAL_NONE;
	enum dev_action act;
	struct dev_view v;
	char dir[128];

	snprintf(dir, sizeof(dir), "%s/%u/%u", d->root, fe, devid);
	read_view(d, dir, &v);
	act = dev_decide(local, &v);
	if (act != DEV_ACT_NONE)
		log_debug("%s: online %d state %d: %s", dir, v.online, v.state,
			  dev_action_name(act));
	switch (act) {
	case DEV_ACT_NONE:
		break;
	case DEV_ACT_SETUP:
		device_setup(d, dir, fe, devid, v.state, failures);
		break;
	case DEV_ACT_TEARDOWN_GONE:
		device_teardown(serving, TEARDOWN_GONE);
		break;
	case DEV_ACT_TEARDOWN_CLOSE:
		device_teardown(serving, TEARDOWN_CLOSE);
		break;
	case DEV_ACT_CLOSE_UNSERVED:
	case DEV_ACT_FORGET:
		if (act == DEV_ACT_CLOSE_UNSERVED)
			close_device_dir(d, dir);
		if (failed) {
			unlink_from(&d->failed, failed);
			device_free(failed);
		}
		break;
	}
}

static void device_evaluate(struct daemon *d, unsigned int fe,
			    unsigned int devid)
{
	device_evaluate_retry(d, fe, devid, 0);
}

/* Re-evaluates every device we know below @prefix (a removed parent). */
static void evaluate_known(struct daemon *d, const char *prefix)
{
	size_t plen = strlen(prefix);
	struct guest *g, *gnext;

	for (g = d->guests; g; g = gnext) {
		struct device *dev, *next;

		gnext = g->next;	/* g may go with its last device */
		for (dev = g->devices; dev; dev = next) {
			next = dev->next;
			if (!strncmp(dev->path, prefix, plen) &&
			    dev->path[plen] == '/')
				device_evaluate(d, dev->keys.frontend_id,
						dev->keys.devid);
		}
	}
	for (struct device *dev = d->failed, *next; dev; dev = next) {
		next = dev->next;
		if (!strncmp(dev->path, prefix, plen) && dev->path[plen] == '/')
			device_evaluate(d, dev->keys.frontend_id,
					dev->keys.devid);
	}
}

static bool parse_dir_number(const char *s, unsigned int *out)
{
	char path[160];
	unsigned int dummy;

	/* Reuse the strict path parser on a synthetic path. */
	snprintf(path, sizeof(path), "r/%s/0", s);
	return !xs_parse_device_path(path, "r", out, &dummy);
}

static void scan_frontend(struct daemon *d, unsigned int fe)
{
	char dir[128], **devs;
	unsigned int ndev, devid;

	snprintf(dir, sizeof(dir), "%s/%u", d->root, fe);
	devs = xs_directory(d->xs, XBT_NULL, dir, &ndev);
	for (unsigned int j = 0; devs && j < ndev; j++)
		if (parse_dir_number(devs[j], &devid))
			device_evaluate(d, fe, devid);
	free(devs);
}

void devices_scan(struct daemon *d)
{
	unsigned int nfe, fe;
	char **fes = xs_directory(d->xs, XBT_NULL, d->root, &nfe);

	for (unsigned int i = 0; fes && i < nfe; i++)
		if (parse_dir_number(fes[i], &fe))
			scan_frontend(d, fe);
	free(fes);
}

void devices_on_watch(struct daemon *d, const char *path)
{
	size_t rlen = strlen(d->root);
	unsigned int fe, devid;

	if (!xs_parse_device_path(path, d->root, &fe, &devid)) {
		device_evaluate(d, fe, devid);
		return;
	}
	/*
	 * The root or a frontend's directory itself (created, or removed
	 * with everything below it, which may fire only this one watch).
	 */
	if (!strcmp(path, d->root)) {
		evaluate_known(d, d->root);
		devices_scan(d);
	} else if (!strncmp(path, d->root, rlen) && path[rlen] == '/' &&
		   parse_dir_number(path + rlen + 1, &fe)) {
		evaluate_known(d, path);
		scan_frontend(d, fe);
	}
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
	/*
	 * A driver domain may be refused a look (EACCES): only ENOENT means
	 * gone. It then learns of a guest's death from the toolstack
	 * (state 5, or the directory removed).
	 */
	return errno != ENOENT;
}

/* Tears down every device of @g, which releases @g with its last one. */
static void guest_teardown(struct guest *g, enum teardown_mode mode)
{
	if (!g->devices) {
		guest_put_if_unused(g);
		return;
	}
	while (!g->dead && g->devices)
		device_teardown(g->devices, mode);
}

void devices_check_dead_guests(struct daemon *d)
{
	struct guest *g = d->guests, *next;

	while (g) {
		next = g->next;
		if (!domain_exists(d, g->domid)) {
			log_info("dom%u is gone", g->domid);
			guest_teardown(g, TEARDOWN_GONE);
		}
		g = next;
	}
	/* Failure records of dead guests would otherwise pile up. */
	for (struct device *dev = d->failed, *dnext; dev; dev = dnext) {
		dnext = dev->next;
		if (!domain_exists(d, dev->keys.frontend_id)) {
			unlink_from(&d->failed, dev);
			device_free(dev);
		}
	}
}

/*
 * Daemon exit: servers destroyed, stores closed, but the device nodes
 * stay at state 2 so that a restarted daemon serves them again.
 */
void devices_teardown_all(struct daemon *d)
{
	while (d->guests)
		guest_teardown(d->guests, TEARDOWN_STOP);
	while (d->failed) {
		struct device *dev = d->failed;

		d->failed = dev->next;
		device_free(dev);
	}
}

/*
 * Forgets failures that are due (or all of them, on SIGHUP) and looks at
 * those devices again; a new failure is recorded with a longer delay.
 */
void devices_retry_failed(struct daemon *d, bool all)
{
	struct device *due = NULL, **pp = &d->failed;
	uint64_t now = now_ms();

	while (*pp) {
		struct device *dev = *pp;

		if (all || dev->retry_at <= now) {
			*pp = dev->next;
			dev->next = due;
			due = dev;
		} else {
			pp = &dev->next;
		}
	}
	while (due) {
		struct device *dev = due;
		unsigned int fe = dev->keys.frontend_id, devid = dev->keys.devid;
		unsigned int failures = all ? 0 : dev->failures;

		due = dev->next;
		device_free(dev);
		log_info("dom%u/rpmb%u: trying again", fe, devid);
		device_evaluate_retry(d, fe, devid, failures);
	}
	if (all)
		devices_scan(d);
}
