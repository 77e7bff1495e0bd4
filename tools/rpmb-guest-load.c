// SPDX-License-Identifier: MIT
/*
 * rpmb-guest's load commands: requests from every vCPU at once (smp), and
 * a write/read loop that survives the device being reset under it (soak:
 * the backend's worker for this guest killed and restarted), checking
 * that no acknowledged write is lost and the counter never goes back.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "rpmb-clients.h"
#include "rpmb-guest.h"

/* The key is there (programmed now if the device is fresh). */
static bool keyed(struct guest *g)
{
	uint32_t c;

	if (get_counter(g, &c) == 512 && result(g) == RPMB_RES_OK)
		return true;
	if (result(g) != RPMB_RES_NO_AUTH_KEY)
		return false;
	return program_key(g) == 512 && result(g) == RPMB_RES_OK;
}

struct smp_thread {
	struct guest g;			/* its own frames; the fd is shared */
	pthread_t tid;
	unsigned int index, ops, cpu_mask_seen;
	unsigned int errors;
	char why[128];
};

static void *smp_worker(void *arg)
{
	struct smp_thread *t = arg;
	struct guest *g = &t->g;
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	uint32_t counter = 0, last = 0;
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(t->index % (ncpu > 0 ? ncpu : 1), &set);
	sched_setaffinity(0, sizeof(set), &set);
	for (unsigned int i = 0; i < t->ops && !t->errors; i++) {
		int cpu = sched_getcpu();

		if (cpu >= 0 && cpu < 32)
			t->cpu_mask_seen |= 1u << cpu;
		/* Counters only go up, whoever writes. */
		if (get_counter(g, &counter) != 512 || result(g) != RPMB_RES_OK ||
		    !nonce_echoed(g, 1) || !mac_ok(g, g->resp, 1) ||
		    counter < last) {
			snprintf(t->why, sizeof(t->why), "get-counter %u: result %#x counter %u after %u",
				 i, result(g), counter, last);
			t->errors++;
			break;
		}
		last = counter;
		if (t->index == 0) {
			/* One writer, so its counter is its own to track. */
			if (write_blocks(g, 0, 1, 1, counter, false) != 512 ||
			    result(g) != RPMB_RES_OK) {
				snprintf(t->why, sizeof(t->why), "write %u: result %#x",
					 i, result(g));
				t->errors++;
				break;
			}
		}
		if (read_blocks(g, (uint16_t)(t->index % g->nblocks), 1, 1) != 512 ||
		    result(g) != RPMB_RES_OK || !nonce_echoed(g, 1) ||
		    !mac_ok(g, g->resp, 1)) {
			snprintf(t->why, sizeof(t->why), "read %u: result %#x", i,
				 result(g));
			t->errors++;
		}
	}
	return NULL;
}

int cmd_smp(struct guest *g, unsigned int threads, unsigned int ops)
{
	struct smp_thread *t = calloc(threads, sizeof(*t));
	unsigned int seen = 0, errors = 0;
	unsigned int ncpu = (unsigned int)sysconf(_SC_NPROCESSORS_ONLN);
	double start;

	if (!t || !threads || !keyed(g)) {
		report(g, "smp", false, "no programmed key, or no threads");
		return 1;
	}
	start = now_us();
	for (unsigned int i = 0; i < threads; i++) {
		t[i].g = *g;
		t[i].index = i;
		t[i].ops = ops;
		if (pthread_create(&t[i].tid, NULL, smp_worker, &t[i])) {
			report(g, "smp", false, "cannot start thread %u", i);
			return 1;
		}
	}
	for (unsigned int i = 0; i < threads; i++) {
		pthread_join(t[i].tid, NULL);
		seen |= t[i].cpu_mask_seen;
		errors += t[i].errors;
		if (t[i].errors)
			printf("E2E-GUEST: smp thread %u: %s\n", i, t[i].why);
	}
	/* Every thread on a CPU of its own, as far as there are CPUs. */
	if (ncpu > threads)
		ncpu = threads;
	report(g, "smp", !errors && (unsigned int)__builtin_popcount(seen) == ncpu,
	       "threads=%u ops=%u cpus=%#x errors=%u in %.1f s", threads, ops,
	       seen, errors, (now_us() - start) / 1e6);
	free(t);
	return errors ? 1 : g->failures;
}

#define SOAK_BLOCKS	64

struct soak {
	struct guest *g;
	uint32_t acked;			/* the counter after the last acked write */
	int64_t expect[SOAK_BLOCKS];	/* counter each block was written with */
	unsigned int resets;		/* requests a reset left unanswered */
	unsigned int writes, reads, errors;
	double worst_us;
	char why[160];
};

