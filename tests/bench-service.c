// SPDX-License-Identifier: MIT
/*
 * The request service as the daemon runs it: one worker process per
 * guest (tests/lib/sim-worker.c builds it as backend/worker.c does, with
 * the same serving loop, bus, service threads and device code), guests
 * simulated in this process below the ioreq interface (sim-vm), stores
 * on the build directory's real filesystem. Prints, for scripts:
 *
 *   notify: p99 <X> us, fsync <Y> us
 *   isolation: reader p99 alone <A> us, beside writer <B> us, beside republisher <C> us
 *   scale: devices <N> mem <K> KiB, <R> req/s
 *
 * A simulated guest's vCPUs run here, on the machine's cores (on Xen they
 * have their own), so none of them spins: each waits for its device's
 * interrupt or for its access to be answered, as a vCPU stopped in an
 * MMIO access would. The neighbours' vCPU threads also run at the lowest
 * priority: their own work (signing, building requests) is on their own
 * CPUs on Xen, not the daemon's. Their workers, like the reader's, run at
 * normal priority: that work is the daemon's and is what is measured.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <fcntl.h>

#include "rpmb-clients.h"
#include "rpmb-frame.h"
#include "sim-driver.h"
#include "sim-vm.h"
#include "sim-worker.h"

#define BASE		0x2000000ull
#define RAM_BASE	0x40000000ull
#define QUEUE_NOTIFY	0x50
#define SAMPLES		2000
#define SCALE_CAP	128		/* 128 KiB units: 16 MiB */
#define SCALE_BLOCKS	(SCALE_CAP * 512u)
#define SCALE_CNT	32		/* blocks per write and per read */

struct bdev {
	struct sim_vm *vm;
	struct sim_worker w;
	struct sim_driver d;
	uint32_t counter;
	char dir[512];

	/* Times of QUEUE_NOTIFY accesses, when being measured. */
	double *notify_us;
	unsigned int nnotify, max_notify;
};

static double now_us(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1e6 + t.tv_nsec / 1e3;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double pct(double *v, unsigned int n, double p)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return v[(unsigned int)((n - 1) * p)];
}

static uint64_t vm_rd(void *opaque, uint64_t off, unsigned int size)
{
	struct bdev *b = opaque;

	return sim_vm_access(b->vm, 0, BASE + off, size, false, 0);
}

static void vm_wr(void *opaque, uint64_t off, unsigned int size, uint64_t v)
{
	struct bdev *b = opaque;
	double t0 = now_us();

	sim_vm_access(b->vm, 0, BASE + off, size, true, v);
	if (off == QUEUE_NOTIFY && b->notify_us && b->nnotify < b->max_notify)
		b->notify_us[b->nnotify++] = now_us() - t0;
}

static bool wait_irq(void *opaque, unsigned int timeout_ms)
{
	struct bdev *b = opaque;

	return sim_vm_wait_irq(b->vm, 0, (int)timeout_ms);
}

static void die(const char *what, struct bdev *b)
{
	fprintf(stderr, "bench-service: %s (%s)\n", what,
		b ? b->w.last_log : "");
	exit(1);
}

static void bdev_start(struct bdev *b, const char *base, const char *name,
		       unsigned int capacity, unsigned int cnt)
{
	struct sim_worker_opts o = { .dir = b->dir, .log_level = VR_LOG_ERR };
	char params[96];

	memset(b, 0, sizeof(*b));
	snprintf(b->dir, sizeof(b->dir), "%s/%s", base, name);
	mkdir(b->dir, 0700);
	b->vm = sim_vm_new(RAM_BASE, SIM_RAM_SIZE, 2);
	if (sim_worker_start(&b->w, b->vm, &o))
		die("cannot start a worker", NULL);
	snprintf(params, sizeof(params),
		 "capacity=%u max_wr_cnt=%u max_rd_cnt=%u", capacity, cnt, cnt);
	if (sim_worker_add(&b->w, 0, BASE, params))
		die("worker refused the device", b);
	sim_driver_init(&b->d, b->vm->ram, b, vm_rd, vm_wr);
	b->d.wait_ms = 30000;
	b->d.wait_irq = wait_irq;
	b->d.wait_irq_opaque = b;
	if (sim_driver_probe(&b->d, ~0ULL, 64))
		die("probe failed", b);
}

static void bdev_stop(struct bdev *b)
{
	int status = sim_worker_stop(&b->w);

	if (!WIFEXITED(status) || WEXITSTATUS(status))
		die("a worker did not stop cleanly", b);
	sim_vm_free(b->vm);
}

