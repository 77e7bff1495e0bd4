// SPDX-License-Identifier: MIT
/*
 * Accesses and supervisor messages are both answered on this one
 * thread, so device setup and teardown never race an access; neither
 * waits for a device's work, which is the pool's.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "guest-service.h"
#include "log.h"
#include "worker-msg.h"

void guest_service_log_sink(enum vr_log_level level, const char *msg,
			    void *opaque)
{
	int *sock = opaque;
	struct wmsg m = { .type = WMSG_LOG };

	m.u.log.level = level;
	snprintf(m.u.log.text, sizeof(m.u.log.text), "%s", msg);
	wmsg_send(*sock, &m);
}

/* The signal handler has no argument to find it by. */
static int violation_sock = -1;

void guest_service_violation_sock(int sock)
{
	violation_sock = sock;
}

/* Async-signal-safe formatting: @v in @base at @out; returns its end. */
static char *put_num(char *out, unsigned long v, unsigned int base)
{
	char digits[24];
	size_t n = 0;

	do {
		digits[n++] = "0123456789abcdef"[v % base];
		v /= base;
	} while (v && n < sizeof(digits));
	while (n)
		*out++ = digits[--n];
	return out;
}

/*
 * From the SIGSYS handler: only async-signal-safe work (a message built
 * in place, one send()). Both arguments are given: for an ioctl the
 * second is the request, which is what tells one from another.
 */
void guest_service_report_violation(long nr, unsigned long arg0,
				    unsigned long arg1)
{
	static struct wmsg m = { .type = WMSG_LOG };
	static const char prefix[] = "worker: forbidden system call ";
	static const char args[] = " (arguments 0x";
	char *p = m.u.log.text;

	m.u.log.level = VR_LOG_ERR;
	memcpy(p, prefix, sizeof(prefix) - 1);
	p = put_num(p + sizeof(prefix) - 1, (unsigned long)nr, 10);
	memcpy(p, args, sizeof(args) - 1);
	p = put_num(p + sizeof(args) - 1, arg0, 16);
	memcpy(p, ", 0x", 4);
	p = put_num(p + 4, arg1, 16);
	*p++ = ')';
	*p = '\0';
	if (violation_sock >= 0)
		send(violation_sock, &m, sizeof(m), MSG_NOSIGNAL);
}

static void reply(int sock, uint32_t type, unsigned int devid,
		  const char *text)
{
	struct wmsg m = { .type = type, .devid = devid };

	if (text)
		snprintf(m.u.text, sizeof(m.u.text), "%s", text);
	wmsg_send(sock, &m);
}

static void on_message(struct guest_service *gs, const struct wmsg *m)
{
	char err[WMSG_TEXT_LEN] = "";

	switch (m->type) {
	case WMSG_ADD:
		if (guest_devices_add(gs->devs, m->devid, &m->u.add, err,
				      sizeof(err))) {
			reply(gs->sock, WMSG_FAILED, m->devid, err);
			break;
		}
		/* The guest's driver set up a device we no longer know. */
		if (gs->restarted)
			mmio_bus_needs_reset(gs->bus, m->u.add.base);
		log_info("%s: serving at %#llx, SPI %u, %s", m->u.add.label,
			 (unsigned long long)m->u.add.base, m->u.add.irq,
			 m->u.add.grants ? "grants" : "foreign mappings");
		reply(gs->sock, WMSG_ADDED, m->devid, NULL);
		break;
	case WMSG_REMOVE:
		guest_devices_remove(gs->devs, m->devid);
		reply(gs->sock, WMSG_REMOVED, m->devid, NULL);
		break;
	case WMSG_STOP:
		gs->keep_server = m->u.keep_server;
		gs->stop = true;
		break;
	case WMSG_SETTLED:
		if (gs->src.handle_all)
			gs->src.handle_all(gs->src.opaque);
		break;
	default:
		break;
	}
}

/* Returns false when the supervisor is gone. */
static bool drain_messages(struct guest_service *gs)
{
	struct wmsg m;
	int ret;

	while (!gs->stop && (ret = wmsg_recv(gs->sock, &m)) != 0) {
		if (ret < 0)
			return false;
		on_message(gs, &m);
	}
	return true;
}

void guest_service_run(struct guest_service *gs)
{
	struct epoll_event ev[4];
	int ep = epoll_create1(EPOLL_CLOEXEC);
	int fl = fcntl(gs->sock, F_GETFL);

	/* Messages are drained until none waits. */
	if (fl < 0 || fcntl(gs->sock, F_SETFL, fl | O_NONBLOCK)) {
		log_err("cannot set up the supervisor's socket: %m");
		if (ep >= 0)
			close(ep);
		return;
	}
	ev[0] = (struct epoll_event){ .events = EPOLLIN, .data.fd = gs->sock };
	ev[1] = (struct epoll_event){ .events = EPOLLIN, .data.fd = gs->src.fd };
	if (ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, gs->sock, &ev[0]) ||
	    epoll_ctl(ep, EPOLL_CTL_ADD, gs->src.fd, &ev[1])) {
		log_err("cannot set up the event loop: %m");
		if (ep >= 0)
			close(ep);
		return;
	}
	/* A supervisor that went away will adopt what is left. */
	gs->keep_server = true;
	while (!gs->stop) {
		int n = epoll_wait(ep, ev, 4, -1);

		if (n < 0 && errno != EINTR)
			break;
		for (int i = 0; i < n && !gs->stop; i++) {
			if (ev[i].data.fd == gs->src.fd)
				gs->src.handle(gs->src.opaque);
			else if (!drain_messages(gs))
				gs->stop = true;
		}
	}
	close(ep);
}
