// SPDX-License-Identifier: MIT
/*
 * virtio-rpmb end to end in one process: a simulated guest (test-side RAM
 * and an independent split-ring driver) brings the device up like Linux
 * does and runs RPMB requests through the real transport, virtqueue, core
 * and store, with every descriptor shape and ring feature combination.
 */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cmocka.h>

#include "log.h"
#include "rpmb-test-util.h"
#include "sim-driver.h"
#include "virtio-mmio.h"
#include "virtio-rpmb.h"

#define GUEST_BASE	0x80000000ULL
#define MAX_WR		8
#define MAX_RD		8
#define NBLOCKS		RPMB_BLOCKS_PER_UNIT

struct variant {
	uint64_t features;
	enum sim_split split;
	bool indirect;
};

static const struct variant variants[] = {
	{ ~0ULL, SIM_SPLIT_PER_FRAME, false },
	{ ~0ULL, SIM_SPLIT_WHOLE, false },
	{ ~0ULL, SIM_SPLIT_ODD, true },
	{ ~0ULL, SIM_SPLIT_PER_FRAME, true },
	{ ~SIM_F_EVENT_IDX, SIM_SPLIT_ODD, false },
	{ ~SIM_F_EVENT_IDX & ~SIM_F_INDIRECT, SIM_SPLIT_WHOLE, false },
};

struct fx {
	char *dir;
	struct rpmb_store *st;
	struct sim_guest *g;
	struct virtio_dev *vr;
	struct virtio_mmio *vm;
	struct sim_driver d;
	struct variant v;
	struct rpmb_frame req[MAX_WR + 1];
	struct rpmb_frame resp[MAX_RD];
};

static struct fx *fx_new(const struct variant *v)
{
	struct fx *f = test_calloc(1, sizeof(*f));

	vr_log_set_level(VR_LOG_ERR);
	f->dir = rt_tempdir();
	f->st = rt_store(f->dir, "v.rpmb", 1, MAX_WR, MAX_RD);
	f->g = sim_guest_new(GUEST_BASE, SIM_RAM_SIZE);
	f->vr = virtio_rpmb_new(f->st, "test");
	assert_non_null(f->vr);
	f->vm = virtio_mmio_new(f->vr, &f->g->host);
	assert_non_null(f->vm);
	f->v = *v;
	sim_driver_init_mmio(&f->d, f->g, f->vm);
	assert_int_equal(sim_driver_probe(&f->d, v->features, 64), 0);
	return f;
}

static void fx_free(struct fx *f)
{
	virtio_mmio_free(f->vm);
	virtio_dev_destroy(f->vr);
	assert_int_equal(f->g->live_maps, 0);
	sim_guest_free(f->g);
	rpmb_store_close(f->st);
	rt_rmdir(f->dir);
	test_free(f);
}

static long xfer(struct fx *f, unsigned int nreq, unsigned int nresp)
{
	long used;

	memset(f->resp, 0, sizeof(f->resp));
	used = sim_rpmb_xfer(&f->d, f->req, nreq, f->resp, nresp, f->v.split,
			     f->v.indirect);
	/* Every completion is signalled: the driver asks for each one. */
	assert_true(sim_driver_ack_irq(&f->d) & VIRTIO_MMIO_INT_VRING);
	assert_int_equal(f->g->irq_level, 0);
	return used;
}

static uint16_t res(struct fx *f, unsigned int i)
{
	return rpmb_frame_result(&f->resp[i]);
}

static void program_key(struct fx *f)
{
	rc_request(&f->req[0], RPMB_REQ_PROGRAM_KEY, 0, 1, 0);
	memcpy(f->req[0].key_mac, rc_test_key, RPMB_KEY_SIZE);
	rc_request(&f->req[1], RPMB_REQ_RESULT_READ, 0, 1, 0);
	assert_int_equal(xfer(f, 2, 1), RPMB_FRAME_SIZE);
	assert_int_equal(rpmb_frame_req_resp(&f->resp[0]), RPMB_RESP_PROGRAM_KEY);
	assert_int_equal(res(f, 0), RPMB_RES_OK);
}

