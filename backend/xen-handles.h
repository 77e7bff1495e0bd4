/* SPDX-License-Identifier: MIT */
/*
 * The Xen handles a guest's worker serves with, restricted to that guest
 * as soon as they are open: device-model operations (ioreq server,
 * interrupts) and foreign mappings work on that domain only, from this
 * process, for good. Grant mapping cannot be restricted to one domain
 * (see the README's threat model).
 */
#ifndef BACKEND_XEN_HANDLES_H
#define BACKEND_XEN_HANDLES_H

#include <stddef.h>

#include <xendevicemodel.h>
#include <xenforeignmemory.h>
#include <xengnttab.h>

struct xen_handles {
	xendevicemodel_handle *xdm;
	xenforeignmemory_handle *xfm;
	xengnttab_handle *xgt;
};

/* 0, or -1 with @err (whatever was opened is closed again). */
int xen_handles_open(struct xen_handles *h, unsigned int domid, char *err,
		     size_t errlen);
void xen_handles_close(struct xen_handles *h);

#endif /* BACKEND_XEN_HANDLES_H */
