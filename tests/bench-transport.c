// SPDX-License-Identifier: MIT
/*
 * Transport overhead: the same RPMB requests through the simulated guest
 * (test-side RAM + driver), virtio-mmio and the virtqueue, and straight
 * into the core. Prints requests/s for each and the transport's cost per
 * request (target: under 10% of a one-block read). Figures only.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "log.h"
#include "rpmb-test-util.h"
#include "rpmb.h"
#include "sim-driver.h"
#include "virtio-mmio.h"
#include "virtio-rpmb.h"

#define GUEST_BASE	0x80000000ULL
#define RUN_SECONDS	0.3
#define ROUNDS		5
#define DEVICE_SIDE_ROUNDS 11
#define DEVICE_SIDE_RUNS 100000UL

struct ctx {
	struct rpmb_dev *core;
	struct virtio_dev *vr;
	struct virtio_mmio *vm;
	struct sim_driver d;
	struct rpmb_frame req[2], resp[1];
	unsigned int nreq;
	uint32_t counter;
	bool is_write;
};

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void prepare(struct ctx *c)
{
	if (!c->is_write)
		return;
	/* Signing is the guest's work; it is the same on both paths. */
	rc_request(&c->req[0], RPMB_REQ_DATA_WRITE, 0, 1, c->counter++);
	rc_sign(rc_test_key, c->req, 1);
}

static void via_core(struct ctx *c)
{
	prepare(c);
	if (rpmb_dev_process_frames(c->core, c->req, c->nreq, c->resp, 1) != 1)
		abort();
}

static void via_transport(struct ctx *c)
{
	prepare(c);
	if (sim_rpmb_xfer(&c->d, c->req, c->nreq, c->resp, 1,
			  SIM_SPLIT_PER_FRAME, false) != RPMB_FRAME_SIZE)
		abort();
	sim_driver_ack_irq(&c->d);
}

static double per_call(void (*fn)(struct ctx *), struct ctx *c)
{
	double start = now(), t;
	unsigned long n = 0;

	do {
		fn(c);
		n++;
	} while ((t = now() - start) < RUN_SECONDS);
	return t / n;
}

struct device_side {
	double core;		/* RPMB core alone, per request */
	double total;		/* notify through transport and core */
};

/*
 * The device's own share. The guest's preparation (copying frames into
 * its memory, building descriptors, reading the answer) stays outside the
 * clock; only the notify, which runs the whole device path, is timed, and
 * the core alone is timed the same way. The two alternate, request by
 * request, so that both see the same machine. Each timed interval holds
 * one reading of the clock; an empty interval, timed alongside, measures
 * that and it is taken out of both.
 */
static struct device_side device_side(struct ctx *c)
{
	double core = 0, total = 0, clock = 0, t;
	uint32_t id, len;

	c->d.no_kick = true;
	for (unsigned long n = 0; n < DEVICE_SIDE_RUNS; n++) {
		memcpy(sim_guest_ptr(c->d.g, c->d.g->base + SIM_DATA_OFF),
		       c->req, c->nreq * RPMB_FRAME_SIZE);
		sim_driver_publish(&c->d, 0);
		t = now();
		virtio_mmio_write(c->vm, 0x050, 4, 0);
		total += now() - t;
		if (!sim_driver_take_used(&c->d, &id, &len) || len != RPMB_FRAME_SIZE)
			abort();
		sim_driver_ack_irq(&c->d);

		t = now();
		if (rpmb_dev_process_frames(c->core, c->req, c->nreq, c->resp, 1) != 1)
			abort();
		core += now() - t;

		t = now();
		clock += now() - t;
	}
	c->d.no_kick = false;
	return (struct device_side) {
		.core = (core - clock) / DEVICE_SIDE_RUNS,
		.total = (total - clock) / DEVICE_SIDE_RUNS,
	};
}