static uint16_t write_blocks(struct fx *f, uint16_t addr, uint16_t n,
			     uint32_t counter, bool forge)
{
	for (uint16_t i = 0; i < n; i++) {
		rc_request(&f->req[i], RPMB_REQ_DATA_WRITE, addr, n, counter);
		rc_pattern(f->req[i].data, (uint16_t)(addr + i), counter);
	}
	rc_sign(rc_test_key, f->req, n);
	if (forge)
		f->req[0].data[0] ^= 1;
	rc_request(&f->req[n], RPMB_REQ_RESULT_READ, 0, 1, 0);
	assert_int_equal(xfer(f, n + 1u, 1), RPMB_FRAME_SIZE);
	assert_true(rc_mac_ok(rc_test_key, f->resp, 1));
	return res(f, 0);
}

static void run_scenario(const struct variant *v)
{
	struct fx *f = fx_new(v);
	uint8_t want[RPMB_BLOCK_SIZE];

	/* Config space as the driver sees it. */
	assert_int_equal(virtio_mmio_read(f->vm, 0x100, 1), 1);
	assert_int_equal(virtio_mmio_read(f->vm, 0x101, 1), MAX_WR);
	assert_int_equal(virtio_mmio_read(f->vm, 0x102, 1), MAX_RD);
	assert_int_equal(virtio_mmio_read(f->vm, VIRTIO_MMIO_DEVICE_ID, 4), 28);

	/* Counter before the key: NO_AUTH_KEY. */
	rc_request(&f->req[0], RPMB_REQ_GET_WRITE_COUNTER, 0, 1, 0);
	assert_int_equal(xfer(f, 1, 1), RPMB_FRAME_SIZE);
	assert_int_equal(res(f, 0), RPMB_RES_NO_AUTH_KEY);

	program_key(f);
	rc_request(&f->req[0], RPMB_REQ_GET_WRITE_COUNTER, 0, 1, 0);
	memset(f->req[0].nonce, 0x3c, RPMB_NONCE_SIZE);
	assert_int_equal(xfer(f, 1, 1), RPMB_FRAME_SIZE);
	assert_int_equal(res(f, 0), RPMB_RES_OK);
	assert_memory_equal(f->resp[0].nonce, f->req[0].nonce, RPMB_NONCE_SIZE);
	assert_true(rc_mac_ok(rc_test_key, f->resp, 1));

	assert_int_equal(write_blocks(f, 4, 1, 0, false), RPMB_RES_OK);
	assert_int_equal(write_blocks(f, 16, MAX_WR, 1, false), RPMB_RES_OK);
	assert_int_equal(rpmb_frame_counter(&f->resp[0]), 2);

	/* Max-size read: MAX_RD response frames, one MAC over all. */
	rc_request(&f->req[0], RPMB_REQ_DATA_READ, 16, MAX_RD, 0);
	assert_int_equal(xfer(f, 1, MAX_RD), MAX_RD * RPMB_FRAME_SIZE);
	assert_true(rc_mac_ok(rc_test_key, f->resp, MAX_RD));
	for (uint16_t i = 0; i < MAX_RD; i++) {
		rc_pattern(want, (uint16_t)(16 + i), 1);
		assert_memory_equal(f->resp[i].data, want, RPMB_BLOCK_SIZE);
	}
	/* block_count 0: the room decides. */
	rc_request(&f->req[0], RPMB_REQ_DATA_READ, 4, 0, 0);
	assert_int_equal(xfer(f, 1, 1), RPMB_FRAME_SIZE);
	rc_pattern(want, 4, 0);
	assert_memory_equal(f->resp[0].data, want, RPMB_BLOCK_SIZE);

	/* Failures through the transport. */
	assert_int_equal(write_blocks(f, 4, 1, 2, true), RPMB_RES_AUTH_FAILURE);
	assert_int_equal(write_blocks(f, 4, 1, 1, false), RPMB_RES_COUNT_FAILURE);
	assert_int_equal(write_blocks(f, NBLOCKS - 1, 2, 2, false), RPMB_RES_ADDR_FAILURE);
	rc_request(&f->req[0], RPMB_REQ_DATA_READ, NBLOCKS, 1, 0);
	assert_int_equal(xfer(f, 1, 1), RPMB_FRAME_SIZE);
	assert_int_equal(res(f, 0), RPMB_RES_ADDR_FAILURE);
	rc_request(&f->req[0], RPMB_REQ_RESULT_READ, 0, 2, 0);
	assert_int_equal(xfer(f, 1, 1), RPMB_FRAME_SIZE);
	assert_int_equal(res(f, 0), RPMB_RES_GENERAL_FAILURE);
	rc_request(&f->req[0], RPMB_REQ_PROGRAM_KEY, 0, 1, 0);
	rc_request(&f->req[1], RPMB_REQ_RESULT_READ, 0, 1, 0);
	assert_int_equal(xfer(f, 2, 1), RPMB_FRAME_SIZE);
	assert_int_equal(res(f, 0), RPMB_RES_WRITE_FAILURE);

	/* A write without RESULT_READ completes with nothing written back. */
	rc_request(&f->req[0], RPMB_REQ_DATA_WRITE, 0, 1, 2);
	rc_sign(rc_test_key, f->req, 1);
	assert_int_equal(xfer(f, 1, 1), 0);
	rc_request(&f->req[0], RPMB_REQ_GET_WRITE_COUNTER, 0, 1, 0);
	assert_int_equal(xfer(f, 1, 1), RPMB_FRAME_SIZE);
	assert_int_equal(rpmb_frame_counter(&f->resp[0]), 3);
	fx_free(f);
}

