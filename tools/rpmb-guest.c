// SPDX-License-Identifier: MIT
/*
 * rpmb-guest: drives a virtio-rpmb device from inside a guest through the
 * test driver's /dev/vrpmbN (tests/e2e/guest), or pokes a device's
 * registers directly as a hostile guest would. Works against any
 * virtio-rpmb device, on any hypervisor.
 *
 *   rpmb-guest [--dev D] [--key HEX] [--one-sg] test
 *   rpmb-guest [--dev D] [--key HEX] check-state --counter N
 *   rpmb-guest [--dev D] fresh
 *   rpmb-guest [--dev D] [--key HEX] bench [--ops N]
 *   rpmb-guest [--dev D] client NAME|all
 *   rpmb-guest [--dev D] [--key HEX] smp [--threads N] [--ops N]
 *   rpmb-guest [--dev D] [--key HEX] soak [--seconds N]
 *   rpmb-guest [--dev D] flood [--seconds N]
 *   rpmb-guest garbage --base ADDR [--seed N] [--iterations N]
 *
 * Results are lines "E2E-RESULT: <name> PASS|FAIL <detail>"; benchmark
 * lines are "BENCH op=<op> count=N median_us=X p99_us=X ops_per_s=X
 * exits_per_op=X". The exit status is non-zero if anything failed.
 */
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "rpmb-clients.h"
#include "rpmb-frame.h"
#include "rpmb-guest.h"
#include "vrpmb-ioctl.h"

void report(struct guest *g, const char *name, bool ok, const char *fmt, ...)
{
	char detail[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	printf("E2E-RESULT: %s %s %s\n", name, ok ? "PASS" : "FAIL", detail);
	fflush(stdout);
	if (!ok)
		g->failures++;
}

void sign(struct guest *g, struct rpmb_frame *f, size_t n)
{
	rc_sign(g->key, f, n);
}

bool mac_ok(struct guest *g, const struct rpmb_frame *f, size_t n)
{
	return rc_mac_ok(g->key, f, n);
}

/* One request: returns the number of response bytes, or -errno. */
long xfer(struct guest *g, unsigned int nreq, unsigned int nresp)
{
	struct vrpmb_xfer x = {
		.req = (uintptr_t)g->req, .resp = (uintptr_t)g->resp,
		.nreq = nreq, .nresp = nresp, .flags = g->flags,
	};

	memset(g->resp, 0, nresp * sizeof(g->resp[0]));
	if (ioctl(g->fd, VRPMB_IOC_XFER, &x))
		return -errno;
	return x.used;
}

uint16_t result(struct guest *g)
{
	return rpmb_frame_result(&g->resp[0]);
}

long get_counter(struct guest *g, uint32_t *counter)
{
	long used;

	rc_request(&g->req[0], RPMB_REQ_GET_WRITE_COUNTER, 0, 1, 0);
	for (int i = 0; i < RPMB_NONCE_SIZE; i++)
		g->req[0].nonce[i] = (uint8_t)rand();
	used = xfer(g, 1, 1);
	*counter = rpmb_frame_counter(&g->resp[0]);
	return used;
}

long program_key(struct guest *g)
{
	rc_request(&g->req[0], RPMB_REQ_PROGRAM_KEY, 0, 1, 0);
	memcpy(g->req[0].key_mac, g->key, RPMB_KEY_SIZE);
	rc_request(&g->req[1], RPMB_REQ_RESULT_READ, 0, 1, 0);
	return xfer(g, 2, 1);
}

/* A signed write of @n blocks with RESULT_READ; @count goes in the frames. */
long write_blocks(struct guest *g, uint16_t addr, uint16_t n,
		  uint16_t count, uint32_t counter, bool forge)
{
	for (uint16_t i = 0; i < n; i++) {
		rc_request(&g->req[i], RPMB_REQ_DATA_WRITE, addr, count, counter);
		rc_pattern(g->req[i].data, (uint16_t)(addr + i), counter);
	}
	sign(g, g->req, n);
	if (forge)
		g->req[0].data[17] ^= 0x20;
	rc_request(&g->req[n], RPMB_REQ_RESULT_READ, 0, 1, 0);
	return xfer(g, n + 1u, 1);
}

long read_blocks(struct guest *g, uint16_t addr, uint16_t count,
		 unsigned int room)
{
	rc_request(&g->req[0], RPMB_REQ_DATA_READ, addr, count, 0);
	for (int i = 0; i < RPMB_NONCE_SIZE; i++)
		g->req[0].nonce[i] = (uint8_t)rand();
	return xfer(g, 1, room);
}

bool nonce_echoed(struct guest *g, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++)
		if (memcmp(g->resp[i].nonce, g->req[0].nonce, RPMB_NONCE_SIZE))
			return false;
	return true;
}

