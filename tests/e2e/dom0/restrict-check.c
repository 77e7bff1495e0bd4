// SPDX-License-Identifier: MIT
/*
 * restrict-check A B: opens the Xen handles exactly as a worker for
 * domain A does (backend/xen-handles.c), then checks on real Xen that
 * they work on A and are refused on B: the device-model and foreign
 * mapping rights a worker taken over by its guest would keep.
 * Prints one line "restrict-check: A ok, B refused (...)" and exits 0,
 * or says what was allowed and exits 1.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "xen-handles.h"

/* The first frame of an Arm guest's RAM (GUEST_RAM0_BASE). */
#define GUEST_RAM_GFN	0x40000UL

static int vcpus(struct xen_handles *h, unsigned int dom)
{
	unsigned int n = 0;

	return xendevicemodel_nr_vcpus(h->xdm, (domid_t)dom, &n) ? -errno : (int)n;
}

static int map_first_page(struct xen_handles *h, unsigned int dom)
{
	xen_pfn_t gfn = GUEST_RAM_GFN;
	int err = 0;
	void *p = xenforeignmemory_map(h->xfm, dom, PROT_READ, 1, &gfn, &err);

	if (!p)
		return -errno;
	xenforeignmemory_unmap(h->xfm, p, 1);
	return err ? err : 0;
}

int main(int argc, char **argv)
{
	struct xen_handles h = { 0 };
	unsigned int a, b;
	int va, vb, ma, mb;
	char err[256];

	if (argc != 3) {
		fprintf(stderr, "usage: restrict-check A B\n");
		return 2;
	}
	a = (unsigned int)strtoul(argv[1], NULL, 0);
	b = (unsigned int)strtoul(argv[2], NULL, 0);
	if (xen_handles_open(&h, a, err, sizeof(err))) {
		printf("restrict-check: %s\n", err);
		return 1;
	}
	va = vcpus(&h, a);
	vb = vcpus(&h, b);
	ma = map_first_page(&h, a);
	mb = map_first_page(&h, b);
	xen_handles_close(&h);
	if (va > 0 && vb < 0 && !ma && mb < 0) {
		printf("restrict-check: dom%u ok (%d vCPUs, RAM mapped), dom%u refused (vcpus: %s; map: %s)\n",
		       a, va, b, strerror(-vb), strerror(-mb));
		return 0;
	}
	printf("restrict-check: FAILED dom%u vcpus=%d map=%d, dom%u vcpus=%d map=%d\n",
	       a, va, ma, b, vb, mb);
	return 1;
}
