// SPDX-License-Identifier: MIT
/*
 * Guests as the supervisor keeps them: who each is (its name or UUID,
 * which picks its directory), its worker process and the socket to it,
 * starting, stopping, reaping and restarting workers. A worker is forked
 * from this single-threaded process, so it starts with nothing but what
 * it is given and closes the rest.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "guest-dir.h"
#include "mmio-bus.h"
#include "supervisor.h"
#include "worker.h"
#include "xs-key.h"

/* A worker that does not stop when told is killed after this. */
#define STOP_GRACE_MS	10000
/* Its own log lines: what a worker may say per second on average. */
#define WORKER_LOG_BURST	200
#define WORKER_LOG_REFILL_MS	100

uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

struct sguest *guest_find(struct supervisor *s, unsigned int domid)
{
	for (struct sguest *g = s->guests; g; g = g->next)
		if (g->domid == domid)
			return g;
	return NULL;
}

bool guest_domain_exists(struct supervisor *s, unsigned int domid)
{
	bool introduced;

	/*
	 * xenstored forgets a domain when Xen has released it, which is
	 * what fires @releaseDomain; its /local/domain/<id> nodes stay until
	 * a toolstack removes them, which never happens if the domain was
	 * destroyed below the toolstack. Any domain may ask this.
	 */
	errno = 0;
	introduced = xs_is_domain_introduced(s->xs, domid);
	/* An error (false with errno set) is not a death. */
	return introduced || errno != 0;
}

/*
 * The guest's stable identity, never its domid (Xen reuses domids).
 * /local/domain/<F> is written by the toolstack and readable by dom0 and
 * the guest only (libxl__domain_make: "roperm"), so the guest cannot
 * change its name, and a driver domain needs read access granted (see
 * README, "Driver domains").
 */
static char *read_domain_key(struct supervisor *s, unsigned int domid,
			     const char *key, bool required)
{
	char dir[64], *value;

	snprintf(dir, sizeof(dir), "/local/domain/%u", domid);
	value = xs_key_read(s->xs, dir, key);
	if (!value && required)
		log_err("dom%u: cannot read %s/%s: %m%s", domid, dir, key,
			errno == EACCES ?
			" (a driver domain needs read access to it: see xen-rpmb-backend(8))" :
			"");
	return value;
}

/* Fills name and uuid; 0 if the configured identity is there. */
static int read_identity(struct supervisor *s, unsigned int domid,
			 char **name, char **uuid)
{
	bool by_name = s->cfg.store_key == STORE_KEY_NAME;
	const char *u;
	char *vm;

	*uuid = NULL;
	*name = read_domain_key(s, domid, "name", by_name);
	vm = read_domain_key(s, domid, "vm", !by_name);
	u = uuid_from_vm_path(vm);
	if (u)
		*uuid = strdup(u);
	else if (vm && !by_name)
		log_err("dom%u: no UUID in its 'vm' node '%s'", domid, vm);
	free(vm);
	if (by_name)
		return *name && (*name)[0] ? 0 : -ENOENT;
	return *uuid ? 0 : -ENOENT;
}

/* The guest's directory, its worker's own (mode 0700). */
static int prepare_dir(struct sguest *g)
{
	struct supervisor *s = g->s;

	if (mkdir(g->dir, 0700) && errno != EEXIST) {
		log_err("%s: cannot create %s: %m", g->label, g->dir);
		return -1;
	}
	if (s->sandbox && chown(g->dir, s->worker_id.uid, s->worker_id.gid)) {
		log_err("%s: cannot give %s to the worker user: %m", g->label,
			g->dir);
		return -1;
	}
	return 0;
}

/*
 * A server a previous worker or daemon run left for this guest, recorded
 * in any of its device directories: adopted rather than destroyed, so an
 * access a vCPU is still waiting in gets its answer.
 */
static int recorded_ioservid(struct supervisor *s, unsigned int domid)
{
	char dir[128], sub[192];
	unsigned int n;
	char **devs;
	int id = -1;

	snprintf(dir, sizeof(dir), "%s/%u", s->root, domid);
	devs = xs_directory(s->xs, XBT_NULL, dir, &n);
	for (unsigned int i = 0; devs && i < n && id < 0; i++) {
		char *v;
		uint16_t parsed;

		snprintf(sub, sizeof(sub), "%s/%s", dir, devs[i]);
		v = xs_key_read(s->xs, sub, XS_KEY_IOSERVID);
		if (v && !vdev_parse_ioservid(v, &parsed))
			id = parsed;
		free(v);
	}
	free(devs);
	return id;
}

static void close_sock(struct sguest *g)
{
	if (g->sock < 0)
		return;
	epoll_ctl(g->s->epoll_fd, EPOLL_CTL_DEL, g->sock, NULL);
	close(g->sock);
	g->sock = -1;
}

