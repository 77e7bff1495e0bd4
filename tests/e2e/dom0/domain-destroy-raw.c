// SPDX-License-Identifier: MIT
/*
 * domain-destroy-raw DOMID: destroys a domain below the toolstack, with
 * libxenctrl's xc_domain_destroy() alone: no xenstore change, no device
 * removal, nothing libxl would do. It is how a guest looks to a backend
 * when it dies without anyone closing its devices (the e2e scenario
 * guest-dies-alone). Exit status 0 once Xen has started destroying it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xenctrl.h>

int main(int argc, char **argv)
{
	xc_interface *xch;
	unsigned long domid;
	char *end;
	int rc;

	if (argc != 2) {
		fprintf(stderr, "usage: %s DOMID\n", argv[0]);
		return 2;
	}
	domid = strtoul(argv[1], &end, 0);
	if (*end || !domid || domid >= DOMID_FIRST_RESERVED) {
		fprintf(stderr, "%s: bad domid '%s'\n", argv[0], argv[1]);
		return 2;
	}
	xch = xc_interface_open(NULL, NULL, 0);
	if (!xch) {
		fprintf(stderr, "%s: xc_interface_open: %s\n", argv[0], strerror(errno));
		return 1;
	}
	rc = xc_domain_destroy(xch, (uint32_t)domid);
	if (rc)
		fprintf(stderr, "%s: xc_domain_destroy(%lu): %s\n", argv[0], domid,
			strerror(errno));
	xc_interface_close(xch);
	return rc ? 1 : 0;
}