bool data_is(struct guest *g, unsigned int i, uint16_t addr,
	     uint32_t counter)
{
	uint8_t want[RPMB_BLOCK_SIZE];

	rc_pattern(want, addr, counter);
	return !memcmp(g->resp[i].data, want, RPMB_BLOCK_SIZE);
}

static int open_dev(struct guest *g, const char *dev)
{
	g->fd = open(dev, O_RDWR);
	if (g->fd < 0 || ioctl(g->fd, VRPMB_IOC_INFO, &g->info)) {
		fprintf(stderr, "rpmb-guest: %s: %s\n", dev, strerror(errno));
		return -1;
	}
	g->nblocks = g->info.capacity * RPMB_BLOCKS_PER_UNIT;
	return 0;
}

static void cmd_test_failures(struct guest *g, uint32_t counter)
{
	uint16_t max_wr = g->info.max_wr_cnt;
	uint32_t c;
	long used;

	used = write_blocks(g, 2, 1, 1, counter, true);
	report(g, "forged-mac", used == 512 && result(g) == RPMB_RES_AUTH_FAILURE,
	       "result %#x", result(g));
	used = write_blocks(g, 0, 1, 1, 0, false);
	report(g, "replayed-write", used == 512 && result(g) == RPMB_RES_COUNT_FAILURE,
	       "result %#x", result(g));
	used = write_blocks(g, (uint16_t)(g->nblocks - 1), 2 <= max_wr ? 2 : 1,
			    2 <= max_wr ? 2 : 1, counter, false);
	if (max_wr < 2)
		used = write_blocks(g, (uint16_t)g->nblocks, 1, 1, counter, false);
	report(g, "write-past-end", used == 512 && result(g) == RPMB_RES_ADDR_FAILURE,
	       "result %#x", result(g));
	used = write_blocks(g, 0, 1, (uint16_t)(max_wr + 1), counter, false);
	report(g, "write-block-count-over-max", used == 512 &&
	       result(g) == RPMB_RES_GENERAL_FAILURE, "result %#x", result(g));
	used = write_blocks(g, 0, (uint16_t)(max_wr + 1), (uint16_t)(max_wr + 1),
			    counter, false);
	report(g, "write-oversized-chain", used == 0 ||
	       (used == 512 && result(g) == RPMB_RES_GENERAL_FAILURE),
	       "used %ld", used);
	used = read_blocks(g, (uint16_t)g->nblocks, 1, 1);
	report(g, "read-past-end", used == 512 && result(g) == RPMB_RES_ADDR_FAILURE,
	       "result %#x", result(g));
	rc_request(&g->req[0], RPMB_REQ_RESULT_READ, 0, 2, 0);
	used = xfer(g, 1, 1);
	report(g, "result-read-bad-count", used == 512 &&
	       result(g) == RPMB_RES_GENERAL_FAILURE, "result %#x", result(g));
	used = program_key(g);
	report(g, "program-key-again", used == 512 && result(g) == RPMB_RES_WRITE_FAILURE,
	       "result %#x", result(g));
	get_counter(g, &c);
	report(g, "failures-left-counter", c == counter, "counter %u", c);
}

