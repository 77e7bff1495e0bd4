// SPDX-License-Identifier: MIT
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "device-types.h"
#include "guest-devices.h"
#include "guest-service.h"
#include "log.h"
#include "mmio-bus.h"
#include "sandbox.h"
#include "sim-worker.h"

static const struct device_type *const types[] = { &rpmb_device_type, NULL };

static void run(struct sim_vm *vm, int sock, const struct sim_worker_opts *o)
{
	struct guest_service gs = { .sock = sock };
	struct sandbox_id nobody = { 65534, 65534 };
	const char *dir = o->dir;
	char err[256];

	vr_log_set_level(o->log_level);
	vr_log_set_sink(guest_service_log_sink, &sock);
	guest_service_violation_sock(sock);
	sandbox_prepare();
	gs.bus = mmio_bus_new("sim worker", o->nthreads ? o->nthreads : 2,
			      o->batch ? o->batch : MMIO_BUS_BATCH);
	if (!gs.bus)
		_exit(2);
	if (o->confine && !geteuid()) {
		if (sandbox_enter(dir, &nobody, err, sizeof(err))) {
			log_err("%s", err);
			_exit(3);
		}
		dir = ".";
	}
	if (o->confine &&
	    sandbox_seccomp(guest_service_report_violation, err, sizeof(err))) {
		log_err("%s", err);
		_exit(4);
	}
	gs.devs = guest_devices_new(types, dir, gs.bus, &sim_vm_glue, vm);
	if (!gs.devs)
		_exit(5);
	gs.src = sim_vm_access_source(vm, gs.bus);
	guest_service_run(&gs);
	guest_devices_free(gs.devs);
	mmio_bus_free(gs.bus);
	_exit(gs.stop ? 0 : 1);
}

int sim_worker_start(struct sim_worker *w, struct sim_vm *vm,
		     const struct sim_worker_opts *o)
{
	int sv[2];

	memset(w, 0, sizeof(*w));
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv))
		return -errno;
	/* As root the worker becomes nobody, who must own its directory. */
	if (o->confine && !geteuid() && chown(o->dir, 65534, 65534)) {
		close(sv[0]);
		close(sv[1]);
		return -errno;
	}
	w->pid = fork();
	if (w->pid < 0) {
		close(sv[0]);
		close(sv[1]);
		return -errno;
	}
	if (!w->pid) {
		close(sv[0]);
		run(vm, sv[1], o);
	}
	close(sv[1]);
	w->sock = sv[0];
	return 0;
}

/* The next answer that is not a log line (kept); type 0 on silence. */
static struct wmsg next_reply(struct sim_worker *w, int timeout_ms)
{
	struct wmsg m;

	for (;;) {
		struct pollfd p = { .fd = w->sock, .events = POLLIN };

		if (poll(&p, 1, timeout_ms) != 1 || wmsg_recv(w->sock, &m) != 1)
			return (struct wmsg){ 0 };
		if (m.type != WMSG_LOG)
			return m;
		snprintf(w->last_log, sizeof(w->last_log), "%s", m.u.log.text);
	}
}

int sim_worker_add(struct sim_worker *w, unsigned int devid, uint64_t base,
		   const char *params)
{
	struct wmsg add = { .type = WMSG_ADD, .devid = devid }, m;

	add.u.add.base = base;
	add.u.add.irq = 32 + devid;
	snprintf(add.u.add.type, sizeof(add.u.add.type), "rpmb");
	snprintf(add.u.add.label, sizeof(add.u.add.label), "sim rpmb%u", devid);
	snprintf(add.u.add.params, sizeof(add.u.add.params), "%s", params);
	if (wmsg_send(w->sock, &add))
		return -1;
	m = next_reply(w, 30000);
	if (m.type == WMSG_ADDED && m.devid == devid)
		return 0;
	if (m.type == WMSG_FAILED)
		snprintf(w->last_log, sizeof(w->last_log), "%s", m.u.text);
	return -1;
}

int sim_worker_stop(struct sim_worker *w)
{
	struct wmsg stop = { .type = WMSG_STOP };
	int status = 0;

	wmsg_send(w->sock, &stop);
	/* What it says until it goes (a violation report, say). */
	while (next_reply(w, 30000).type)
		;
	if (waitpid(w->pid, &status, 0) != w->pid) {
		kill(w->pid, SIGKILL);
		waitpid(w->pid, &status, 0);
	}
	close(w->sock);
	w->sock = -1;
	return status;
}
