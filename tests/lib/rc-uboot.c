// SPDX-License-Identifier: MIT
/*
 * U-Boot's `mmc rpmb` command (drivers/mmc/rpmb.c), each MMC command one
 * buffer (as a virtio frontend carrying MMC command lists lays it out):
 *
 *   counter  [GET_WRITE_COUNTER: type only, no nonce] -> 1 frame
 *   key      [PROGRAM_KEY: type + key] [RESULT_READ] -> 1
 *   read     one request per block: [DATA_READ: type + address] -> 1
 *   write    per block: counter, then [DATA_WRITE: block_count 1,
 *            address, counter, data, MAC] [RESULT_READ] -> 1
 *
 * block_count is 0 everywhere but DATA_WRITE. Every answer must carry the
 * expected response type and a result of exactly 0 (16 bits: 0x0080
 * alone is a failure, printed as "Write counter has expired"); reads with
 * a key check the MAC of each single-frame answer. No retries: a failure
 * ends the command.
 */
#include <stdlib.h>
#include <string.h>

#include "rpmb-clients.h"

struct uboot {
	struct rc_run *r;
	struct rpmb_frame req[2];
	struct rpmb_frame resp[1];
};

/* mmc_rpmb_response: the type must match; the 16-bit result is returned. */
static int response(struct uboot *u, long used, uint16_t type)
{
	if (used < 0)
		return -1;
	if (rpmb_frame_req_resp(&u->resp[0]) != type)
		return -2;
	return rpmb_frame_result(&u->resp[0]);
}

static int get_counter(struct uboot *u, uint32_t *counter)
{
	long used;

	rc_frame(&u->req[0], RPMB_REQ_GET_WRITE_COUNTER);
	used = rc_send(u->r, u->req, 1, 1, u->resp, 1);
	*counter = rpmb_frame_counter(&u->resp[0]);
	return response(u, used, RPMB_RESP_GET_WRITE_COUNTER);
}

static int set_key(struct uboot *u)
{
	long used;

	rc_frame(&u->req[0], RPMB_REQ_PROGRAM_KEY);
	memcpy(u->req[0].key_mac, rc_test_key, RPMB_KEY_SIZE);
	rc_frame(&u->req[1], RPMB_REQ_RESULT_READ);
	used = rc_send(u->r, u->req, 2, 1, u->resp, 1);
	return response(u, used, RPMB_RESP_PROGRAM_KEY);
}

/* mmc_rpmb_write: returns how many blocks were written. */
static unsigned int write_blocks(struct uboot *u, uint16_t blk,
				 unsigned int cnt, uint32_t seed, int *err)
{
	for (unsigned int i = 0; i < cnt; i++) {
		uint16_t addr = (uint16_t)(blk + i);
		uint32_t counter;
		long used;

		*err = get_counter(u, &counter);
		if (*err)
			return i;
		rc_frame(&u->req[0], RPMB_REQ_DATA_WRITE);
		rpmb_frame_set_block_count(&u->req[0], 1);
		rpmb_frame_set_address(&u->req[0], addr);
		rpmb_frame_set_counter(&u->req[0], counter);
		rc_pattern(u->req[0].data, addr, seed);
		rc_sign(rc_test_key, u->req, 1);
		rc_frame(&u->req[1], RPMB_REQ_RESULT_READ);
		used = rc_send(u->r, u->req, 2, 1, u->resp, 1);
		*err = response(u, used, RPMB_RESP_DATA_WRITE);
		if (*err)
			return i;
	}
	return cnt;
}

/* mmc_rpmb_read: one block per request; checks each as it comes. */
static unsigned int read_blocks(struct uboot *u, uint16_t blk,
				unsigned int cnt, uint32_t seed, int *err)
{
	uint8_t want[RPMB_BLOCK_SIZE];

	for (unsigned int i = 0; i < cnt; i++) {
		uint16_t addr = (uint16_t)(blk + i);
		long used;

		rc_frame(&u->req[0], RPMB_REQ_DATA_READ);
		rpmb_frame_set_address(&u->req[0], addr);
		used = rc_send(u->r, u->req, 1, 1, u->resp, 1);
		*err = response(u, used, RPMB_RESP_DATA_READ);
		if (!*err && !rc_mac_ok(rc_test_key, u->resp, 1))
			*err = -3;	/* "MAC error on block" */
		rc_pattern(want, addr, seed);
		if (!*err && memcmp(u->resp[0].data, want, RPMB_BLOCK_SIZE))
			*err = -4;	/* (our check: the data written) */
		if (*err)
			return i;
	}
	return cnt;
}

unsigned int rc_run_uboot(struct rc_run *r)
{
	struct uboot *u = calloc(1, sizeof(*u));
	uint32_t counter = 0;
	unsigned int n;
	int err;

	if (!u)
		abort();
	u->r = r;
	err = get_counter(u, &counter);
	rc_check(r, "counter-no-key", err == RPMB_RES_NO_AUTH_KEY, "status %d", err);
	err = set_key(u);
	rc_check(r, "key", err == 0, "status %d", err);
	err = get_counter(u, &counter);
	rc_check(r, "counter", err == 0 && counter == 0, "status %d counter %u",
		 err, counter);
	n = write_blocks(u, 40, 4, 50, &err);
	rc_check(r, "write-4", n == 4 && !err, "%u blocks, status %d", n, err);
	n = read_blocks(u, 40, 4, 50, &err);
	rc_check(r, "read-4", n == 4 && !err, "%u blocks, status %d", n, err);
	err = get_counter(u, &counter);
	rc_check(r, "counter-after-writes", err == 0 && counter == 4,
		 "status %d counter %u", err, counter);
	err = set_key(u);
	rc_check(r, "key-again", err == RPMB_RES_WRITE_FAILURE,
		 "status %d (\"Key already programmed ?\")", err);

	if (!r->ch->set_counter) {
		rc_check(r, "expiry", true, "skipped: the counter cannot be moved here");
	} else {
		r->ch->set_counter(r->ch->opaque, RPMB_COUNTER_MAX - 1);
		n = write_blocks(u, 50, 1, 60, &err);
		rc_check(r, "expiry-last-write", n == 1 && !err,
			 "status %d", err);
		n = write_blocks(u, 51, 1, 61, &err);
		rc_check(r, "expiry-write-refused", n == 0 &&
			 err == RPMB_RES_WRITE_COUNTER_EXPIRED,
			 "status %#x (\"Write counter has expired\")", err);
	}
	free(u);
	return r->failures;
}