static int cmd_test(struct guest *g)
{
	uint16_t max_wr = g->info.max_wr_cnt, max_rd = g->info.max_rd_cnt;
	struct vrpmb_info before = g->info, after;
	uint32_t counter = 0, c;
	bool ok;
	long used;

	report(g, "config", g->info.capacity >= 1 && g->info.capacity <= 128 &&
	       max_wr && max_rd, "capacity %u max_wr_cnt %u max_rd_cnt %u",
	       g->info.capacity, max_wr, max_rd);
	used = get_counter(g, &c);
	report(g, "counter-before-key", used == 512 &&
	       result(g) == RPMB_RES_NO_AUTH_KEY, "result %#x", result(g));
	used = write_blocks(g, 0, 1, 1, 0, false);
	report(g, "write-before-key", used == 512 &&
	       result(g) == RPMB_RES_NO_AUTH_KEY, "result %#x", result(g));
	used = program_key(g);
	report(g, "program-key", used == 512 && result(g) == RPMB_RES_OK &&
	       rpmb_frame_req_resp(&g->resp[0]) == RPMB_RESP_PROGRAM_KEY &&
	       mac_ok(g, g->resp, 1), "result %#x", result(g));
	used = get_counter(g, &counter);
	report(g, "counter", used == 512 && result(g) == RPMB_RES_OK &&
	       nonce_echoed(g, 1) && mac_ok(g, g->resp, 1), "counter %u", counter);

	used = write_blocks(g, 0, 1, 1, counter, false);
	ok = used == 512 && result(g) == RPMB_RES_OK && mac_ok(g, g->resp, 1) &&
	     rpmb_frame_counter(&g->resp[0]) == counter + 1;
	report(g, "write-1", ok, "result %#x counter %u", result(g),
	       rpmb_frame_counter(&g->resp[0]));
	counter++;
	used = write_blocks(g, 1, max_wr, max_wr, counter, false);
	report(g, "write-max", used == 512 && result(g) == RPMB_RES_OK &&
	       mac_ok(g, g->resp, 1), "%u blocks result %#x", max_wr, result(g));
	counter++;

	used = read_blocks(g, 0, 1, 1);
	report(g, "read-1", used == 512 && result(g) == RPMB_RES_OK &&
	       data_is(g, 0, 0, 0) && nonce_echoed(g, 1) && mac_ok(g, g->resp, 1),
	       "result %#x", result(g));
	used = read_blocks(g, 1, max_rd, max_rd);
	ok = used == max_rd * 512 && mac_ok(g, g->resp, max_rd) &&
	     nonce_echoed(g, max_rd);
	for (unsigned int i = 0; ok && i < max_rd && i < max_wr; i++)
		ok = data_is(g, i, (uint16_t)(1 + i), 1);
	report(g, "read-max", ok, "%u blocks used %ld", max_rd, used);
	used = read_blocks(g, 0, 0, 1);
	report(g, "read-count-0", used == 512 && result(g) == RPMB_RES_OK &&
	       data_is(g, 0, 0, 0), "result %#x", result(g));

	cmd_test_failures(g, counter);

	ioctl(g->fd, VRPMB_IOC_INFO, &after);
	report(g, "interrupts", after.interrupts > before.interrupts,
	       "%llu interrupts, %llu notifies",
	       (unsigned long long)(after.interrupts - before.interrupts),
	       (unsigned long long)(after.notifies - before.notifies));
	printf("E2E-STATE: counter=%u\n", counter);
	return g->failures ? 1 : 0;
}

static int cmd_check_state(struct guest *g, uint32_t want)
{
	uint32_t c;
	long used = get_counter(g, &c);

	report(g, "state-key", used == 512 && result(g) == RPMB_RES_OK &&
	       mac_ok(g, g->resp, 1), "result %#x", result(g));
	report(g, "state-counter", c == want, "counter %u, expected %u", c, want);
	used = read_blocks(g, 0, 1, 1);
	report(g, "state-data", used == 512 && data_is(g, 0, 0, 0),
	       "result %#x", result(g));
	return g->failures ? 1 : 0;
}

static int cmd_fresh(struct guest *g)
{
	uint32_t c;
	long used = get_counter(g, &c);

	report(g, "fresh-store", used == 512 && result(g) == RPMB_RES_NO_AUTH_KEY,
	       "result %#x", result(g));
	return g->failures ? 1 : 0;
}