/* One request; its first response frame in @resp[0]. */
static void xfer(struct bdev *b, const struct rpmb_frame *req,
		 unsigned int nreq, struct rpmb_frame *resp, unsigned int nresp)
{
	if (sim_rpmb_xfer(&b->d, req, nreq, resp, nresp, SIM_SPLIT_WHOLE,
			  false) != (long)nresp * 512)
		die("request not answered", b);
}

static void program_key(struct bdev *b)
{
	struct rpmb_frame req[2], resp[1];

	rc_request(&req[0], RPMB_REQ_PROGRAM_KEY, 0, 1, 0);
	memcpy(req[0].key_mac, rc_test_key, RPMB_KEY_SIZE);
	rc_request(&req[1], RPMB_REQ_RESULT_READ, 0, 0, 0);
	xfer(b, req, 2, resp, 1);
	/* A store kept from a smaller run has its key already. */
	if (rpmb_frame_result(&resp[0]) != RPMB_RES_OK &&
	    rpmb_frame_result(&resp[0]) != RPMB_RES_WRITE_FAILURE)
		die("program key", b);
	rc_request(&req[0], RPMB_REQ_GET_WRITE_COUNTER, 0, 1, 0);
	xfer(b, req, 1, resp, 1);
	b->counter = rpmb_frame_counter(&resp[0]);
}

static void write_blocks(struct bdev *b, uint16_t addr, unsigned int n)
{
	static _Thread_local struct rpmb_frame req[SCALE_CNT + 1];
	struct rpmb_frame resp[1];

	for (unsigned int i = 0; i < n; i++) {
		rc_request(&req[i], RPMB_REQ_DATA_WRITE, addr, (uint16_t)n,
			   b->counter);
		rc_pattern(req[i].data, (uint16_t)(addr + i), 1);
	}
	rc_sign(rc_test_key, req, n);
	rc_request(&req[n], RPMB_REQ_RESULT_READ, 0, 0, 0);
	xfer(b, req, n + 1, resp, 1);
	if (rpmb_frame_result(&resp[0]) != RPMB_RES_OK)
		die("write refused", b);
	b->counter++;
}

static void read_blocks(struct bdev *b, uint16_t addr, unsigned int n)
{
	static _Thread_local struct rpmb_frame resp[SCALE_CNT];
	struct rpmb_frame req;

	rc_request(&req, RPMB_REQ_DATA_READ, addr, (uint16_t)n, 0);
	xfer(b, &req, 1, resp, n);
	if (rpmb_frame_result(&resp[n - 1]) != RPMB_RES_OK)
		die("read refused", b);
}

static double fsync_us(const char *dir)
{
	char path[600], buf[4096] = { 1 };
	double t[64];
	int fd;

	snprintf(path, sizeof(path), "%s/fsync-probe", dir);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (fd < 0)
		die("cannot open the fsync probe", NULL);
	for (unsigned int i = 0; i < 64; i++) {
		double t0;

		if (pwrite(fd, buf, sizeof(buf), 0) != sizeof(buf))
			die("probe write", NULL);
		t0 = now_us();
		fdatasync(fd);
		t[i] = now_us() - t0;
	}
	close(fd);
	unlink(path);
	return pct(t, 64, 0.5);
}

/* notify: time from the guest's QUEUE_NOTIFY to the access's answer. */
static void bench_notify(const char *base)
{
	static double t[SAMPLES];
	struct bdev b;

	bdev_start(&b, base, "notify", 1, 1);
	program_key(&b);
	b.notify_us = t;
	b.max_notify = SAMPLES;
	/* Authenticated writes: each an fsync behind the notify. */
	for (unsigned int i = 0; i < SAMPLES; i++)
		write_blocks(&b, (uint16_t)(i % 512), 1);
	b.notify_us = NULL;
	bdev_stop(&b);
	printf("notify: p99 %.0f us, fsync %.0f us\n", pct(t, b.nnotify, 0.99),
	       fsync_us(base));
	/* pct() sorted the samples. */
	printf("  (notify median %.0f us, max %.0f us, over %u authenticated writes)\n",
	       t[b.nnotify / 2], t[b.nnotify - 1], b.nnotify);
}

struct neighbour {
	struct bdev *b;
	atomic_bool stop;
	atomic_ulong done;
	unsigned int vcpu;
};

