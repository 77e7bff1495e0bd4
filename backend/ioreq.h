/* SPDX-License-Identifier: MIT */
/*
 * One guest's Xen ioreq server, as its worker uses it: the server (made
 * new, or adopted from a worker or daemon run that died), its shared
 * ioreq page, one event channel per vCPU, the MMIO windows it claims,
 * and the delivery of each access the guest makes there. Every call
 * goes through handles restricted to the guest's domain.
 */
#ifndef BACKEND_IOREQ_H
#define BACKEND_IOREQ_H

#include <stdbool.h>
#include <stdint.h>

#include <xendevicemodel.h>
#include <xenevtchn.h>
#include <xenforeignmemory.h>

struct ioreq_server;

/* What an access is handed to (the guest's MMIO bus). */
struct ioreq_access_ops {
	uint64_t (*read)(void *opaque, uint64_t addr, unsigned int size);
	void (*write)(void *opaque, uint64_t addr, unsigned int size,
		      uint64_t value);
};

/*
 * Creates a server for @domid, or adopts server @adopt (if >= 0), which
 * keeps the windows it had claimed and any access a dead worker left
 * unanswered. NULL on failure, with @err.
 */
struct ioreq_server *ioreq_server_open(xendevicemodel_handle *xdm,
				       xenforeignmemory_handle *xfm,
				       unsigned int domid, int adopt,
				       const struct ioreq_access_ops *ops,
				       void *opaque, char *err, size_t errlen);

/*
 * Lets go of the page and the event channels; with @destroy, also of
 * the server itself (the guest's accesses to its windows then fault).
 * Without, the server stays for the next worker to adopt.
 */
void ioreq_server_close(struct ioreq_server *s, bool destroy);

uint16_t ioreq_server_id(const struct ioreq_server *s);
/* For poll/epoll: readable when a vCPU has an access waiting. */
int ioreq_server_fd(const struct ioreq_server *s);

int ioreq_server_claim(struct ioreq_server *s, uint64_t base, uint64_t size);
void ioreq_server_unclaim(struct ioreq_server *s, uint64_t base, uint64_t size);

/* Answers the accesses waiting (call when the fd is readable). */
void ioreq_server_handle(struct ioreq_server *s);

/* Answers every access found waiting, event or not (after an adopt). */
void ioreq_server_handle_all(struct ioreq_server *s);

#endif /* BACKEND_IOREQ_H */