double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

enum bench_op { B_COUNTER, B_WRITE_1, B_WRITE_MAX, B_READ_1, B_READ_MAX };

static long bench_once(struct guest *g, enum bench_op op, uint32_t *counter)
{
	uint32_t c;
	long used;

	switch (op) {
	case B_COUNTER:
		return get_counter(g, &c);
	case B_WRITE_1:
	case B_WRITE_MAX:
		used = write_blocks(g, 0, op == B_WRITE_1 ? 1 : g->info.max_wr_cnt,
				    op == B_WRITE_1 ? 1 : g->info.max_wr_cnt,
				    *counter, false);
		if (result(g) == RPMB_RES_OK)
			(*counter)++;
		return used;
	case B_READ_1:
		return read_blocks(g, 0, 1, 1);
	default:
		return read_blocks(g, 0, g->info.max_rd_cnt, g->info.max_rd_cnt);
	}
}

static int cmd_bench(struct guest *g, unsigned int ops)
{
	static const char *const names[] = {
		"get-counter", "write-1", "write-max", "read-1", "read-max",
	};
	double *lat = calloc(ops, sizeof(double));
	uint32_t counter;

	if (!lat || get_counter(g, &counter) != 512 || result(g) != RPMB_RES_OK) {
		fprintf(stderr, "rpmb-guest: bench needs a programmed key (run test first)\n");
		return 1;
	}
	for (int op = B_COUNTER; op <= B_READ_MAX; op++) {
		struct vrpmb_info a, b;
		double start = now_us(), total;

		ioctl(g->fd, VRPMB_IOC_INFO, &a);
		for (unsigned int i = 0; i < ops; i++) {
			double t = now_us();

			if (bench_once(g, op, &counter) < 512) {
				fprintf(stderr, "rpmb-guest: %s failed\n", names[op]);
				return 1;
			}
			lat[i] = now_us() - t;
		}
		total = now_us() - start;
		ioctl(g->fd, VRPMB_IOC_INFO, &b);
		qsort(lat, ops, sizeof(double), cmp_double);
		printf("BENCH op=%s count=%u median_us=%.1f p99_us=%.1f ops_per_s=%.1f exits_per_op=%.2f\n",
		       names[op], ops, lat[ops / 2], lat[(ops * 99) / 100],
		       ops / (total / 1e6),
		       (double)((b.notifies - a.notifies) +
				2 * (b.interrupts - a.interrupts)) / ops);
	}
	free(lat);
	return 0;
}

/*
 * The real clients' models (tests/lib/rc-*.c), each request laid out in
 * buffers as that client's frontend does, through the driver's segment
 * ioctl. Each needs a device of its own with no key yet.
 */
static long client_xfer(void *opaque, const struct rc_xfer *x)
{
	struct guest *g = opaque;
	struct vrpmb_xfer_segs s = {
		.x = {
			.req = (uintptr_t)x->req, .resp = (uintptr_t)x->resp,
			.nreq = x->nreq, .nresp = x->nresp,
		},
		.nout = x->nout, .nin = x->nin,
	};

	if (x->nout > VRPMB_MAX_SEGS || x->nin > VRPMB_MAX_SEGS)
		return -EINVAL;
	memcpy(s.out_len, x->out_len, x->nout * sizeof(s.out_len[0]));
	memcpy(s.in_len, x->in_len, x->nin * sizeof(s.in_len[0]));
	if (ioctl(g->fd, VRPMB_IOC_XFER_SEGS, &s))
		return -errno;
	return s.x.used;
}

static void client_report(void *opaque, const char *client, const char *step,
			  bool ok, const char *detail)
{
	char name[128];

	snprintf(name, sizeof(name), "client-%s/%s", client, step);
	report(opaque, name, ok, "%s", detail);
}