/* A neighbour guest's vCPU: its own work is not the daemon's. */
static void guest_vcpu_priority(void)
{
	setpriority(PRIO_PROCESS, (id_t)gettid(), 19);
}

static void *writer(void *arg)
{
	struct neighbour *n = arg;

	guest_vcpu_priority();
	while (!atomic_load(&n->stop)) {
		write_blocks(n->b, (uint16_t)(n->done % 512), 1);
		n->done++;
	}
	return NULL;
}

/*
 * The hostile guest's first vCPU: keeps its queue full of 8-block reads,
 * republishing the same chain whenever the device has taken one, never
 * looking at an answer; its second notifies without pause.
 */
static void *republisher(void *arg)
{
	struct neighbour *n = arg;
	struct sim_driver *d = &n->b->d;
	struct sim_desc *desc = sim_driver_desc_table(d);
	uint64_t req = RAM_BASE + SIM_DATA_OFF, resp = req + 512;
	struct rpmb_frame *f = sim_guest_ptr(n->b->vm->ram, req);

	guest_vcpu_priority();
	rc_request(f, RPMB_REQ_DATA_READ, 0, 8, 0);
	desc[0] = (struct sim_desc){ .addr = req, .len = 512,
				     .flags = SIM_DESC_NEXT, .next = 1 };
	desc[1] = (struct sim_desc){ .addr = resp, .len = 8 * 512,
				     .flags = SIM_DESC_WRITE };
	d->no_kick = true;
	while (!atomic_load(&n->stop)) {
		uint16_t used = sim_driver_used_idx(d);
		uint16_t avail = *(volatile uint16_t *)
			((uint8_t *)sim_guest_ptr(n->b->vm->ram,
						  RAM_BASE + SIM_AVAIL_OFF) + 2);

		if ((uint16_t)(avail - used) < d->qsize) {
			sim_driver_publish(d, 0);
			n->done++;
		} else if (sim_vm_wait_irq(n->b->vm, 0, 10)) {
			sim_driver_ack_irq(d);
		}
	}
	return NULL;
}

/* Its second vCPU: notifies, again and again. */
static void *kicker(void *arg)
{
	struct neighbour *n = arg;

	guest_vcpu_priority();
	while (!atomic_load(&n->stop))
		sim_vm_access(n->b->vm, 1, BASE + QUEUE_NOTIFY, 4, true, 0);
	return NULL;
}

/* A reader guest's 1-block authenticated reads, request to answer. */
static double reader_p99(struct bdev *r)
{
	static double t[SAMPLES];

	for (unsigned int i = 0; i < SAMPLES; i++) {
		double t0 = now_us();

		read_blocks(r, (uint16_t)(i % 512), 1);
		t[i] = now_us() - t0;
	}
	return pct(t, SAMPLES, 0.99);
}

static void bench_isolation(const char *base)
{
	struct bdev r, w, h;
	struct neighbour nw = { .b = &w }, nh = { .b = &h };
	pthread_t tw, th[2];
	double alone, beside_w, beside_h;

	bdev_start(&r, base, "reader", 1, 8);
	bdev_start(&w, base, "writer", 1, 8);
	bdev_start(&h, base, "hostile", 1, 8);
	program_key(&r);
	program_key(&w);
	program_key(&h);
	for (unsigned int i = 0; i < 512; i += 8)
		write_blocks(&r, (uint16_t)i, 8);

	reader_p99(&r);		/* warm */
	alone = reader_p99(&r);

	pthread_create(&tw, NULL, writer, &nw);
	while (nw.done < 3)
		usleep(1000);
	beside_w = reader_p99(&r);
	atomic_store(&nw.stop, true);
	pthread_join(tw, NULL);

	pthread_create(&th[0], NULL, republisher, &nh);
	pthread_create(&th[1], NULL, kicker, &nh);
	while (nh.done < 1000)
		usleep(1000);
	beside_h = reader_p99(&r);
	atomic_store(&nh.stop, true);
	pthread_join(th[0], NULL);
	pthread_join(th[1], NULL);

	printf("isolation: reader p99 alone %.0f us, beside writer %.0f us, beside republisher %.0f us\n",
	       alone, beside_w, beside_h);
	printf("  (writer made %lu writes, the hostile guest republished %lu chains meanwhile)\n",
	       nw.done, nh.done);
	bdev_stop(&r);
	bdev_stop(&w);
	/* The hostile guest is still publishing: its worker must stop anyway. */
	bdev_stop(&h);
}