static unsigned int device_resets(struct guest *g)
{
	struct vrpmb_info info;

	return ioctl(g->fd, VRPMB_IOC_INFO, &info) ? 0 : info.resets;
}

static void soak_fail(struct soak *s, const char *fmt, unsigned int a,
		      unsigned int b)
{
	if (!s->errors++)
		snprintf(s->why, sizeof(s->why), fmt, a, b);
}

/*
 * After a request was lost to a reset: the device's counter is the acked
 * one, or one more if the write in hand landed before the worker died.
 */
static void resync(struct soak *s, uint16_t addr, uint32_t written_with)
{
	uint32_t c;

	s->resets++;
	for (int tries = 0; tries < 3; tries++) {
		if (get_counter(s->g, &c) == 512)
			break;
		c = UINT32_MAX;
	}
	if (c == s->acked + 1 && written_with == s->acked) {
		s->acked = c;
		s->expect[addr] = written_with;
	} else if (c != s->acked) {
		soak_fail(s, "counter %u after a reset, %u acknowledged", c,
			  s->acked);
	}
}

static bool block_ok(struct soak *s, uint16_t addr)
{
	struct guest *g = s->g;

	return result(g) == RPMB_RES_OK && mac_ok(g, g->resp, 1) &&
	       nonce_echoed(g, 1) &&
	       (s->expect[addr] < 0 || data_is(g, 0, addr,
					       (uint32_t)s->expect[addr]));
}

int cmd_soak(struct guest *g, unsigned int seconds)
{
	struct soak s = { .g = g };
	unsigned int resets_before = device_resets(g);
	double start, t;
	uint32_t c;

	for (int i = 0; i < SOAK_BLOCKS; i++)
		s.expect[i] = -1;
	if (!keyed(g) || get_counter(g, &c) != 512) {
		report(g, "soak", false, "no programmed key");
		return 1;
	}
	s.acked = c;
	printf("E2E-GUEST: soak-started\n");
	fflush(stdout);
	start = now_us();
	for (unsigned int i = 0; (now_us() - start) / 1e6 < seconds && !s.errors; i++) {
		uint16_t addr = (uint16_t)(i % SOAK_BLOCKS);
		uint32_t with = s.acked;
		long used;

		t = now_us();
		used = write_blocks(g, addr, 1, 1, with, false);
		if (used == -EIO) {
			resync(&s, addr, with);
			continue;
		}
		if (used != 512 || result(g) != RPMB_RES_OK ||
		    rpmb_frame_counter(&g->resp[0]) != with + 1) {
			soak_fail(&s, "write with counter %u: result %#x", with,
				  result(g));
			break;
		}
		s.acked = with + 1;
		s.expect[addr] = with;
		s.writes++;
		used = read_blocks(g, addr, 1, 1);
		if (used == -EIO) {
			resync(&s, addr, UINT32_MAX);
			continue;
		}
		if (used != 512 || !block_ok(&s, addr)) {
			soak_fail(&s, "read of block %u: result %#x", addr, result(g));
			break;
		}
		s.reads++;
		if (now_us() - t > s.worst_us)
			s.worst_us = now_us() - t;
	}
	/* Every acknowledged write is still there. */
	for (uint16_t addr = 0; addr < SOAK_BLOCKS && !s.errors; addr++) {
		if (read_blocks(g, addr, 1, 1) != 512 || !block_ok(&s, addr))
			soak_fail(&s, "final read of block %u: result %#x", addr,
				  result(g));
	}
	if (device_resets(g) - resets_before < s.resets)
		soak_fail(&s, "%u requests failed but the device reset %u times",
			  s.resets, device_resets(g) - resets_before);
	report(g, "soak", !s.errors,
	       "writes=%u reads=%u resets=%u unanswered=%u worst_ms=%.1f counter=%u%s%s",
	       s.writes, s.reads, device_resets(g) - resets_before, s.resets,
	       s.worst_us / 1e3, s.acked, s.errors ? " " : "", s.why);
	return s.errors ? 1 : 0;
}

/* A hostile guest: the queue kept full for @seconds (VRPMB_IOC_FLOOD). */
int cmd_flood(struct guest *g, unsigned int seconds)
{
	struct vrpmb_flood fl = {
		.seconds = seconds,
		.frames = g->info.max_rd_cnt < 8 ? g->info.max_rd_cnt : 8,
	};

	printf("E2E-GUEST: flood-started\n");
	fflush(stdout);
	if (ioctl(g->fd, VRPMB_IOC_FLOOD, &fl)) {
		report(g, "flood", false, "ioctl: %s", strerror(errno));
		return 1;
	}
	report(g, "flood", true, "requests=%llu notifies=%llu in %u s",
	       (unsigned long long)fl.requests,
	       (unsigned long long)fl.notifies, seconds);
	return 0;
}