static int cmd_client(struct guest *g, const char *name)
{
	const struct rc_client *c = rc_client_find(name);
	struct rc_channel ch = { .xfer = client_xfer, .opaque = g };

	if (!c) {
		fprintf(stderr, "rpmb-guest: no client model '%s'; known:", name);
		for (size_t i = 0; i < rc_nclients; i++)
			fprintf(stderr, " %s", rc_clients[i].name);
		fprintf(stderr, "\n");
		return 2;
	}
	printf("E2E-GUEST: client %s (%s) on a device with capacity %u\n",
	       c->name, c->what, g->info.capacity);
	rc_client_run(c, &ch, c->layout, g->info.capacity, g->info.max_wr_cnt,
		      client_report, g);
	return g->failures ? 1 : 0;
}

/* A hostile guest: random register traffic, then rings at garbage. */
static int cmd_garbage(uint64_t base, unsigned int seed, unsigned int iterations)
{
	int fd = open("/dev/mem", O_RDWR | O_SYNC);
	volatile uint32_t *regs;
	volatile uint8_t *bytes;

	if (fd < 0) {
		perror("rpmb-guest: /dev/mem");
		return 1;
	}
	regs = mmap(NULL, 0x1000, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
		    (off_t)base);
	if (regs == MAP_FAILED) {
		perror("rpmb-guest: mmap");
		return 1;
	}
	bytes = (volatile uint8_t *)regs;
	srand(seed);
	for (unsigned int i = 0; i < iterations; i++) {
		unsigned int off = (unsigned int)(rand() % 0x200) & ~3u;
		uint32_t val = (uint32_t)rand() ^ ((uint32_t)rand() << 16);

		switch (rand() % 6) {
		case 0:
			(void)regs[off / 4];
			break;
		case 1:
			(void)bytes[0x100 + rand() % 0x100];
			break;
		case 2:
			/* Plausible setup with queue rings at garbage addresses. */
			regs[0x70 / 4] = 0;
			regs[0x70 / 4] = 3;
			regs[0x24 / 4] = 1;
			regs[0x20 / 4] = 1;
			regs[0x70 / 4] = 0xb;
			regs[0x30 / 4] = 0;
			regs[0x38 / 4] = 1u << (rand() % 9);
			regs[0x80 / 4] = val & ~15u;
			regs[0x84 / 4] = (uint32_t)rand() % 2 ? 0x80000000u : 0;
			regs[0x90 / 4] = (uint32_t)rand() & ~1u;
			regs[0xa0 / 4] = (uint32_t)rand() & ~3u;
			regs[0x44 / 4] = 1;
			regs[0x70 / 4] = 0xf;
			regs[0x50 / 4] = 0;
			break;
		default:
			regs[off / 4] = val;
			break;
		}
	}
	regs[0x70 / 4] = 0;	/* leave the device reset */
	printf("E2E-GUEST: garbage done: %u accesses, seed %u, status now %#x\n",
	       iterations, seed, regs[0x70 / 4]);
	munmap((void *)regs, 0x1000);
	close(fd);
	return 0;
}

static int parse_key(const char *hex, uint8_t *key)
{
	if (strlen(hex) != 2 * RPMB_KEY_SIZE)
		return -1;
	for (int i = 0; i < RPMB_KEY_SIZE; i++)
		if (sscanf(hex + 2 * i, "%2hhx", &key[i]) != 1)
			return -1;
	return 0;
}

static void usage(void)
{
	fprintf(stderr,
		"usage: rpmb-guest [--dev /dev/vrpmb0] [--key HEX] [--one-sg] COMMAND\n"
		"  test                      full check of a device with no key yet\n"
		"  check-state --counter N   key, counter N and data left by 'test'\n"
		"  fresh                     the device has no key\n"
		"  bench [--ops N]           latency, ops/s and MMIO exits per op\n"
		"  client NAME               a real client's whole sequence, on a\n"
		"                            device with no key yet (NAME: optee,\n"
		"                            mmc-utils, u-boot, linux-v2, spec-draft)\n"
		"  smp [--threads N] [--ops N]\n"
		"                            requests from N threads, one per CPU\n"
		"  soak [--seconds N]        writes and reads that survive device\n"
		"                            resets; no acknowledged write lost\n"
		"  flood [--seconds N]       keep the queue full, notify always\n"
		"  garbage --base ADDR [--seed N] [--iterations N]\n"
		"                            hostile register and ring traffic\n");
}