static void build_chain(struct ctx *c)
{
	struct sim_desc *desc = sim_driver_desc_table(&c->d);
	uint64_t data = c->d.g->base + SIM_DATA_OFF;

	desc[0] = (struct sim_desc) { data, c->nreq * RPMB_FRAME_SIZE, 1, 1 };
	desc[1] = (struct sim_desc) { data + 0x1000, RPMB_FRAME_SIZE, 2, 0 };
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static void bench(const char *name, struct ctx *c, double *read_total)
{
	double core[ROUNDS], trans[ROUNDS], t_core, t_trans;

	for (int r = 0; r < ROUNDS; r++) {
		core[r] = per_call(via_core, c);
		trans[r] = per_call(via_transport, c);
	}
	qsort(core, ROUNDS, sizeof(double), cmp);
	qsort(trans, ROUNDS, sizeof(double), cmp);
	t_core = core[ROUNDS / 2];
	t_trans = trans[ROUNDS / 2];
	if (read_total && !*read_total)
		*read_total = t_trans;
	printf("%-16s core %10.0f req/s   with guest driver + transport %10.0f req/s   difference %5.0f ns (%.1f%%)\n",
	       name, 1 / t_core, 1 / t_trans, (t_trans - t_core) * 1e9,
	       100 * (t_trans - t_core) / t_trans);
}

int main(void)
{
	const char *base = getenv("BUILD") ?: "build";
	static struct ctx c;
	struct sim_guest *g;
	struct rpmb_store *st;
	double read_total = 0;
	char dir[512];

	vr_log_set_level(VR_LOG_ERR);
	snprintf(dir, sizeof(dir), "%s/bench-tmp", base);
	mkdir(dir, 0700);
	remove("build/bench-tmp/transport.rpmb");
	snprintf(dir + strlen(dir), sizeof(dir) - strlen(dir), "/transport-XXXXXX");
	if (!mkdtemp(dir))
		return 1;
	st = rt_store(dir, "t.rpmb", 1, 8, 8);
	rpmb_store_program_key(st, rc_test_key);
	c.core = rpmb_dev_new(st, NULL);
	g = sim_guest_new(GUEST_BASE, SIM_RAM_SIZE);
	c.vr = virtio_rpmb_new(st, "bench");
	c.vm = virtio_mmio_new(c.vr, &g->host);
	sim_driver_init_mmio(&c.d, g, c.vm);
	if (sim_driver_probe(&c.d, ~0ULL, 64))
		return 1;

	printf("virtio-mmio + virtqueue + simulated guest memory vs RPMB core alone (medians of %d)\n",
	       ROUNDS);
	rc_request(&c.req[0], RPMB_REQ_DATA_READ, 0, 1, 0);
	c.nreq = 1;
	bench("read 1 block", &c, &read_total);
	{
		double core[DEVICE_SIDE_ROUNDS], over[DEVICE_SIDE_ROUNDS];
		double t_core, t_over;

		build_chain(&c);
		/* Overhead per round, core and transport measured side by side. */
		for (int r = 0; r < DEVICE_SIDE_ROUNDS; r++) {
			struct device_side ds = device_side(&c);

			core[r] = ds.core;
			over[r] = ds.total - ds.core;
		}
		qsort(core, DEVICE_SIDE_ROUNDS, sizeof(double), cmp);
		qsort(over, DEVICE_SIDE_ROUNDS, sizeof(double), cmp);
		t_core = core[DEVICE_SIDE_ROUNDS / 2];
		t_over = over[DEVICE_SIDE_ROUNDS / 2];
		printf("%-16s device side only (medians of %d): core %.0f ns, overhead %.0f ns = %.1f%% of a one-block read (target < 10%%: %s)\n",
		       "read 1 block", DEVICE_SIDE_ROUNDS, t_core * 1e9, t_over * 1e9,
		       100 * t_over / (t_core + t_over),
		       t_over / (t_core + t_over) < 0.10 ? "met" : "missed");
	}
	rc_request(&c.req[0], RPMB_REQ_GET_WRITE_COUNTER, 0, 1, 0);
	bench("get counter", &c, NULL);
	rc_request(&c.req[1], RPMB_REQ_RESULT_READ, 0, 1, 0);
	c.nreq = 2;
	c.is_write = true;
	/* The core and the device share the store: one counter sequence. */
	c.counter = 0;
	bench("write 1 block", &c, NULL);

	virtio_mmio_free(c.vm);
	virtio_dev_destroy(c.vr);
	rpmb_dev_free(c.core);
	sim_guest_free(g);
	rpmb_store_close(st);
	rt_rmdir(strdup(dir));
	return 0;
}
