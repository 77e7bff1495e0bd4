// SPDX-License-Identifier: MIT
/*
 * mmc-utils (mmc_cmds.c, do_rpmb_op and the rpmb sub-commands) as a
 * virtio-rpmb device sees it when each MMC command of its
 * MMC_IOC_MULTI_CMD list becomes one buffer (NuttX's /dev/rpmb does
 * exactly that):
 *
 *   write-key     [PROGRAM_KEY: type + key] [RESULT_READ] -> 1 frame
 *   read-counter  [GET_WRITE_COUNTER: type only, nonce all zero] -> 1
 *   read-block    [DATA_READ: type + address] -> N (N only in CMD18)
 *   write-block   read-counter first, then [DATA_WRITE: block_count 1,
 *                 address, counter, data, MAC] [RESULT_READ] -> 1
 *
 * block_count is 0 in every frame but DATA_WRITE (the count travels in
 * CMD23). Checks: only the 16-bit result, and any non-zero value is a
 * failure (0x0080 alone included); with a key, read-block checks one MAC
 * over all frames. No retries: a failed command just exits.
 */
#include <stdlib.h>
#include <string.h>

#include "rpmb-clients.h"

struct mmcu {
	struct rc_run *r;
	struct rpmb_frame req[2];
	struct rpmb_frame resp[8];
};

/* The sub-command's verdict: 0 or the raw result it would print. */
static uint16_t write_key(struct mmcu *m)
{
	rc_frame(&m->req[0], RPMB_REQ_PROGRAM_KEY);
	memcpy(m->req[0].key_mac, rc_test_key, RPMB_KEY_SIZE);
	rc_frame(&m->req[1], RPMB_REQ_RESULT_READ);
	if (rc_send(m->r, m->req, 2, 1, m->resp, 1) < 0)
		return 0xffff;
	return rpmb_frame_result(&m->resp[0]);
}

static uint16_t read_counter(struct mmcu *m, uint32_t *counter)
{
	rc_frame(&m->req[0], RPMB_REQ_GET_WRITE_COUNTER);
	if (rc_send(m->r, m->req, 1, 1, m->resp, 1) < 0)
		return 0xffff;
	*counter = rpmb_frame_counter(&m->resp[0]);
	return rpmb_frame_result(&m->resp[0]);
}

/* @lose: the answer never reaches mmc-utils (it then fails the command). */
static uint16_t write_block(struct mmcu *m, uint16_t addr, uint32_t seed,
			    bool lose)
{
	uint32_t counter = 0;
	uint16_t res = read_counter(m, &counter);

	if (res)
		return res;
	rc_frame(&m->req[0], RPMB_REQ_DATA_WRITE);
	rpmb_frame_set_block_count(&m->req[0], 1);
	rpmb_frame_set_address(&m->req[0], addr);
	rpmb_frame_set_counter(&m->req[0], counter);
	rc_pattern(m->req[0].data, addr, seed);
	rc_sign(rc_test_key, m->req, 1);
	rc_frame(&m->req[1], RPMB_REQ_RESULT_READ);
	if (rc_send(m->r, m->req, 2, 1, m->resp, 1) < 0 || lose)
		return 0xffff;
	return rpmb_frame_result(&m->resp[0]);
}

static uint16_t read_block(struct mmcu *m, uint16_t addr, unsigned int cnt,
			   bool with_key, bool *mac_ok)
{
	rc_frame(&m->req[0], RPMB_REQ_DATA_READ);
	rpmb_frame_set_address(&m->req[0], addr);
	if (rc_send(m->r, m->req, 1, 1, m->resp, cnt) < 0)
		return 0xffff;
	*mac_ok = !with_key || rc_mac_ok(rc_test_key, m->resp, cnt);
	return rpmb_frame_result(&m->resp[cnt - 1]);
}

static bool data_is(struct mmcu *m, unsigned int i, uint16_t addr,
		    uint32_t seed)
{
	uint8_t want[RPMB_BLOCK_SIZE];

	rc_pattern(want, addr, seed);
	return !memcmp(m->resp[i].data, want, RPMB_BLOCK_SIZE);
}

unsigned int rc_run_mmc_utils(struct rc_run *r)
{
	struct mmcu *m = calloc(1, sizeof(*m));
	uint32_t counter = 0;
	uint16_t res;
	bool mac_ok = false;

	if (!m)
		abort();
	m->r = r;
	res = read_counter(m, &counter);
	rc_check(r, "read-counter-no-key", res == RPMB_RES_NO_AUTH_KEY,
		 "result %#x", res);
	res = write_key(m);
	rc_check(r, "write-key", res == RPMB_RES_OK, "result %#x", res);
	res = read_counter(m, &counter);
	rc_check(r, "read-counter", res == RPMB_RES_OK && counter == 0,
		 "result %#x counter %u", res, counter);
	for (uint16_t i = 0; i < 3; i++) {
		res = write_block(m, (uint16_t)(10 + i), 20 + i, false);
		rc_check(r, "write-block", res == RPMB_RES_OK,
			 "block %u result %#x", 10 + i, res);
	}
	res = read_block(m, 9, 5, true, &mac_ok);
	rc_check(r, "read-block-5-with-key", res == RPMB_RES_OK && mac_ok &&
		 data_is(m, 1, 10, 20) && data_is(m, 3, 12, 22),
		 "result %#x mac %s", res, mac_ok ? "ok" : "bad");
	res = read_block(m, 10, 1, false, &mac_ok);
	rc_check(r, "read-block-no-key", res == RPMB_RES_OK && data_is(m, 0, 10, 20),
		 "result %#x", res);

	/* The answer is lost; the user runs write-block again. */
	res = write_block(m, 14, 30, true);
	res = write_block(m, 14, 31, false);
	rc_check(r, "write-block-rerun", res == RPMB_RES_OK, "result %#x", res);
	res = read_counter(m, &counter);
	rc_check(r, "counter-after-rerun", res == RPMB_RES_OK && counter == 5,
		 "result %#x counter %u", res, counter);
	res = read_block(m, 14, 1, true, &mac_ok);
	rc_check(r, "rerun-data", res == RPMB_RES_OK && mac_ok && data_is(m, 0, 14, 31),
		 "result %#x", res);

	/* The key is one-time programmable: mmc-utils reports a failure. */
	res = write_key(m);
	rc_check(r, "write-key-again", res == RPMB_RES_WRITE_FAILURE,
		 "result %#x", res);

	if (!r->ch->set_counter) {
		rc_check(r, "expiry", true, "skipped: the counter cannot be moved here");
	} else {
		r->ch->set_counter(r->ch->opaque, RPMB_COUNTER_MAX - 1);
		res = write_block(m, 15, 40, false);
		rc_check(r, "expiry-last-write", res == RPMB_RES_OK,
			 "result %#x", res);
		/* Its counter read already says "expired": it stops there. */
		res = write_block(m, 15, 41, false);
		rc_check(r, "expiry-write-refused",
			 res == RPMB_RES_WRITE_COUNTER_EXPIRED, "result %#x", res);
		res = read_block(m, 15, 1, true, &mac_ok);
		rc_check(r, "expiry-read-flagged", res == RPMB_RES_WRITE_COUNTER_EXPIRED &&
			 mac_ok && data_is(m, 0, 15, 40), "result %#x", res);
	}
	free(m);
	return r->failures;
}