struct options {
	const char *dev, *key;
	uint32_t flags;
	unsigned long counter, ops, seed, iterations, threads, seconds;
	unsigned long long base;
};

/* Options may come before or after the command: getopt runs twice. */
static int parse_options(int argc, char **argv, const char *optstring,
			 struct options *o)
{
	static const struct option opts[] = {
		{ "dev", required_argument, NULL, 'd' },
		{ "key", required_argument, NULL, 'k' },
		{ "one-sg", no_argument, NULL, '1' },
		{ "counter", required_argument, NULL, 'c' },
		{ "ops", required_argument, NULL, 'o' },
		{ "base", required_argument, NULL, 'b' },
		{ "seed", required_argument, NULL, 's' },
		{ "iterations", required_argument, NULL, 'i' },
		{ "threads", required_argument, NULL, 't' },
		{ "seconds", required_argument, NULL, 'S' },
		{ 0 }
	};
	int c;

	while ((c = getopt_long(argc, argv, optstring, opts, NULL)) != -1) {
		switch (c) {
		case 'd': o->dev = optarg; break;
		case 'k': o->key = optarg; break;
		case '1': o->flags |= VRPMB_XFER_ONE_SG; break;
		case 'c': o->counter = strtoul(optarg, NULL, 0); break;
		case 'o': o->ops = strtoul(optarg, NULL, 0); break;
		case 'b': o->base = strtoull(optarg, NULL, 0); break;
		case 's': o->seed = strtoul(optarg, NULL, 0); break;
		case 'i': o->iterations = strtoul(optarg, NULL, 0); break;
		case 't': o->threads = strtoul(optarg, NULL, 0); break;
		case 'S': o->seconds = strtoul(optarg, NULL, 0); break;
		default: return -1;
		}
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct options o = {
		.dev = "/dev/vrpmb0",
		/* OP-TEE's public test key, so runs are reproducible. */
		.key = "D3EB3EC36E334C9F988CE2C0B85954610D2BCF8664844DF2AB56E6C61BB701E4",
		.ops = 200, .seed = 1, .iterations = 2000, .threads = 2,
		.seconds = 30,
	};
	static struct guest g;
	const char *cmd;

	if (parse_options(argc, argv, "+", &o) || optind >= argc) {
		usage();
		return 2;
	}
	cmd = argv[optind++];
	if (parse_options(argc, argv, "", &o) || parse_key(o.key, g.key)) {
		usage();
		return 2;
	}
	g.flags = o.flags;
	srand((unsigned int)time(NULL));
	if (!strcmp(cmd, "garbage"))
		return o.base ? cmd_garbage(o.base, (unsigned int)o.seed,
					    (unsigned int)o.iterations) : 2;
	if (strcmp(cmd, "test") && strcmp(cmd, "check-state") &&
	    strcmp(cmd, "fresh") && strcmp(cmd, "bench") &&
	    strcmp(cmd, "client") && strcmp(cmd, "smp") &&
	    strcmp(cmd, "soak") && strcmp(cmd, "flood")) {
		usage();
		return 2;
	}
	if (open_dev(&g, o.dev))
		return 1;
	if (!strcmp(cmd, "test"))
		return cmd_test(&g);
	if (!strcmp(cmd, "check-state"))
		return cmd_check_state(&g, (uint32_t)o.counter);
	if (!strcmp(cmd, "fresh"))
		return cmd_fresh(&g);
	if (!strcmp(cmd, "bench") && o.ops)
		return cmd_bench(&g, (unsigned int)o.ops);
	if (!strcmp(cmd, "client") && optind < argc)
		return cmd_client(&g, argv[optind]);
	if (!strcmp(cmd, "smp") && o.threads && o.threads <= 64)
		return cmd_smp(&g, (unsigned int)o.threads, (unsigned int)o.ops);
	if (!strcmp(cmd, "soak") && o.seconds)
		return cmd_soak(&g, (unsigned int)o.seconds);
	if (!strcmp(cmd, "flood") && o.seconds)
		return cmd_flood(&g, (unsigned int)o.seconds);
	usage();
	return 2;
}
