// SPDX-License-Identifier: MIT
/*
 * RPMB core over a real store: every request type and failure path.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "log.h"
#include "rpmb-test-util.h"
#include "rpmb.h"

#define CAPACITY	2	/* 256 KiB = 1024 blocks */
#define NBLOCKS		(CAPACITY * RPMB_BLOCKS_PER_UNIT)
#define MAX_WR		8
#define MAX_RD		16

struct fx {
	char *dir;
	struct rpmb_store *st;
	struct rpmb_dev *dev;
	struct rpmb_frame req[MAX_WR + 1];
	struct rpmb_frame resp[MAX_RD + 3];
};

static int setup(void **state)
{
	struct fx *f = test_calloc(1, sizeof(*f));

	vr_log_set_level(VR_LOG_ERR);
	f->dir = rt_tempdir();
	f->st = rt_store(f->dir, "s.rpmb", CAPACITY, MAX_WR, MAX_RD);
	f->dev = rpmb_dev_new(f->st, NULL);
	assert_non_null(f->dev);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	rpmb_dev_free(f->dev);
	rpmb_store_close(f->st);
	rt_rmdir(f->dir);
	test_free(f);
	return 0;
}

static size_t process(struct fx *f, size_t nreq, size_t resp_cap)
{
	memset(f->resp, 0xee, sizeof(f->resp));
	return rpmb_dev_process_frames(f->dev, f->req, nreq, f->resp, resp_cap);
}

static uint16_t result(const struct rpmb_frame *r)
{
	return rpmb_frame_result(r);
}

static void program_key(struct fx *f)
{
	rc_request(&f->req[0], RPMB_REQ_PROGRAM_KEY, 0, 1, 0);
	memcpy(f->req[0].key_mac, rc_test_key, RPMB_KEY_SIZE);
	rc_request(&f->req[1], RPMB_REQ_RESULT_READ, 0, 1, 0);
	assert_int_equal(process(f, 2, 1), 1);
	assert_int_equal(rpmb_frame_req_resp(&f->resp[0]), RPMB_RESP_PROGRAM_KEY);
	assert_int_equal(result(&f->resp[0]), RPMB_RES_OK);
	assert_true(rc_mac_ok(rc_test_key, f->resp, 1));
}

static uint32_t read_counter(struct fx *f, uint16_t *res)
{
	rc_request(&f->req[0], RPMB_REQ_GET_WRITE_COUNTER, 0, 1, 0);
	memset(f->req[0].nonce, 0x5c, RPMB_NONCE_SIZE);
	assert_int_equal(process(f, 1, 1), 1);
	assert_int_equal(rpmb_frame_req_resp(&f->resp[0]),
			 RPMB_RESP_GET_WRITE_COUNTER);
	assert_memory_equal(f->resp[0].nonce, f->req[0].nonce, RPMB_NONCE_SIZE);
	*res = result(&f->resp[0]);
	return rpmb_frame_counter(&f->resp[0]);
}

/* Sends a signed write of @n blocks; returns the RESULT_READ answer. */
static uint16_t write_blocks(struct fx *f, uint16_t addr, uint16_t n,
			     uint32_t counter, uint32_t seed, bool forge)
{
	for (uint16_t i = 0; i < n; i++) {
		rc_request(&f->req[i], RPMB_REQ_DATA_WRITE, addr, n, counter);
		rc_pattern(f->req[i].data, (uint16_t)(addr + i), seed);
	}
	rc_sign(rc_test_key, f->req, n);
	if (forge)
		f->req[n - 1].key_mac[7] ^= 1;
	rc_request(&f->req[n], RPMB_REQ_RESULT_READ, 0, 1, 0);
	assert_int_equal(process(f, n + 1u, 1), 1);
	assert_int_equal(rpmb_frame_req_resp(&f->resp[0]), RPMB_RESP_DATA_WRITE);
	return result(&f->resp[0]);
}

static uint16_t read_blocks(struct fx *f, uint16_t addr, uint16_t count,
			    size_t room, size_t *got)
{
	rc_request(&f->req[0], RPMB_REQ_DATA_READ, addr, count, 0);
	memset(f->req[0].nonce, 0xa7, RPMB_NONCE_SIZE);
	*got = process(f, 1, room);
	assert_true(*got >= 1);
	for (size_t i = 0; i < *got; i++) {
		assert_int_equal(rpmb_frame_req_resp(&f->resp[i]), RPMB_RESP_DATA_READ);
		assert_memory_equal(f->resp[i].nonce, f->req[0].nonce, RPMB_NONCE_SIZE);
		assert_int_equal(rpmb_frame_address(&f->resp[i]), addr);
	}
	return result(&f->resp[*got - 1]);
}

