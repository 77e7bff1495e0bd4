// SPDX-License-Identifier: MIT
/*
 * Client replay: every real client's whole sequence (tests/lib/rc-*.c),
 * checked the way that client checks answers, against a blank store,
 * twice: straight into the RPMB core, and through the virtio-rpmb device
 * with a simulated guest laying each request out in buffers as that
 * client's frontend does (and, for good measure, one buffer per frame).
 * The same models run inside the e2e guests (rpmb-guest client NAME).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "log.h"
#include "rpmb-clients.h"
#include "rpmb-test-util.h"
#include "rpmb.h"
#include "sim-driver.h"
#include "virtio-mmio.h"
#include "virtio-rpmb.h"

#define CAPACITY	2	/* 256 KiB */
#define MAX_WR		32
#define MAX_RD		32

struct harness {
	char *dir;
	struct rpmb_store *st;
	struct rpmb_dev *core;			/* core channel */
	struct sim_guest *g;			/* virtio channel */
	struct virtio_dev *vr;
	struct virtio_mmio *vm;
	struct sim_driver drv;
};

static void report(void *opaque, const char *client, const char *step,
		   bool ok, const char *detail)
{
	printf("  %s %s/%s: %s\n", ok ? "ok  " : "FAIL", client, step, detail);
}

static int set_counter(void *opaque, uint32_t counter)
{
	struct harness *h = opaque;
	uint8_t block[RPMB_BLOCK_SIZE];

	/* Block 0 rewritten as it is, with the counter moved on. */
	if (rpmb_store_read(h->st, 0, 1, block))
		return -1;
	return rpmb_store_write(h->st, 0, 1, block, counter);
}

static long core_xfer(void *opaque, const struct rc_xfer *x)
{
	struct harness *h = opaque;

	return (long)rpmb_dev_process_frames(h->core, x->req, x->nreq, x->resp,
					     x->nresp) * RPMB_FRAME_SIZE;
}

static long virtio_xfer(void *opaque, const struct rc_xfer *x)
{
	struct harness *h = opaque;
	uint64_t at = h->g->base + SIM_DATA_OFF, req_at = at, resp_at;
	struct sim_seg segs[2 * RC_MAX_SEGS];
	unsigned int n = 0;
	long used;

	memcpy(sim_guest_ptr(h->g, req_at), x->req, x->nreq * RPMB_FRAME_SIZE);
	for (unsigned int i = 0; i < x->nout; i++) {
		segs[n++] = (struct sim_seg){ .addr = at, .len = x->out_len[i] };
		at += x->out_len[i];
	}
	resp_at = at;
	memset(sim_guest_ptr(h->g, resp_at), 0xa5, x->nresp * RPMB_FRAME_SIZE);
	for (unsigned int i = 0; i < x->nin; i++) {
		segs[n++] = (struct sim_seg){
			.addr = at, .len = x->in_len[i], .write = true,
		};
		at += x->in_len[i];
	}
	used = sim_driver_submit(&h->drv, segs, n, false);
	if (x->nresp)
		memcpy(x->resp, sim_guest_ptr(h->g, resp_at),
		       x->nresp * RPMB_FRAME_SIZE);
	sim_driver_ack_irq(&h->drv);
	return used;
}

static struct harness *harness_new(bool via_virtio)
{
	struct harness *h = test_calloc(1, sizeof(*h));

	vr_log_set_level(VR_LOG_ERR);
	h->dir = rt_tempdir();
	h->st = rt_store(h->dir, "client.rpmb", CAPACITY, MAX_WR, MAX_RD);
	if (!via_virtio) {
		h->core = rpmb_dev_new(h->st, NULL);
		assert_non_null(h->core);
		return h;
	}
	h->g = sim_guest_new(0x40000000, SIM_RAM_SIZE);
	assert_non_null(h->g);
	h->vr = virtio_rpmb_new(h->st, "client");
	assert_non_null(h->vr);
	h->vm = virtio_mmio_new(h->vr, &h->g->host);
	assert_non_null(h->vm);
	sim_driver_init_mmio(&h->drv, h->g, h->vm);
	assert_int_equal(sim_driver_probe(&h->drv, SIM_F_VERSION_1 |
					  SIM_F_ACCESS_PLATFORM, 128), 0);
	return h;
}

static void harness_free(struct harness *h)
{
	virtio_mmio_free(h->vm);
	virtio_dev_destroy(h->vr);
	if (h->g)
		assert_int_equal(h->g->live_maps, 0);
	sim_guest_free(h->g);
	rpmb_dev_free(h->core);
	rpmb_store_close(h->st);
	rt_rmdir(h->dir);
	test_free(h);
}

static void run_one(const struct rc_client *c, bool via_virtio,
		    enum rc_layout layout)
{
	struct harness *h = harness_new(via_virtio);
	struct rc_channel ch = {
		.xfer = via_virtio ? virtio_xfer : core_xfer,
		.set_counter = set_counter,
		.opaque = h,
	};
	unsigned int failures;

	printf("%s through %s:\n", c->name, via_virtio ? "virtio" : "the core");
	failures = rc_client_run(c, &ch, layout, CAPACITY, MAX_WR, report, NULL);
	harness_free(h);
	if (failures)
		fail_msg("%s: %u checks failed", c->name, failures);
}

static void client_via_core(void **state)
{
	const struct rc_client *c = *state;

	run_one(c, false, c->layout);
}

static void client_via_virtio(void **state)
{
	const struct rc_client *c = *state;

	run_one(c, true, c->layout);
}

/* The same requests with every frame in its own buffer. */
static void client_via_virtio_per_frame(void **state)
{
	const struct rc_client *c = *state;

	run_one(c, true, RC_LAYOUT_PER_FRAME);
}

#define MAX_TESTS	(3 * 8)

int main(void)
{
	static const struct {
		const char *how;
		CMUnitTestFunction fn;
	} ways[] = {
		{ "core", client_via_core },
		{ "virtio", client_via_virtio },
		{ "virtio-per-frame", client_via_virtio_per_frame },
	};
	static char names[MAX_TESTS][64];
	struct CMUnitTest tests[MAX_TESTS];
	size_t n = 0;

	for (size_t i = 0; i < rc_nclients; i++) {
		for (size_t w = 0; w < 3 && n < MAX_TESTS; w++, n++) {
			snprintf(names[n], sizeof(names[n]), "%s/%s",
				 rc_clients[i].name, ways[w].how);
			tests[n] = (struct CMUnitTest){
				.name = names[n], .test_func = ways[w].fn,
				.initial_state = (void *)&rc_clients[i],
			};
		}
	}
	return _cmocka_run_group_tests("rpmb-clients", tests, n, NULL, NULL);
}
