/* SPDX-License-Identifier: MIT */
/*
 * Messages between the supervisor and a guest's worker, over a
 * SOCK_SEQPACKET socket pair: one fixed-size message per packet. The
 * supervisor trusts nothing a worker says (a worker parses guest input
 * and may be compromised): wmsg_recv() checks the framing and terminates
 * every string, and the supervisor acts only on devices it asked for.
 */
#ifndef BACKEND_WORKER_MSG_H
#define BACKEND_WORKER_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define WMSG_TYPE_LEN	32
#define WMSG_LABEL_LEN	96
#define WMSG_PARAMS_LEN	128
#define WMSG_TEXT_LEN	400

enum wmsg_type {
	/* supervisor -> worker */
	WMSG_ADD = 1,		/* serve a device: add */
	WMSG_REMOVE,		/* stop serving devid, close its state */
	WMSG_STOP,		/* finish what is in hand, then exit; with
				   u.keep_server, leave the ioreq server and
				   its windows for the next worker to adopt */
	WMSG_SETTLED,		/* every device is added: answer accesses a
				   dead worker left waiting */
	/* worker -> supervisor */
	WMSG_READY,		/* the ioreq server is up: ready.ioservid */
	WMSG_ADDED,		/* devid is served */
	WMSG_FAILED,		/* devid could not be served: text */
	WMSG_REMOVED,		/* devid is gone, its state closed */
	WMSG_LOG,		/* a log line: log */
};

struct wmsg_add {
	uint64_t base;		/* MMIO window */
	uint32_t irq;		/* SPI */
	uint8_t grants;		/* grant_usage */
	char type[WMSG_TYPE_LEN];	/* device type name (device-types.h) */
	char label[WMSG_LABEL_LEN];	/* "guest <name> (dom<F>) <type><devid>" */
	char params[WMSG_PARAMS_LEN];	/* the type's own settings */
};

struct wmsg {
	uint32_t type;
	uint32_t devid;
	union {
		struct wmsg_add add;
		struct {
			uint32_t ioservid;
		} ready;
		struct {
			uint32_t level;		/* enum vr_log_level */
			char text[WMSG_TEXT_LEN];
		} log;
		char text[WMSG_TEXT_LEN];	/* WMSG_FAILED: why */
		uint8_t keep_server;		/* WMSG_STOP */
	} u;
};

/* 0, or a negative errno (-EPIPE: the peer is gone). */
int wmsg_send(int fd, const struct wmsg *m);

/*
 * Receives one message: 1 and @m filled (strings terminated, type
 * within range), 0 if there is none waiting (non-blocking socket) or it
 * was malformed (logged), or a negative errno (-EPIPE: the peer closed).
 */
int wmsg_recv(int fd, struct wmsg *m);

#endif /* BACKEND_WORKER_MSG_H */