static void config_from_store(void **state)
{
	struct fx *f = *state;
	struct rpmb_config c;

	rpmb_dev_get_config(f->dev, &c);
	assert_int_equal(c.capacity, CAPACITY);
	assert_int_equal(c.max_wr_cnt, MAX_WR);
	assert_int_equal(c.max_rd_cnt, MAX_RD);
	assert_int_equal(rpmb_dev_max_req_frames(f->dev), MAX_WR + 1);
}

static void before_key(void **state)
{
	struct fx *f = *state;
	uint16_t res;
	size_t got;

	read_counter(f, &res);
	assert_int_equal(res, RPMB_RES_NO_AUTH_KEY);
	assert_int_equal(write_blocks(f, 0, 1, 0, 1, false), RPMB_RES_NO_AUTH_KEY);
	assert_int_equal(read_blocks(f, 0, 1, 1, &got), RPMB_RES_NO_AUTH_KEY);
}

static void key_programming(void **state)
{
	struct fx *f = *state;
	uint16_t res;

	program_key(f);
	assert_int_equal(read_counter(f, &res), 0);
	assert_int_equal(res, RPMB_RES_OK);
	assert_true(rc_mac_ok(rc_test_key, f->resp, 1));

	/* The key is one-time programmable. */
	rc_request(&f->req[0], RPMB_REQ_PROGRAM_KEY, 0, 1, 0);
	memset(f->req[0].key_mac, 0x11, RPMB_KEY_SIZE);
	rc_request(&f->req[1], RPMB_REQ_RESULT_READ, 0, 1, 0);
	assert_int_equal(process(f, 2, 1), 1);
	assert_int_equal(result(&f->resp[0]), RPMB_RES_WRITE_FAILURE);
	assert_true(rc_mac_ok(rc_test_key, f->resp, 1));	/* still the old key */
}

static void key_programming_bad_block_count(void **state)
{
	struct fx *f = *state;
	uint16_t res;

	/* 0 and 1 are what clients and the spec send; 2 is nonsense. */
	rc_request(&f->req[0], RPMB_REQ_PROGRAM_KEY, 0, 2, 0);
	memcpy(f->req[0].key_mac, rc_test_key, RPMB_KEY_SIZE);
	rc_request(&f->req[1], RPMB_REQ_RESULT_READ, 0, 1, 0);
	assert_int_equal(process(f, 2, 1), 1);
	assert_int_equal(result(&f->resp[0]), RPMB_RES_GENERAL_FAILURE);
	/* A trailing RESULT_READ with a nonsense count spoils the request. */
	rc_request(&f->req[0], RPMB_REQ_PROGRAM_KEY, 0, 0, 0);
	memcpy(f->req[0].key_mac, rc_test_key, RPMB_KEY_SIZE);
	rc_request(&f->req[1], RPMB_REQ_RESULT_READ, 0, 3, 0);
	assert_int_equal(process(f, 2, 1), 1);
	assert_int_equal(result(&f->resp[0]), RPMB_RES_GENERAL_FAILURE);
	/* Without RESULT_READ there is no answer, but the result is kept. */
	rc_request(&f->req[0], RPMB_REQ_PROGRAM_KEY, 0, 7, 0);
	assert_int_equal(process(f, 1, 1), 0);
	rc_request(&f->req[0], RPMB_REQ_RESULT_READ, 0, 1, 0);
	assert_int_equal(process(f, 1, 1), 1);
	assert_int_equal(rpmb_frame_req_resp(&f->resp[0]), RPMB_RESP_PROGRAM_KEY);
	assert_int_equal(result(&f->resp[0]), RPMB_RES_GENERAL_FAILURE);
	read_counter(f, &res);
	assert_int_equal(res, RPMB_RES_NO_AUTH_KEY);
}