static int spawn(struct sguest *g, int adopt, bool restarted)
{
	struct supervisor *s = g->s;
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = &g->src };
	int sv[2];
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv)) {
		log_err("%s: socketpair: %m", g->label);
		return -1;
	}
	pid = fork();
	if (pid < 0) {
		log_err("%s: fork: %m", g->label);
		close(sv[0]);
		close(sv[1]);
		return -1;
	}
	if (!pid) {
		struct worker_args a = {
			.domid = g->domid,
			.adopt = adopt,
			/* Adopted: the devices' state went with the old worker. */
			.restarted = restarted || adopt >= 0,
			.sock = sv[1],
			.dir = g->dir,
			.sandbox = s->sandbox,
			.id = s->worker_id,
			.nthreads = s->cfg.service_threads,
			.batch = MMIO_BUS_BATCH,
			.label = g->label,
			.types = s->types,
		};

		_exit(worker_run(&a));
	}
	close(sv[1]);
	g->sock = sv[0];
	g->pid = pid;
	g->ready = false;
	g->stopping = false;
	g->destroy = false;
	g->started_at = now_ms();
	g->respawn_at = 0;
	if (epoll_ctl(s->epoll_fd, EPOLL_CTL_ADD, g->sock, &ev))
		log_err("%s: cannot watch its worker: %m", g->label);
	log_info("%s: worker %ld started%s", g->label, (long)pid,
		 adopt >= 0 ? " (adopting its ioreq server)" : "");
	return 0;
}

struct sguest *guest_get(struct supervisor *s, unsigned int domid)
{
	struct sguest *g = guest_find(s, domid);
	const char *identity;

	if (g)
		return g;
	g = calloc(1, sizeof(*g));
	if (!g)
		return NULL;
	g->s = s;
	g->domid = domid;
	g->sock = -1;
	g->ioservid = -1;
	g->src.type = SRC_WORKER;
	g->src.guest = g;
	if (read_identity(s, domid, &g->name, &g->uuid))
		goto fail;
	identity = s->cfg.store_key == STORE_KEY_NAME ? g->name : g->uuid;
	snprintf(g->label, sizeof(g->label), "guest %s (dom%u)",
		 g->name ? g->name : g->uuid, domid);
	guest_log_init_limits(&g->wlog, g->label, WORKER_LOG_BURST,
			      WORKER_LOG_REFILL_MS);
	if (guest_dir_path(s->cfg.store_dir, identity, g->dir, sizeof(g->dir))) {
		log_err("%s: no directory name for '%s'", g->label, identity);
		goto fail_log;
	}
	if (prepare_dir(g) || spawn(g, recorded_ioservid(s, domid), false))
		goto fail_log;
	g->next = s->guests;
	s->guests = g;
	return g;
fail_log:
	guest_log_fini(&g->wlog);
fail:
	free(g->name);
	free(g->uuid);
	free(g);
	return NULL;
}

int guest_send(struct sguest *g, const struct wmsg *m)
{
	int ret = g->sock < 0 ? -EPIPE : wmsg_send(g->sock, m);

	if (ret)
		log_warn("%s: cannot talk to its worker: %s", g->label,
			 strerror(-ret));
	return ret;
}

void guest_stop(struct sguest *g, bool destroy)
{
	struct wmsg m = { .type = WMSG_STOP };

	/* A server to be destroyed stays so, even if asked to keep it. */
	g->destroy |= destroy;
	g->respawn_at = 0;
	if (!g->pid || g->stopping)
		return;
	m.u.keep_server = !g->destroy;
	g->stopping = true;
	g->kill_at = now_ms() + STOP_GRACE_MS;
	guest_send(g, &m);
}

void guests_enforce_deadlines(struct supervisor *s)
{
	uint64_t now = now_ms();

	for (struct sguest *g = s->guests; g; g = g->next) {
		if (g->pid && g->stopping && now >= g->kill_at) {
			log_warn("%s: worker %ld did not stop in time: killed",
				 g->label, (long)g->pid);
			kill(g->pid, SIGKILL);
			g->kill_at = UINT64_MAX;
		}
	}
}

struct sguest *guest_reap(struct supervisor *s, pid_t *pid, int *status)
{
	for (;;) {
		*pid = waitpid(-1, status, WNOHANG);
		if (*pid <= 0)
			return NULL;
		for (struct sguest *g = s->guests; g; g = g->next) {
			if (g->pid == *pid) {
				close_sock(g);
				g->pid = 0;
				g->ready = false;
				return g;
			}
		}
	}
}

int guest_respawn(struct sguest *g)
{
	if (prepare_dir(g))
		return -1;
	return spawn(g, g->ioservid, true);
}

void guest_free(struct sguest *g)
{
	struct supervisor *s = g->s;

	for (struct sguest **pp = &s->guests; *pp; pp = &(*pp)->next) {
		if (*pp == g) {
			*pp = g->next;
			break;
		}
	}
	close_sock(g);
	g->dead = true;
	g->next = s->zombies;
	s->zombies = g;
}

void guests_reap_zombies(struct supervisor *s)
{
	while (s->zombies) {
		struct sguest *g = s->zombies;

		s->zombies = g->next;
		guest_log_fini(&g->wlog);
		free(g->name);
		free(g->uuid);
		free(g);
	}
}
