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
#include "virtio-rpmb.h"

#define GUEST_BASE	0x80000000ULL
#define RUN_SECONDS	0.3
#define ROUNDS		5

struct ctx {
	struct rpmb_dev *core;
	struct virtio_rpmb *vr;
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

static uint64_t rd(void *dev, uint64_t off, unsigned int size)
{
	return virtio_rpmb_mmio_read(dev, off, size);
}

static void wr(void *dev, uint64_t off, unsigned int size, uint64_t value)
{
	virtio_rpmb_mmio_write(dev, off, size, value);
}

static void prepare(struct ctx *c)
{
	if (!c->is_write)
		return;
	/* Signing is the guest's work; it is the same on both paths. */
	rt_frame(&c->req[0], RPMB_REQ_DATA_WRITE, 0, 1, c->counter++);
	rt_sign(rt_key, c->req, 1);
}

static void via_core(struct ctx *c)
{
	prepare(c);
	if (rpmb_dev_process(c->core, c->req, c->nreq, c->resp, 1) != 1)
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
	printf("%-16s core %10.0f req/s   transport %10.0f req/s   overhead %7.0f ns (%.1f%% of this request)\n",
	       name, 1 / t_core, 1 / t_trans, (t_trans - t_core) * 1e9,
	       100 * (t_trans - t_core) / t_trans);
	if (read_total && *read_total == t_trans)
		printf("%-16s transport overhead is %.1f%% of a one-block read (target < 10%%: %s)\n",
		       "", 100 * (t_trans - t_core) / t_trans,
		       (t_trans - t_core) / t_trans < 0.10 ? "met" : "missed");
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
	rpmb_store_program_key(st, rt_key);
	c.core = rpmb_dev_new(st);
	g = sim_guest_new(GUEST_BASE, SIM_RAM_SIZE);
	c.vr = virtio_rpmb_new(st, &g->host, "bench");
	sim_driver_init(&c.d, g, c.vr, rd, wr);
	if (sim_driver_probe(&c.d, ~0ULL, 64))
		return 1;

	printf("virtio-mmio + virtqueue + simulated guest memory vs RPMB core alone (medians of %d)\n",
	       ROUNDS);
	rt_frame(&c.req[0], RPMB_REQ_DATA_READ, 0, 1, 0);
	c.nreq = 1;
	bench("read 1 block", &c, &read_total);
	rt_frame(&c.req[0], RPMB_REQ_GET_WRITE_COUNTER, 0, 1, 0);
	bench("get counter", &c, NULL);
	rt_frame(&c.req[1], RPMB_REQ_RESULT_READ, 0, 1, 0);
	c.nreq = 2;
	c.is_write = true;
	/* The core and the device share the store: one counter sequence. */
	c.counter = 0;
	bench("write 1 block", &c, NULL);

	virtio_rpmb_free(c.vr);
	rpmb_dev_free(c.core);
	sim_guest_free(g);
	rpmb_store_close(st);
	rt_rmdir(strdup(dir));
	return 0;
}