static void write_and_read_back(void **state)
{
	struct fx *f = *state;
	uint8_t want[RPMB_BLOCK_SIZE];
	uint16_t res;
	size_t got;

	program_key(f);
	assert_int_equal(write_blocks(f, 10, 1, 0, 42, false), RPMB_RES_OK);
	assert_int_equal(rpmb_frame_counter(&f->resp[0]), 1);
	assert_int_equal(rpmb_frame_address(&f->resp[0]), 10);
	assert_true(rc_mac_ok(rc_test_key, f->resp, 1));
	assert_int_equal(read_counter(f, &res), 1);

	assert_int_equal(read_blocks(f, 10, 1, 1, &got), RPMB_RES_OK);
	assert_int_equal(got, 1);
	rc_pattern(want, 10, 42);
	assert_memory_equal(f->resp[0].data, want, RPMB_BLOCK_SIZE);
	assert_true(rc_mac_ok(rc_test_key, f->resp, 1));
	/* Never-written blocks read as zeros. */
	assert_int_equal(read_blocks(f, 11, 1, 1, &got), RPMB_RES_OK);
	memset(want, 0, sizeof(want));
	assert_memory_equal(f->resp[0].data, want, RPMB_BLOCK_SIZE);
}

static void max_size_write_and_read(void **state)
{
	struct fx *f = *state;
	uint8_t want[RPMB_BLOCK_SIZE];
	size_t got;

	program_key(f);
	assert_int_equal(write_blocks(f, NBLOCKS - MAX_WR, MAX_WR, 0, 9, false),
			 RPMB_RES_OK);
	assert_int_equal(write_blocks(f, NBLOCKS - MAX_RD, MAX_WR, 1, 8, false),
			 RPMB_RES_OK);
	assert_int_equal(read_blocks(f, NBLOCKS - MAX_RD, MAX_RD, MAX_RD, &got),
			 RPMB_RES_OK);
	assert_int_equal(got, MAX_RD);
	for (uint16_t i = 0; i < MAX_RD; i++) {
		uint16_t addr = (uint16_t)(NBLOCKS - MAX_RD + i);

		rc_pattern(want, addr, i < MAX_WR ? 8 : 9);
		assert_memory_equal(f->resp[i].data, want, RPMB_BLOCK_SIZE);
		assert_int_equal(rpmb_frame_block_count(&f->resp[i]), MAX_RD);
	}
	/* One MAC over all response frames, in the last. */
	assert_true(rc_mac_ok(rc_test_key, f->resp, MAX_RD));
}

static void read_count_from_room(void **state)
{
	struct fx *f = *state;
	size_t got;

	program_key(f);
	assert_int_equal(read_blocks(f, 0, 0, 5, &got), RPMB_RES_OK);
	assert_int_equal(got, 5);
	assert_true(rc_mac_ok(rc_test_key, f->resp, 5));
	/* More than the room given, or than max_rd_cnt: general failure. */
	assert_int_equal(read_blocks(f, 0, 6, 5, &got), RPMB_RES_GENERAL_FAILURE);
	assert_int_equal(got, 1);
	assert_int_equal(read_blocks(f, 0, MAX_RD + 1, MAX_RD + 1, &got),
			 RPMB_RES_GENERAL_FAILURE);
	/*
	 * A count taken from the room is not held to max_rd_cnt: OP-TEE
	 * reads whole objects that way and cannot know the limit.
	 */
	assert_int_equal(read_blocks(f, 0, 0, MAX_RD + 3, &got), RPMB_RES_OK);
	assert_int_equal(got, MAX_RD + 3);
	assert_true(rc_mac_ok(rc_test_key, f->resp, MAX_RD + 3));
	/* No room, no answer. */
	rc_request(&f->req[0], RPMB_REQ_DATA_READ, 0, 1, 0);
	assert_int_equal(process(f, 1, 0), 0);
}

static void address_checks(void **state)
{
	struct fx *f = *state;
	size_t got;
	uint16_t res;

	program_key(f);
	assert_int_equal(write_blocks(f, NBLOCKS - 1, 2, 0, 1, false),
			 RPMB_RES_ADDR_FAILURE);
	assert_int_equal(write_blocks(f, 0xffff, 1, 0, 1, false),
			 RPMB_RES_ADDR_FAILURE);
	assert_int_equal(read_blocks(f, NBLOCKS, 1, 1, &got), RPMB_RES_ADDR_FAILURE);
	assert_int_equal(read_blocks(f, NBLOCKS - 2, 3, 3, &got),
			 RPMB_RES_ADDR_FAILURE);
	assert_int_equal(read_counter(f, &res), 0);
	assert_int_equal(write_blocks(f, NBLOCKS - 1, 1, 0, 1, false), RPMB_RES_OK);
}

