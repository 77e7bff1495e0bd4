// SPDX-License-Identifier: MIT
/*
 * RPMB core + store benchmark. Prints, for 1 and max_wr_cnt blocks:
 * authenticated writes/s and reads/s through rpmb_dev_process on a real
 * store, the bare HMAC-SHA256 rate over the same bytes, the cost of one
 * fsync on the same file system, and the ratios against the targets
 * (write <= 1.3 fsyncs, read <= 3x its HMAC). Figures only; no verdict
 * fails the build.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <time.h>
#include <unistd.h>

#include "rpmb-auth.h"
#include "log.h"
#include "rpmb-test-util.h"
#include "rpmb.h"

#define MAX_BLOCKS	RPMB_DEFAULT_MAX_WR_CNT
#define RUN_SECONDS	0.1
#define ROUNDS		7

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Runs @fn until RUN_SECONDS passed; returns seconds per call. */
static double time_per_call(void (*fn)(void *), void *arg)
{
	double start = now(), t;
	unsigned long n = 0;

	do {
		fn(arg);
		n++;
	} while ((t = now() - start) < RUN_SECONDS);
	return t / n;
}

/* The reference: the same amount of data written and fsync'ed. */
struct fsync_arg {
	int fd;
	size_t len;
	char buf[MAX_BLOCKS * RPMB_BLOCK_SIZE];
};

static void one_fsync(void *p)
{
	struct fsync_arg *a = p;

	if (pwrite(a->fd, a->buf, a->len, 0) != (ssize_t)a->len || fsync(a->fd))
		abort();
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_double);
	return v[n / 2];
}

struct mac_arg {
	struct rpmb_auth *auth;
	struct rpmb_frame frames[MAX_BLOCKS];
	size_t n;
};

static void one_mac(void *p)
{
	struct mac_arg *a = p;
	uint8_t mac[RPMB_MAC_SIZE];

	if (rpmb_auth_mac(a->auth, a->frames, a->n, mac))
		abort();
}

struct io_arg {
	struct rpmb_dev *dev;
	struct rpmb_frame req[MAX_BLOCKS + 1];
	struct rpmb_frame resp[MAX_BLOCKS];
	size_t n;
	uint32_t counter;
};

static void build_write(struct io_arg *a)
{
	for (size_t i = 0; i < a->n; i++) {
		rc_request(&a->req[i], RPMB_REQ_DATA_WRITE, 0, (uint16_t)a->n, a->counter);
		memset(a->req[i].data, (int)a->counter, RPMB_BLOCK_SIZE);
	}
	rc_sign(rc_test_key, a->req, a->n);
	rc_request(&a->req[a->n], RPMB_REQ_RESULT_READ, 0, 1, 0);
}

/* What the guest does before sending: timed so it can be taken out. */
static void one_sign(void *p)
{
	build_write(p);
}

static void one_write(void *p)
{
	struct io_arg *a = p;

	build_write(a);
	if (rpmb_dev_process_frames(a->dev, a->req, a->n + 1, a->resp, 1) != 1 ||
	    rpmb_frame_result(a->resp) != RPMB_RES_OK)
		abort();
	a->counter++;
}

static void one_read(void *p)
{
	struct io_arg *a = p;

	rc_request(&a->req[0], RPMB_REQ_DATA_READ, 0, (uint16_t)a->n, 0);
	if (rpmb_dev_process_frames(a->dev, a->req, 1, a->resp, a->n) != a->n ||
	    rpmb_frame_result(a->resp) != RPMB_RES_OK)
		abort();
}

/*
 * Disk timings on shared machines drift, so fsync and write are measured
 * in alternating rounds and the medians compared.
 */
static void bench_size(size_t n, struct fsync_arg *fa, struct mac_arg *ma,
		       struct io_arg *ia)
{
	double fs[ROUNDS], wr[ROUNDS], ratio[ROUNDS], rd[ROUNDS], mac[ROUNDS];
	double t_fsync, t_write, t_read, t_mac, t_sign;

	fa->len = n * RPMB_BLOCK_SIZE;
	ma->n = n;
	ia->n = n;
	t_sign = time_per_call(one_sign, ia);
	/* Steady state: past the first checkpoint, the WAL is reused. */
	for (int i = 0; i < 600; i++)
		one_write(ia);
	for (int r = 0; r < ROUNDS; r++) {
		fs[r] = time_per_call(one_fsync, fa);
		wr[r] = time_per_call(one_write, ia) - t_sign;
		ratio[r] = wr[r] / fs[r];
		mac[r] = time_per_call(one_mac, ma);
		rd[r] = time_per_call(one_read, ia);
	}
	t_fsync = median(fs, ROUNDS);
	t_write = median(wr, ROUNDS);
	t_mac = median(mac, ROUNDS);
	t_read = median(rd, ROUNDS);
	printf("%2zu block(s):\n", n);
	printf("  fsync of %zu B            %9.1f us\n", fa->len, t_fsync * 1e6);
	printf("  authenticated write      %9.1f us  %8.1f/s  %.2f fsyncs (target <= 1.30: %s)\n",
	       t_write * 1e6, 1 / t_write, median(ratio, ROUNDS),
	       median(ratio, ROUNDS) <= 1.3 ? "met" : "missed");
	printf("  HMAC-SHA256 of %3zu x 284 B %8.2f us  %8.1f/s\n", n,
	       t_mac * 1e6, 1 / t_mac);
	printf("  authenticated read       %9.2f us  %8.1f/s  %.2f x HMAC (target <= 3.00: %s)\n",
	       t_read * 1e6, 1 / t_read, t_read / t_mac,
	       t_read / t_mac <= 3.0 ? "met" : "missed");
}

int main(void)
{
	const char *base = getenv("BUILD") ?: "build";
	char dir[512], path[600];
	static struct fsync_arg fa;
	static struct mac_arg ma;
	static struct io_arg ia;
	struct rpmb_store *st;
	struct statfs sfs;

	vr_log_set_level(VR_LOG_ERR);
	snprintf(dir, sizeof(dir), "%s/bench-tmp", base);
	mkdir(dir, 0700);
	snprintf(path, sizeof(path), "%s/fsync-probe", dir);
	unlink(path);
	fa.fd = open(path, O_RDWR | O_CREAT, 0600);
	if (fa.fd < 0 || statfs(dir, &sfs))
		return 1;
	snprintf(path, sizeof(path), "%s/bench.rpmb", dir);
	unlink(path);
	st = rt_store(dir, "bench.rpmb", 16, MAX_BLOCKS, MAX_BLOCKS);
	rpmb_store_program_key(st, rc_test_key);
	ia.dev = rpmb_dev_new(st, NULL);
	ma.auth = rpmb_auth_new();
	rpmb_auth_set_key(ma.auth, rc_test_key);

	printf("RPMB core + store, store in %s (filesystem magic %#lx), medians of %d rounds\n",
	       dir, (unsigned long)sfs.f_type, ROUNDS);
	bench_size(1, &fa, &ma, &ia);
	bench_size(MAX_BLOCKS, &fa, &ma, &ia);

	close(fa.fd);
	snprintf(path, sizeof(path), "%s/fsync-probe", dir);
	unlink(path);
	rpmb_auth_free(ma.auth);
	rpmb_dev_free(ia.dev);
	rpmb_store_close(st);
	snprintf(path, sizeof(path), "%s/bench.rpmb", dir);
	unlink(path);
	return 0;
}
