// SPDX-License-Identifier: MIT
/*
 * Device lifecycle, driven by xenstore and answered by workers. The
 * layout is libxl's generic virtio device (Xen 4.18+; libxl_virtio.c for
 * the keys, libxl_device.c for the generic add/remove protocol): see
 * vdev-keys.h for the keys and dev-state.h for the decisions.
 *
 * libxl writes each device in one transaction and does not wait for us
 * before unpausing the guest, so each device is set up as soon as its
 * directory is seen. Setting up and removing go through the guest's
 * worker and complete when it answers: only then is state 2 (InitWait)
 * or 6 (Closed) written, so the toolstack never sees a device ready that
 * is not, nor closed while its store or mappings are still open.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "guest-dir.h"
#include "supervisor.h"
#include "xs-key.h"

/* A worker that keeps dying is started again after 1, 2, 4 ... 60 s. */
#define RESPAWN_MAX_MS		60000
/* ...and one that lived this long starts the count afresh. */
#define RESPAWN_RESET_MS	60000

/*
 * How long a driver domain leaves a closed device's directory for libxl
 * to read its state 6 (removed on the first tick after; ticks are 1 s).
 */
#define CLOSING_GRACE_MS	1000

/*
 * State 6, and in a driver domain also removing the directory. libxl in
 * dom0 waits for the 6, then for the driver domain to remove the
 * directory (libxl_device.c: device_hotplug's "removal of backend path"
 * wait, LIBXL_DESTROY_TIMEOUT, 10 s), and only then removes the
 * frontend. Removed at once, libxl may find the directory gone before it
 * reads the 6 ("wanted state 6 but it was removed") and log the device
 * as not removed; kept until the frontend goes, every destroy waits the
 * full 10 s. So the directory goes after a short grace: the first tick
 * at least CLOSING_GRACE_MS after the 6.
 */
static void close_device_dir(struct supervisor *s, const char *dir)
{
	struct closing *c;

	xs_key_write_state(s->xs, dir, XB_CLOSED);
	if (s->self_domid == 0)
		return;
	c = calloc(1, sizeof(*c));
	if (!c) {
		xs_rm(s->xs, XBT_NULL, dir);
		return;
	}
	snprintf(c->path, sizeof(c->path), "%s", dir);
	c->remove_at = now_ms() + CLOSING_GRACE_MS;
	c->next = s->closing;
	s->closing = c;
}

/* Removes the closed directories whose grace is over (or all). */
static void closing_sweep(struct supervisor *s, bool all)
{
	struct closing **pp = &s->closing;
	uint64_t now = now_ms();

	while (*pp) {
		struct closing *c = *pp;
		void *v;

		if (!all && now < c->remove_at) {
			pp = &c->next;
			continue;
		}
		/* Only what we closed: not a device made anew at that path. */
		v = xs_key_read(s->xs, c->path, "state");
		if (v && !strcmp(v, "6") &&
		    !xs_rm(s->xs, XBT_NULL, c->path) && errno != ENOENT)
			log_warn("cannot remove %s: %m", c->path);
		free(v);
		*pp = c->next;
		free(c);
	}
}

static struct sdev *find_in(struct sdev *list, unsigned int devid)
{
	for (struct sdev *d = list; d; d = d->next)
		if (d->keys.devid == devid)
			return d;
	return NULL;
}

static struct sdev *find_failed(struct supervisor *s, unsigned int fe,
				unsigned int devid)
{
	for (struct sdev *d = s->failed; d; d = d->next)
		if (d->keys.frontend_id == fe && d->keys.devid == devid)
			return d;
	return NULL;
}

static void unlink_from(struct sdev **list, struct sdev *dev)
{
	for (struct sdev **pp = list; *pp; pp = &(*pp)->next) {
		if (*pp == dev) {
			*pp = dev->next;
			return;
		}
	}
}