static void bad_write_block_counts(void **state)
{
	struct fx *f = *state;
	uint16_t res;

	program_key(f);
	/* block_count 0 */
	rc_request(&f->req[0], RPMB_REQ_DATA_WRITE, 0, 0, 0);
	rc_sign(rc_test_key, f->req, 1);
	rc_request(&f->req[1], RPMB_REQ_RESULT_READ, 0, 1, 0);
	assert_int_equal(process(f, 2, 1), 1);
	assert_int_equal(result(&f->resp[0]), RPMB_RES_GENERAL_FAILURE);
	/* block_count disagreeing with the number of frames sent */
	rc_request(&f->req[0], RPMB_REQ_DATA_WRITE, 0, 2, 0);
	rc_sign(rc_test_key, f->req, 1);
	rc_request(&f->req[1], RPMB_REQ_RESULT_READ, 0, 1, 0);
	assert_int_equal(process(f, 2, 1), 1);
	assert_int_equal(result(&f->resp[0]), RPMB_RES_GENERAL_FAILURE);
	assert_int_equal(read_counter(f, &res), 0);
}

static void too_many_write_frames(void **state)
{
	struct fx *f = *state;
	struct rpmb_frame big[MAX_WR + 2];
	struct rpmb_frame resp;

	program_key(f);
	for (unsigned int i = 0; i < MAX_WR + 1; i++)
		rc_request(&big[i], RPMB_REQ_DATA_WRITE, 0, MAX_WR + 1, 0);
	rc_sign(rc_test_key, big, MAX_WR + 1);
	/* More frames than max_wr_cnt + 1: refused before anything runs. */
	rc_request(&big[MAX_WR + 1], RPMB_REQ_RESULT_READ, 0, 1, 0);
	assert_int_equal(rpmb_dev_process_frames(f->dev, big, MAX_WR + 2, &resp, 1), 1);
	assert_int_equal(result(&resp), RPMB_RES_GENERAL_FAILURE);
	/* max_wr_cnt + 1 write frames and no RESULT_READ: block_count too big. */
	assert_int_equal(rpmb_dev_process_frames(f->dev, big, MAX_WR + 1, &resp, 1), 0);
	rc_request(&big[0], RPMB_REQ_RESULT_READ, 0, 1, 0);
	assert_int_equal(rpmb_dev_process_frames(f->dev, big, 1, &resp, 1), 1);
	assert_int_equal(result(&resp), RPMB_RES_GENERAL_FAILURE);
}

static void forged_and_replayed(void **state)
{
	struct fx *f = *state;
	uint8_t want[RPMB_BLOCK_SIZE];
	uint16_t res;
	size_t got;

	program_key(f);
	assert_int_equal(write_blocks(f, 3, 1, 0, 1, true), RPMB_RES_AUTH_FAILURE);
	assert_int_equal(read_counter(f, &res), 0);
	assert_int_equal(write_blocks(f, 3, 2, 0, 1, false), RPMB_RES_OK);
	/* The same (valid) request again: the counter has moved on. */
	assert_int_equal(write_blocks(f, 3, 2, 0, 2, false), RPMB_RES_COUNT_FAILURE);
	assert_int_equal(write_blocks(f, 3, 1, 5, 2, false), RPMB_RES_COUNT_FAILURE);
	assert_int_equal(read_counter(f, &res), 1);
	/* Data is the first write's: nothing from the failed ones landed. */
	assert_int_equal(read_blocks(f, 3, 2, 2, &got), RPMB_RES_OK);
	rc_pattern(want, 4, 1);
	assert_memory_equal(f->resp[1].data, want, RPMB_BLOCK_SIZE);
	/* Counter 0 was already used: replaying its first frame fails too. */
	assert_int_equal(write_blocks(f, 0, 1, 0, 3, false), RPMB_RES_COUNT_FAILURE);
	/* A key nobody programmed: authentication failure. */
	for (int i = 0; i < 1; i++) {
		rc_request(&f->req[0], RPMB_REQ_DATA_WRITE, 0, 1, 1);
		rc_sign((const uint8_t *)"0123456789abcdef0123456789abcdef", f->req, 1);
		rc_request(&f->req[1], RPMB_REQ_RESULT_READ, 0, 1, 0);
		assert_int_equal(process(f, 2, 1), 1);
		assert_int_equal(result(&f->resp[0]), RPMB_RES_AUTH_FAILURE);
	}
}