static void all_variants(void **state)
{
	for (size_t i = 0; i < sizeof(variants) / sizeof(variants[0]); i++)
		run_scenario(&variants[i]);
}

static void malformed_requests_get_zero_length(void **state)
{
	struct fx *f = fx_new(&variants[0]);
	struct sim_seg seg[2];

	/* Not a whole number of frames. */
	seg[0] = (struct sim_seg) { GUEST_BASE + SIM_DATA_OFF, 500, false };
	seg[1] = (struct sim_seg) { GUEST_BASE + SIM_DATA_OFF + 4096, 512, true };
	assert_int_equal(sim_driver_submit(&f->d, seg, 2, false), 0);
	/* More frames than max_wr_cnt + 1. */
	seg[0].len = (MAX_WR + 2) * RPMB_FRAME_SIZE;
	seg[1].addr = GUEST_BASE + SIM_DATA_OFF + 0x10000;
	assert_int_equal(sim_driver_submit(&f->d, seg, 2, false), 0);
	/* Nothing readable at all. */
	assert_int_equal(sim_driver_submit(&f->d, &seg[1], 1, false), 0);
	/* Response buffers the guest granted read-only. */
	rc_request(&f->req[0], RPMB_REQ_GET_WRITE_COUNTER, 0, 1, 0);
	f->g->ro_start = GUEST_BASE + SIM_DATA_OFF + RPMB_FRAME_SIZE;
	f->g->ro_len = RPMB_FRAME_SIZE;
	assert_int_equal(sim_rpmb_xfer(&f->d, f->req, 1, f->resp, 1,
				       SIM_SPLIT_PER_FRAME, false), 0);
	f->g->ro_len = 0;
	/* The device is still fine afterwards. */
	assert_int_equal(sim_rpmb_xfer(&f->d, f->req, 1, f->resp, 1,
				       SIM_SPLIT_PER_FRAME, false), RPMB_FRAME_SIZE);
	assert_int_equal(rpmb_frame_result(&f->resp[0]), RPMB_RES_NO_AUTH_KEY);
	fx_free(f);
}

static void reset_keeps_rpmb_state(void **state)
{
	struct fx *f = fx_new(&variants[0]);

	program_key(f);
	assert_int_equal(write_blocks(f, 0, 1, 0, false), RPMB_RES_OK);
	virtio_mmio_reset(f->vm);
	assert_int_equal(virtio_mmio_read(f->vm, VIRTIO_MMIO_STATUS, 4), 0);
	assert_int_equal(sim_driver_probe(&f->d, ~0ULL, 64), 0);
	rc_request(&f->req[0], RPMB_REQ_GET_WRITE_COUNTER, 0, 1, 0);
	assert_int_equal(xfer(f, 1, 1), RPMB_FRAME_SIZE);
	assert_int_equal(rpmb_frame_counter(&f->resp[0]), 1);
	fx_free(f);
}