static int read_keys(struct supervisor *s, const char *dir, struct vdev_keys *k)
{
	char err[160] = "";
	char *base = xs_key_read(s->xs, dir, "base");
	char *irq = xs_key_read(s->xs, dir, "irq");
	char *transport = xs_key_read(s->xs, dir, "transport");
	char *grants = xs_key_read(s->xs, dir, "grant_usage");
	char *feid = xs_key_read(s->xs, dir, "frontend-id");
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
 * Remembers a failure, so that the key writes that follow (each fires the
 * watch) do not retry it; the timer does, with a growing delay.
 */
static void record_failure(struct supervisor *s, struct sdev *dev,
			   unsigned int failures)
{
	unsigned int delay = dev_retry_delay(failures);

	dev->state = SDEV_FAILED;
	dev->failures = failures;
	dev->retry_at = now_ms() + (uint64_t)delay * 1000;
	dev->next = s->failed;
	s->failed = dev;
	log_warn("%s: not served (failure %u); retrying in %u s or on SIGHUP",
		 dev->label, failures, delay);
}

static void send_add(struct sguest *g, struct sdev *dev)
{
	struct wmsg m = { .type = WMSG_ADD, .devid = dev->keys.devid };

	m.u.add.base = dev->keys.base;
	m.u.add.irq = dev->keys.irq;
	m.u.add.grants = dev->keys.grants;
	snprintf(m.u.add.type, sizeof(m.u.add.type), "%s", dev->type->name);
	snprintf(m.u.add.label, sizeof(m.u.add.label), "%s", dev->label);
	snprintf(m.u.add.params, sizeof(m.u.add.params), "%s", dev->params);
	guest_send(g, &m);
}

/*
 * Version 0.1 kept every store in the store directory itself; a guest's
 * are now in its own directory (its worker sees nothing else). Moved,
 * WAL first: interrupted, the old store is still complete where it was
 * and the move is simply done again.
 */
static void move_legacy_store(struct sguest *g, unsigned int devid)
{
	struct supervisor *s = g->s;
	const char *identity = s->cfg.store_key == STORE_KEY_NAME ? g->name :
								   g->uuid;
	char old[512], new[512], oldwal[520], newwal[520];

	if (guest_legacy_store_path(s->cfg.store_dir, identity, devid, old,
				    sizeof(old)) ||
	    access(old, F_OK))
		return;
	snprintf(new, sizeof(new), "%s/%u.rpmb", g->dir, devid);
	if (!access(new, F_OK)) {
		log_warn("%s: both %s and %s exist; using the latter", g->label,
			 old, new);
		return;
	}
	snprintf(oldwal, sizeof(oldwal), "%s-wal", old);
	snprintf(newwal, sizeof(newwal), "%s-wal", new);
	if ((!access(oldwal, F_OK) && rename(oldwal, newwal)) ||
	    rename(old, new)) {
		log_err("%s: cannot move %s into %s: %m", g->label, old, g->dir);
		return;
	}
	if (s->sandbox) {
		if (chown(new, s->worker_id.uid, s->worker_id.gid))
			log_err("%s: cannot give %s to the worker user: %m",
				g->label, new);
		if (!access(newwal, F_OK) &&
		    chown(newwal, s->worker_id.uid, s->worker_id.gid))
			log_err("%s: cannot give %s to the worker user: %m",
				g->label, newwal);
	}
	log_info("%s: store %s moved to %s", g->label, old, new);
}

static void device_setup(struct supervisor *s, const char *dir,
			 const struct device_type *type, unsigned int fe,
			 unsigned int devid, unsigned int failures)
{
	struct sdev *dev = calloc(1, sizeof(*dev));
	char err[160];
	struct sguest *g;

	if (!dev) {
		log_err("%s: out of memory", dir);
		return;
	}
	snprintf(dev->path, sizeof(dev->path), "%s", dir);
	snprintf(dev->label, sizeof(dev->label), "dom%u %s%u", fe, type->name,
		 devid);
	dev->type = type;
	dev->keys.frontend_id = fe;
	dev->keys.devid = devid;
	if (read_keys(s, dir, &dev->keys))
		goto fail;
	g = guest_get(s, fe);
	if (!g)
		goto fail;
	snprintf(dev->label, sizeof(dev->label), "%s %s%u", g->label,
		 type->name, devid);
	if (g->ndevices >= MAX_DEVICES_PER_GUEST) {
		log_err("%s: more than %d devices for one guest", dev->label,
			MAX_DEVICES_PER_GUEST);
		goto fail;
	}
	if (type->params(&s->cfg, g->name, g->uuid, dev->params,
			 sizeof(dev->params), err, sizeof(err))) {
		log_err("%s: %s", dev->label, err);
		goto fail;
	}
	move_legacy_store(g, devid);
	dev->state = SDEV_STARTING;
	dev->next = g->devices;
	g->devices = dev;
	g->ndevices++;
	/* A worker still starting gets it once it is ready. */
	if (g->ready)
		send_add(g, dev);
	return;
fail:
	record_failure(s, dev, failures + 1);
}

/* The worker will say when it is done: see on_removed. */
static void device_remove(struct sguest *g, struct sdev *dev,
			  enum sdev_close close)
{
	struct wmsg m = { .type = WMSG_REMOVE, .devid = dev->keys.devid };

	dev->close = close;
	if (dev->state == SDEV_REMOVING)
		return;
	dev->state = SDEV_REMOVING;
	if (!g->ready || guest_send(g, &m)) {
		/* No worker to ask: it holds nothing of the device any more. */
		struct wmsg done = { .type = WMSG_REMOVED, .devid = dev->keys.devid };

		devices_on_message(g, &done);
	}
}

static void read_view(struct supervisor *s, const char *dir,
		      struct dev_view *v, const struct device_type **type)
{
	char *t = xs_key_read(s->xs, dir, "type");
	char *online, *state;

	memset(v, 0, sizeof(*v));
	*type = device_type_by_xs(s->types, t);
	v->present = t != NULL;
	v->ours = *type != NULL;
	free(t);
	/* Another backend's device: read nothing more, write nothing ever. */
	if (!v->ours)
		return;
	online = xs_key_read(s->xs, dir, "online");
	state = xs_key_read(s->xs, dir, "state");
	v->online = online && !strcmp(online, "1");
	v->state = vdev_parse_state(state);
	free(online);
	free(state);
}

static void device_evaluate_retry(struct supervisor *s, unsigned int fe,
				  unsigned int devid, unsigned int failures)
{
	struct sguest *g = guest_find(s, fe);
	struct sdev *serving = g ? find_in(g->devices, devid) : NULL;
	struct sdev *failed = find_failed(s, fe, devid);
	enum dev_local local = serving ? DEV_LOCAL_SERVING :
			       failed ? DEV_LOCAL_FAILED : DEV_LOCAL_NONE;
	const struct device_type *type;
	enum dev_action act;
	struct dev_view v;
	char dir[128];

	snprintf(dir, sizeof(dir), "%s/%u/%u", s->root, fe, devid);
	read_view(s, dir, &v, &type);
	act = dev_decide(local, &v);
	if (act != DEV_ACT_NONE)
		log_debug("%s: online %d state %d: %s", dir, v.online, v.state,
			  dev_action_name(act));
	switch (act) {
	case DEV_ACT_NONE:
		break;
	case DEV_ACT_SETUP:
		device_setup(s, dir, type, fe, devid, failures);
		break;
	case DEV_ACT_TEARDOWN_GONE:
		device_remove(g, serving, SDEV_CLOSE_GONE);
		break;
	case DEV_ACT_TEARDOWN_CLOSE:
		device_remove(g, serving, SDEV_CLOSE_STATE6);
		break;
	case DEV_ACT_CLOSE_UNSERVED:
	case DEV_ACT_FORGET:
		if (act == DEV_ACT_CLOSE_UNSERVED)
			close_device_dir(s, dir);
		if (failed) {
			unlink_from(&s->failed, failed);
			free(failed);
		}
		break;
	}
}

static void device_evaluate(struct supervisor *s, unsigned int fe,
			    unsigned int devid)
{
	device_evaluate_retry(s, fe, devid, 0);
}

/* Re-evaluates every device we know below @prefix (a removed parent). */
static void evaluate_known(struct supervisor *s, const char *prefix)
{
	size_t plen = strlen(prefix);
	unsigned int keys[2 * (MAX_DEVICES_PER_GUEST + 64)];
	unsigned int n = 0;

	/* Collected first: evaluating may free guests and devices. */
	for (struct sguest *g = s->guests; g; g = g->next)
		for (struct sdev *d = g->devices; d && n + 2 <= sizeof(keys) / sizeof(keys[0]); d = d->next)
			if (!strncmp(d->path, prefix, plen) && d->path[plen] == '/') {
				keys[n++] = d->keys.frontend_id;
				keys[n++] = d->keys.devid;
			}
	for (struct sdev *d = s->failed; d && n + 2 <= sizeof(keys) / sizeof(keys[0]); d = d->next)
		if (!strncmp(d->path, prefix, plen) && d->path[plen] == '/') {
			keys[n++] = d->keys.frontend_id;
			keys[n++] = d->keys.devid;
		}
	for (unsigned int i = 0; i < n; i += 2)
		device_evaluate(s, keys[i], keys[i + 1]);
}

static bool parse_dir_number(const char *s, unsigned int *out)
{
	char path[160];
	unsigned int dummy;

	/* Reuse the strict path parser on a synthetic path. */
	snprintf(path, sizeof(path), "r/%s/0", s);
	return !vdev_parse_path(path, "r", out, &dummy);
}

static void scan_frontend(struct supervisor *s, unsigned int fe)
{
	char dir[128], **devs;
	unsigned int ndev, devid;

	snprintf(dir, sizeof(dir), "%s/%u", s->root, fe);
	devs = xs_directory(s->xs, XBT_NULL, dir, &ndev);
	for (unsigned int j = 0; devs && j < ndev; j++)
		if (parse_dir_number(devs[j], &devid))
			device_evaluate(s, fe, devid);
	free(devs);
}

void devices_scan(struct supervisor *s)
{
	unsigned int nfe, fe;
	char **fes = xs_directory(s->xs, XBT_NULL, s->root, &nfe);

	for (unsigned int i = 0; fes && i < nfe; i++)
		if (parse_dir_number(fes[i], &fe))
			scan_frontend(s, fe);
	free(fes);
}

void devices_on_watch(struct supervisor *s, const char *path)
{
	size_t rlen = strlen(s->root);
	unsigned int fe, devid;

	if (s->stopping)
		return;
	if (!vdev_parse_path(path, s->root, &fe, &devid)) {
		device_evaluate(s, fe, devid);
		return;
	}
	/*
	 * The root or a frontend's directory itself (created, or removed
	 * with everything below it, which may fire only this one watch).
	 */
	if (!strcmp(path, s->root)) {
		evaluate_known(s, s->root);
		devices_scan(s);
	} else if (!strncmp(path, s->root, rlen) && path[rlen] == '/' &&
		   parse_dir_number(path + rlen + 1, &fe)) {
		evaluate_known(s, path);
		scan_frontend(s, fe);
	}
}

/* The identity the worker was started for is still the guest's. */
static bool same_guest(struct sguest *g)
{
	struct supervisor *s = g->s;
	char dir[64], *name, *vm;
	bool same;

	snprintf(dir, sizeof(dir), "/local/domain/%u", g->domid);
	name = xs_key_read(s->xs, dir, "name");
	vm = xs_key_read(s->xs, dir, "vm");
	same = (!g->name || (name && !strcmp(name, g->name))) &&
	       (!g->uuid || (vm && uuid_from_vm_path(vm) &&
			     !strcmp(uuid_from_vm_path(vm), g->uuid)));
	free(name);
	free(vm);
	return same;
}

static void on_ready(struct sguest *g, const struct wmsg *m)
{
	struct wmsg settled = { .type = WMSG_SETTLED };

	/*
	 * The ioreq server now holds the domain: if the name read before
	 * is still the guest's, the directory belongs to this guest and not
	 * to a dying one whose domid was handed on meanwhile.
	 */
	if (!same_guest(g)) {
		log_err("%s: is no longer the domain it was; its worker stops",
			g->label);
		guest_stop(g, true);
		return;
	}
	g->ready = true;
	g->ioservid = (int)m->u.ready.ioservid;
	for (struct sdev *d = g->devices; d; d = d->next) {
		if (d->state == SDEV_STARTING)
			send_add(g, d);
		else if (d->state == SDEV_REMOVING)
			device_remove(g, d, d->close);
	}
	guest_send(g, &settled);
}

static void on_added(struct sguest *g, struct sdev *dev)
{
	struct supervisor *s = g->s;
	char value[8], *state;

	if (dev->state != SDEV_STARTING)
		return;
	dev->state = SDEV_SERVING;
	/* Before state 2, so a restart after a crash always finds it. */
	snprintf(value, sizeof(value), "%d", g->ioservid);
	xs_key_write(s->xs, dev->path, XS_KEY_IOSERVID, value);
	/* Only if needed: an unchanged write would still fire our watch. */
	state = xs_key_read(s->xs, dev->path, "state");
	if (vdev_parse_state(state) != XB_INITWAIT)
		xs_key_write_state(s->xs, dev->path, XB_INITWAIT);
	free(state);
}

static void drop_device(struct sguest *g, struct sdev *dev)
{
	unlink_from(&g->devices, dev);
	g->ndevices--;
	/* Its last device gone, the guest's worker and server go too. */
	if (!g->ndevices)
		guest_stop(g, true);
}

static void on_removed(struct sguest *g, struct sdev *dev)
{
	struct supervisor *s = g->s;

	if (dev->state != SDEV_REMOVING)
		return;
	log_info("%s: device removed (%s)", dev->label,
		 dev->close == SDEV_CLOSE_GONE ? "gone" : "closed");
	if (dev->close == SDEV_CLOSE_STATE6) {
		xs_key_rm(s->xs, dev->path, XS_KEY_IOSERVID);
		close_device_dir(s, dev->path);
	}
	drop_device(g, dev);
	free(dev);
}

static void on_failed(struct sguest *g, struct sdev *dev, const char *why)
{
	log_err("%s: %s", dev->label, why);
	drop_device(g, dev);
	record_failure(g->s, dev, dev->failures + 1);
}

/* Control characters from a worker could forge log lines. */
static void sanitize(char *text)
{
	for (; *text; text++)
		if ((unsigned char)*text < 0x20 || *text == 0x7f)
			*text = '?';
}

/*
 * The worker names its guest in most lines, and wlog names it again:
 * "guest G (domN): guest G (domN) rpmb0: ..." reads as "guest G (domN):
 * rpmb0: ...". Only the worker's own leading label goes.
 */
static const char *without_label(const struct sguest *g, const char *text)
{
	size_t n = strlen(g->label);

	if (strncmp(text, g->label, n) || (text[n] != ' ' && text[n] != ':'))
		return text;
	text += n;
	return text + strspn(text, ": ");
}

void devices_on_message(struct sguest *g, const struct wmsg *m)
{
	struct sdev *dev = find_in(g->devices, m->devid);

	switch (m->type) {
	case WMSG_LOG:
		sanitize((char *)m->u.log.text);
		if (m->u.log.level <= VR_LOG_DEBUG)
			guest_log_at(&g->wlog, m->u.log.level, "%s",
				     without_label(g, m->u.log.text));
		return;
	case WMSG_READY:
		if (!g->ready && !g->stopping)
			on_ready(g, m);
		return;
	default:
		break;
	}
	/* Answers about devices we did not ask for are ignored. */
	if (!dev)
		return;
	switch (m->type) {
	case WMSG_ADDED:
		on_added(g, dev);
		break;
	case WMSG_FAILED:
		if (dev->state == SDEV_STARTING)
			on_failed(g, dev, m->u.text);
		break;
	case WMSG_REMOVED:
		on_removed(g, dev);
		break;
	default:
		log_warn("%s: unexpected message %u from its worker", g->label,
			 m->type);
		break;
	}
}

static void describe_exit(struct sguest *g, int status)
{
	if (WIFEXITED(status) && !WEXITSTATUS(status))
		log_info("%s: worker stopped", g->label);
	else if (WIFEXITED(status) && WEXITSTATUS(status) == SANDBOX_EXIT_VIOLATION)
		log_err("%s: worker stopped on a system call its filter forbids",
			g->label);
	else if (WIFSIGNALED(status))
		log_err("%s: worker killed by signal %d%s", g->label,
			WTERMSIG(status),
			WTERMSIG(status) == SIGSYS ? " (a forbidden system call)" : "");
	else
		log_err("%s: worker exited with status %d", g->label,
			WIFEXITED(status) ? WEXITSTATUS(status) : -1);
}

/*
 * The worker is gone. Asked to stop, or the guest is gone: finish
 * removing its devices and the guest. Otherwise it crashed: the devices
 * it served are set up again by a new worker, after a back-off, which
 * adopts the ioreq server (vCPUs waiting in it get their answers) and
 * tells the guest's drivers their devices need a reset.
 */
void devices_on_worker_exit(struct sguest *g, int status)
{
	struct supervisor *s = g->s;
	bool alive = !g->destroy && guest_domain_exists(s, g->domid);
	struct sdev *dev, *next;
	uint64_t ran = now_ms() - g->started_at;

	describe_exit(g, status);
	for (dev = g->devices; dev; dev = next) {
		next = dev->next;
		if (dev->state == SDEV_REMOVING || !alive || s->stopping) {
			if (dev->state != SDEV_REMOVING)
				dev->close = SDEV_CLOSE_GONE;
			dev->state = SDEV_REMOVING;
			/* A dying worker may not have let its window go. */
			if (g->ioservid >= 0 && alive && !s->stopping)
				xendevicemodel_unmap_io_range_from_ioreq_server(
					s->xdm, g->domid, (ioservid_t)g->ioservid,
					1, dev->keys.base,
					dev->keys.base + VIRTIO_MMIO_WINDOW_SIZE - 1);
			if (s->stopping && dev->close == SDEV_CLOSE_GONE) {
				/* Daemon exit: the nodes stay at state 2. */
				unlink_from(&g->devices, dev);
				g->ndevices--;
				free(dev);
				continue;
			}
			on_removed(g, dev);
		} else {
			dev->state = SDEV_STARTING;
		}
	}
	if (g->ndevices && alive && !s->stopping) {
		unsigned int delay = 1000u << (g->restarts < 6 ? g->restarts : 6);

		if (ran >= RESPAWN_RESET_MS)
			g->restarts = 0;
		delay = delay > RESPAWN_MAX_MS ? RESPAWN_MAX_MS : delay;
		g->restarts++;
		g->stopping = false;
		g->destroy = false;
		g->respawn_at = now_ms() + delay;
		log_warn("%s: starting its worker again in %u ms", g->label, delay);
		return;
	}
	/* Whatever the worker could not do, so it does not outlive it. */
	if (g->destroy && g->ioservid >= 0 &&
	    xendevicemodel_destroy_ioreq_server(s->xdm, g->domid,
						(ioservid_t)g->ioservid) == 0)
		log_info("%s: ioreq server %d destroyed", g->label, g->ioservid);
	while (g->devices) {
		dev = g->devices;
		g->devices = dev->next;
		free(dev);
	}
	guest_free(g);
}

void devices_check_dead_guests(struct supervisor *s)
{
	for (struct sguest *g = s->guests, *next; g; g = next) {
		next = g->next;
		if (guest_domain_exists(s, g->domid))
			continue;
		log_info("%s is gone", g->label);
		for (struct sdev *d = g->devices; d; d = d->next)
			d->close = SDEV_CLOSE_GONE;
		guest_stop(g, true);
		/* Between two workers: nothing to wait for. */
		if (!g->pid)
			devices_on_worker_exit(g, 0);
	}
	/* Failure records of dead guests would otherwise pile up. */
	for (struct sdev *dev = s->failed, *next; dev; dev = next) {
		next = dev->next;
		if (!guest_domain_exists(s, dev->keys.frontend_id)) {
			unlink_from(&s->failed, dev);
			free(dev);
		}
	}
}

/*
 * Forgets failures that are due (or all of them, on SIGHUP) and looks at
 * those devices again; a new failure is recorded with a longer delay.
 * Also starts workers whose back-off has run out.
 */
void devices_retry(struct supervisor *s, bool all)
{
	struct sdev *due = NULL, **pp = &s->failed;
	uint64_t now = now_ms();

	while (*pp) {
		struct sdev *dev = *pp;

		if (all || dev->retry_at <= now) {
			*pp = dev->next;
			dev->next = due;
			due = dev;
		} else {
			pp = &dev->next;
		}
	}
	while (due) {
		struct sdev *dev = due;
		unsigned int fe = dev->keys.frontend_id, devid = dev->keys.devid;
		unsigned int failures = all ? 0 : dev->failures;

		due = dev->next;
		free(dev);
		log_info("dom%u/%u: trying again", fe, devid);
		device_evaluate_retry(s, fe, devid, failures);
	}
	for (struct sguest *g = s->guests, *next; g; g = next) {
		next = g->next;
		if (g->pid || !g->respawn_at || (!all && g->respawn_at > now))
			continue;
		if (guest_respawn(g))
			g->respawn_at = now + RESPAWN_MAX_MS;
	}
	closing_sweep(s, false);
	if (all)
		devices_scan(s);
}

/*
 * Daemon exit: workers stop and leave their ioreq servers for the next
 * daemon to adopt; the device nodes stay at state 2, so a restarted
 * daemon serves running guests again without a vCPU ever stranded.
 */
void devices_stop_all(struct supervisor *s)
{
	for (struct sguest *g = s->guests; g; g = g->next)
		guest_stop(g, false);
	closing_sweep(s, true);
	while (s->failed) {
		struct sdev *dev = s->failed;

		s->failed = dev->next;
		free(dev);
	}
}