static void write_without_result_read(void **state)
{
	struct fx *f = *state;
	uint16_t res;

	program_key(f);
	rc_request(&f->req[0], RPMB_REQ_DATA_WRITE, 7, 1, 0);
	rc_sign(rc_test_key, f->req, 1);
	assert_int_equal(process(f, 1, 1), 0);
	assert_int_equal(read_counter(f, &res), 1);
	rc_request(&f->req[0], RPMB_REQ_RESULT_READ, 0, 1, 0);
	assert_int_equal(process(f, 1, 1), 1);
	assert_int_equal(rpmb_frame_req_resp(&f->resp[0]), RPMB_RESP_DATA_WRITE);
	assert_int_equal(result(&f->resp[0]), RPMB_RES_OK);
	assert_int_equal(rpmb_frame_address(&f->resp[0]), 7);
	assert_int_equal(rpmb_frame_counter(&f->resp[0]), 1);
	assert_true(rc_mac_ok(rc_test_key, f->resp, 1));
}

static void result_read_misuse(void **state)
{
	struct fx *f = *state;

	rc_request(&f->req[0], RPMB_REQ_RESULT_READ, 0, 2, 0);
	assert_int_equal(process(f, 1, 1), 1);
	assert_int_equal(result(&f->resp[0]), RPMB_RES_GENERAL_FAILURE);
	/* Mixed sequences are malformed. */
	program_key(f);
	rc_request(&f->req[0], RPMB_REQ_DATA_WRITE, 0, 1, 0);
	rc_request(&f->req[1], RPMB_REQ_DATA_READ, 0, 1, 0);
	assert_int_equal(process(f, 2, 1), 1);
	assert_int_equal(result(&f->resp[0]), RPMB_RES_GENERAL_FAILURE);
	rc_request(&f->req[0], RPMB_REQ_GET_WRITE_COUNTER, 0, 1, 0);
	rc_request(&f->req[1], RPMB_REQ_GET_WRITE_COUNTER, 0, 1, 0);
	assert_int_equal(process(f, 2, 1), 1);
	assert_int_equal(result(&f->resp[0]), RPMB_RES_GENERAL_FAILURE);
	rc_request(&f->req[0], RPMB_REQ_GET_WRITE_COUNTER, 0, 3, 0);
	assert_int_equal(process(f, 1, 1), 1);
	assert_int_equal(result(&f->resp[0]), RPMB_RES_GENERAL_FAILURE);
}

static void unknown_request_type(void **state)
{
	struct fx *f = *state;

	rc_request(&f->req[0], 0x0006, 0, 1, 0);	/* eMMC secure write protect */
	assert_int_equal(process(f, 1, 1), 1);
	assert_int_equal(rpmb_frame_req_resp(&f->resp[0]), 0x0600);
	assert_int_equal(result(&f->resp[0]), RPMB_RES_GENERAL_FAILURE);
	rc_request(&f->req[0], 0xffff, 0, 1, 0);
	assert_int_equal(process(f, 1, 0), 0);
	assert_int_equal(rpmb_dev_process_frames(f->dev, f->req, 0, f->resp, 1), 1);
}