/* Proportional set size of @pid, leaving out the simulated guest's RAM. */
static unsigned long pss_kib(pid_t pid, const struct sim_vm *vm)
{
	unsigned long start, end, total = 0, kib;
	bool skip = false;
	char path[64], line[512];
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/smaps", (int)pid);
	f = fopen(path, "r");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%lx-%lx ", &start, &end) == 2) {
			/* Guest memory: Xen's foreign pages are not dom0's. */
			skip = start == (unsigned long)vm->ram->ram ||
			       start == (unsigned long)vm->slots;
			continue;
		}
		if (!skip && sscanf(line, "Pss: %lu kB", &kib) == 1)
			total += kib;
	}
	fclose(f);
	return total;
}

struct scaler {
	struct bdev *b;
	unsigned long reqs;
};

static void *fill(void *arg)
{
	struct scaler *s = arg;

	program_key(s->b);
	for (unsigned int a = 0; a < SCALE_BLOCKS; a += SCALE_CNT)
		write_blocks(s->b, (uint16_t)a, SCALE_CNT);
	return NULL;
}

static void *read_all(void *arg)
{
	struct scaler *s = arg;

	for (unsigned int a = 0; a < SCALE_BLOCKS; a += SCALE_CNT) {
		read_blocks(s->b, (uint16_t)a, SCALE_CNT);
		s->reqs++;
	}
	return NULL;
}

static void bench_scale(const char *base, unsigned int n)
{
	struct bdev *b = calloc(n, sizeof(*b));
	struct scaler *s = calloc(n, sizeof(*s));
	pthread_t *t = calloc(n, sizeof(*t));
	unsigned long mem = 0, reqs = 0;
	double t0, fill_s, read_s;
	char name[32];

	if (!b || !s || !t)
		die("out of memory", NULL);
	for (unsigned int i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "scale-%u", i);
		bdev_start(&b[i], base, name, SCALE_CAP, SCALE_CNT);
		s[i].b = &b[i];
	}
	t0 = now_us();
	for (unsigned int i = 0; i < n; i++)
		pthread_create(&t[i], NULL, fill, &s[i]);
	for (unsigned int i = 0; i < n; i++)
		pthread_join(t[i], NULL);
	fill_s = (now_us() - t0) / 1e6;
	t0 = now_us();
	for (unsigned int i = 0; i < n; i++)
		pthread_create(&t[i], NULL, read_all, &s[i]);
	for (unsigned int i = 0; i < n; i++)
		pthread_join(t[i], NULL);
	read_s = (now_us() - t0) / 1e6;
	for (unsigned int i = 0; i < n; i++) {
		mem += pss_kib(b[i].w.pid, b[i].vm);
		reqs += s[i].reqs;
	}
	printf("scale: devices %u mem %lu KiB, %.0f req/s\n", n, mem,
	       reqs / read_s);
	printf("  (%u x %u KiB stores: filled in %.1f s, %u-block writes; read in %.1f s, %u-block reads; mem = PSS of the workers)\n",
	       n, SCALE_CAP * 128, fill_s, SCALE_CNT, read_s, SCALE_CNT);
	for (unsigned int i = 0; i < n; i++)
		bdev_stop(&b[i]);
	free(b);
	free(s);
	free(t);
}

int main(int argc, char **argv)
{
	const char *build = getenv("BUILD") ?: "build";
	char base[512];
	struct statfs sfs;

	snprintf(base, sizeof(base), "%s/bench-tmp", build);
	mkdir(base, 0700);
	snprintf(base, sizeof(base), "%s/bench-tmp/service", build);
	/* Fresh stores each run. */
	{
		char cmd[600];

		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", base);
		if (system(cmd))
			die("cannot clear the store directory", NULL);
	}
	mkdir(base, 0700);
	if (statfs(base, &sfs))
		die("statfs", NULL);
	printf("request service: one worker process per guest, %ld cores, stores in %s (filesystem magic %#lx)\n",
	       sysconf(_SC_NPROCESSORS_ONLN), base, (unsigned long)sfs.f_type);
	fflush(stdout);
	bench_notify(base);
	fflush(stdout);
	bench_isolation(base);
	fflush(stdout);
	for (int i = 1; i < argc || i == 1; i++) {
		if (argc > 1) {
			bench_scale(base, (unsigned int)atoi(argv[i]));
		} else {
			bench_scale(base, 1);
			bench_scale(base, 16);
			bench_scale(base, 64);
		}
		fflush(stdout);
	}
	return 0;
}