static uint8_t scan_buf[4096 + 64];

static bool excluded(unsigned long addr, const uint8_t *pattern, size_t len)
{
	unsigned long p = (unsigned long)pattern, b = (unsigned long)scan_buf;

	return (addr + len > p && addr < p + len) ||
	       (addr + len > b && addr < b + sizeof(scan_buf));
}

/* Looks for @pattern in the page at @a (if it is resident). */
static bool page_has(int mem, unsigned long a, const uint8_t *pattern,
		     size_t len)
{
	ssize_t got = pread(mem, scan_buf, 4096 + len, (off_t)a);
	const uint8_t *m = scan_buf;

	while (got > (ssize_t)len &&
	       (m = memmem(m, (size_t)got - (size_t)(m - scan_buf), pattern, len))) {
		if (!excluded(a + (unsigned long)(m - scan_buf), pattern, len))
			return true;
		m++;
	}
	return false;
}

/*
 * Whether @pattern is anywhere in this process's writable memory but at
 * @pattern itself. Only resident pages are read (mincore), through
 * /proc/self/mem rather than through pointers the sanitizers watch: a
 * sanitizer's reserved terabytes are never touched.
 */
static bool elsewhere_in_memory(const uint8_t *pattern, size_t len)
{
	FILE *maps = fopen("/proc/self/maps", "r");
	int mem = open("/proc/self/mem", O_RDONLY);
	static unsigned char vec[16384];
	const unsigned long chunk = sizeof(vec) * 4096UL;
	char line[512];
	bool found = false;

	assert_non_null(maps);
	assert_true(mem >= 0);
	while (!found && fgets(line, sizeof(line), maps)) {
		unsigned long lo, hi;
		char perms[5];

		if (sscanf(line, "%lx-%lx %4s", &lo, &hi, perms) != 3 ||
		    perms[0] != 'r' || perms[1] != 'w' || strstr(line, "[vvar]"))
			continue;
		for (unsigned long a = lo; !found && a < hi; a += chunk) {
			unsigned long n = hi - a < chunk ? hi - a : chunk;

			if (mincore((void *)a, n, vec))
				continue;
			for (unsigned long p = 0; !found && p < n / 4096; p++)
				if (vec[p] & 1)
					found = page_has(mem, a + p * 4096, pattern, len);
		}
	}
	fclose(maps);
	close(mem);
	return found;
}

/*
 * A PROGRAM_KEY frame whose chain cannot be gathered whole (its second
 * buffer points outside guest RAM): what did arrive of the key must not
 * stay in the device's request buffer.
 */
static void key_wiped_when_gather_fails(void **state)
{
	struct fx *f = fx_new(&variants[0]);
	uint64_t at = GUEST_BASE + SIM_DATA_OFF;
	uint8_t key[RPMB_KEY_SIZE], *frame;
	struct sim_seg segs[3];

	frame = sim_guest_ptr(f->g, at);
	memset(frame, 0, RPMB_FRAME_SIZE);
	for (int i = 0; i < RPMB_KEY_SIZE; i++)
		key[i] = (uint8_t)(rand() ^ (i * 37));
	memcpy(frame + 196, key, sizeof(key));
	frame[511] = RPMB_REQ_PROGRAM_KEY;
	segs[0] = (struct sim_seg){ .addr = at, .len = RPMB_FRAME_SIZE };
	segs[1] = (struct sim_seg){ .addr = 0x1000, .len = RPMB_FRAME_SIZE };
	segs[2] = (struct sim_seg){ .addr = at + 2048, .len = RPMB_FRAME_SIZE,
				    .write = true };
	assert_int_equal(sim_driver_submit(&f->d, segs, 3, false), 0);
	/* The guest forgets its copy: only one the device kept is left. */
	memset(frame, 0, RPMB_FRAME_SIZE);
	assert_false(elsewhere_in_memory(key, sizeof(key)));
	fx_free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(all_variants),
		cmocka_unit_test(malformed_requests_get_zero_length),
		cmocka_unit_test(reset_keeps_rpmb_state),
		cmocka_unit_test(key_wiped_when_gather_fails),
	};

	return cmocka_run_group_tests_name("virtio-rpmb", tests, NULL, NULL);
}