static void counter_expiry(void **state)
{
	struct fx *f = *state;
	uint8_t zero[RPMB_BLOCK_SIZE] = { 0 };
	uint16_t res;
	size_t got;

	program_key(f);
	/* Put the counter just below the end through the store itself. */
	assert_int_equal(rpmb_store_write(f->st, 0, 1, zero, 0xfffffffe), 0);
	assert_int_equal(read_counter(f, &res), 0xfffffffe);
	assert_int_equal(res, RPMB_RES_OK);
	/*
	 * The last write succeeds and says plain OK: U-Boot and mmc-utils
	 * read any non-zero result as a failed write.
	 */
	assert_int_equal(write_blocks(f, 1, 1, 0xfffffffe, 5, false), RPMB_RES_OK);
	assert_int_equal(rpmb_frame_counter(&f->resp[0]), 0xffffffff);
	/* Asked again afterwards, its result carries the flag. */
	rc_request(&f->req[0], RPMB_REQ_RESULT_READ, 0, 0, 0);
	assert_int_equal(process(f, 1, 1), 1);
	assert_int_equal(result(&f->resp[0]),
			 RPMB_RES_OK | RPMB_RES_WRITE_COUNTER_EXPIRED);
	/* From now on writes fail, never with a bare 0x80, and reads say so. */
	assert_int_equal(write_blocks(f, 1, 1, 0xffffffff, 6, false),
			 RPMB_RES_WRITE_FAILURE | RPMB_RES_WRITE_COUNTER_EXPIRED);
	assert_int_equal(read_counter(f, &res), 0xffffffff);
	assert_int_equal(res, RPMB_RES_WRITE_COUNTER_EXPIRED);
	assert_int_equal(read_blocks(f, 1, 1, 1, &got),
			 RPMB_RES_WRITE_COUNTER_EXPIRED);
	uint8_t want[RPMB_BLOCK_SIZE];

	rc_pattern(want, 1, 5);
	assert_memory_equal(f->resp[0].data, want, RPMB_BLOCK_SIZE);
}

static void state_survives_a_new_device(void **state)
{
	struct fx *f = *state;
	uint8_t want[RPMB_BLOCK_SIZE];
	uint16_t res;
	size_t got;

	program_key(f);
	assert_int_equal(write_blocks(f, 100, 3, 0, 77, false), RPMB_RES_OK);
	rpmb_dev_free(f->dev);
	f->dev = rpmb_dev_new(f->st, NULL);
	assert_int_equal(read_counter(f, &res), 1);
	assert_true(rc_mac_ok(rc_test_key, f->resp, 1));
	assert_int_equal(read_blocks(f, 100, 3, 3, &got), RPMB_RES_OK);
	rc_pattern(want, 102, 77);
	assert_memory_equal(f->resp[2].data, want, RPMB_BLOCK_SIZE);
}

static void two_devices_are_independent(void **state)
{
	struct fx *f = *state;
	struct rpmb_store *st2 = rt_store(f->dir, "other.rpmb", 1, 4, 4);
	struct rpmb_dev *dev2 = rpmb_dev_new(st2, NULL);
	struct rpmb_frame req, resp;

	program_key(f);
	rc_request(&req, RPMB_REQ_GET_WRITE_COUNTER, 0, 1, 0);
	assert_int_equal(rpmb_dev_process_frames(dev2, &req, 1, &resp, 1), 1);
	assert_int_equal(result(&resp), RPMB_RES_NO_AUTH_KEY);
	rpmb_dev_free(dev2);
	rpmb_store_close(st2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(config_from_store, setup, teardown),
		cmocka_unit_test_setup_teardown(before_key, setup, teardown),
		cmocka_unit_test_setup_teardown(key_programming, setup, teardown),
		cmocka_unit_test_setup_teardown(key_programming_bad_block_count, setup, teardown),
		cmocka_unit_test_setup_teardown(write_and_read_back, setup, teardown),
		cmocka_unit_test_setup_teardown(max_size_write_and_read, setup, teardown),
		cmocka_unit_test_setup_teardown(read_count_from_room, setup, teardown),
		cmocka_unit_test_setup_teardown(address_checks, setup, teardown),
		cmocka_unit_test_setup_teardown(bad_write_block_counts, setup, teardown),
		cmocka_unit_test_setup_teardown(too_many_write_frames, setup, teardown),
		cmocka_unit_test_setup_teardown(forged_and_replayed, setup, teardown),
		cmocka_unit_test_setup_teardown(write_without_result_read, setup, teardown),
		cmocka_unit_test_setup_teardown(result_read_misuse, setup, teardown),
		cmocka_unit_test_setup_teardown(unknown_request_type, setup, teardown),
		cmocka_unit_test_setup_teardown(counter_expiry, setup, teardown),
		cmocka_unit_test_setup_teardown(state_survives_a_new_device, setup, teardown),
		cmocka_unit_test_setup_teardown(two_devices_are_independent, setup, teardown),
	};

	return cmocka_run_group_tests_name("rpmb-core", tests, NULL, NULL);
}
