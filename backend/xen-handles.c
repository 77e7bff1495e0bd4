// SPDX-License-Identifier: MIT
/*
 * Restricting is a one-way switch in the kernel's privcmd driver
 * (IOCTL_PRIVCMD_RESTRICT): after it, hypercalls through that file are
 * refused for any other domain, so a worker taken over by its guest keeps
 * no device-model or mapping rights over anybody else.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "xen-handles.h"

int xen_handles_open(struct xen_handles *h, unsigned int domid, char *err,
		     size_t errlen)
{
	h->xdm = xendevicemodel_open(NULL, 0);
	h->xfm = xenforeignmemory_open(NULL, 0);
	h->xgt = xengnttab_open(NULL, 0);
	if (!h->xdm || !h->xfm || !h->xgt) {
		snprintf(err, errlen, "cannot open the Xen interfaces: %s",
			 strerror(errno));
		goto fail;
	}
	if (xendevicemodel_restrict(h->xdm, (domid_t)domid) ||
	    xenforeignmemory_restrict(h->xfm, (domid_t)domid)) {
		snprintf(err, errlen, "cannot restrict the Xen handles to dom%u: %s",
			 domid, strerror(errno));
		goto fail;
	}
	return 0;
fail:
	xen_handles_close(h);
	return -1;
}

void xen_handles_close(struct xen_handles *h)
{
	if (h->xgt)
		xengnttab_close(h->xgt);
	if (h->xfm)
		xenforeignmemory_close(h->xfm);
	if (h->xdm)
		xendevicemodel_close(h->xdm);
	h->xgt = NULL;
	h->xfm = NULL;
	h->xdm = NULL;
}
