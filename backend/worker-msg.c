// SPDX-License-Identifier: MIT
/*
 * Framing of supervisor/worker messages: whole fixed-size packets only,
 * and nothing read from a packet is trusted to be terminated.
 */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include "log.h"
#include "worker-msg.h"

int wmsg_send(int fd, const struct wmsg *m)
{
	ssize_t n;

	do {
		n = send(fd, m, sizeof(*m), MSG_NOSIGNAL);
	} while (n < 0 && errno == EINTR);
	if (n == (ssize_t)sizeof(*m))
		return 0;
	return n < 0 ? -errno : -EMSGSIZE;
}

static void terminate(char *s, size_t len)
{
	s[len - 1] = '\0';
}

int wmsg_recv(int fd, struct wmsg *m)
{
	ssize_t n;

	do {
		n = recv(fd, m, sizeof(*m), MSG_DONTWAIT | MSG_TRUNC);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -errno;
	if (n == 0)
		return -EPIPE;
	if (n != (ssize_t)sizeof(*m) || m->type < WMSG_ADD ||
	    m->type > WMSG_LOG) {
		log_warn("worker message of %zd bytes, type %u, dropped", n,
			 n >= 4 ? m->type : 0);
		return 0;
	}
	switch (m->type) {
	case WMSG_ADD:
		terminate(m->u.add.type, sizeof(m->u.add.type));
		terminate(m->u.add.label, sizeof(m->u.add.label));
		terminate(m->u.add.params, sizeof(m->u.add.params));
		break;
	case WMSG_LOG:
		terminate(m->u.log.text, sizeof(m->u.log.text));
		break;
	case WMSG_FAILED:
		terminate(m->u.text, sizeof(m->u.text));
		break;
	default:
		break;
	}
	return 1;
}
