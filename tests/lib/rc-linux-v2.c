// SPDX-License-Identifier: MIT
/*
 * The unmerged Linux virtio-rpmb v2 driver (A. Bennée, 2022,
 * drivers/rpmb/virtio_rpmb.c) with its user tool (tools/rpmb/rpmb.c).
 * Every request is one readable buffer and at most one writable one:
 *
 *   program-key  [PROGRAM_KEY: block_count 1, key, nonce | RESULT_READ:
 *                block_count 0, nonce] -> 1 frame
 *   counter      [GET_WRITE_COUNTER: block_count 1, nonce] -> 1
 *   write        [DATA_WRITE: block_count 1, address, counter, nonce,
 *                data, MAC | RESULT_READ: block_count 1, nonce, MAC] -> 1;
 *                or without RESULT_READ and no writable buffer at all
 *   read         [DATA_READ: block_count N, address, (uninitialised rest)]
 *                -> the caller's whole buffer, which may be larger than N
 *
 * The driver checks the response type, a result of exactly 0 and the
 * used length (exactly 512, or N x 512 for reads); it refuses reads over
 * max_rd_cnt. The tool checks a MAC over the key-programming answer
 * (with the new key), nonce and MAC of counter answers, and a MAC in
 * each read frame over that frame alone, which only a one-block read can
 * satisfy on a JEDEC device (its multi-block reads and writes use
 * per-frame MACs: not supported by any RPMB device, ours included).
 */
#include <stdlib.h>
#include <string.h>

#include "rpmb-clients.h"

struct v2 {
	struct rc_run *r;
	struct rpmb_frame req[2];
	struct rpmb_frame resp[4];
};

/* The driver's verdict: 0, or why it returned an error to the tool. */
static const char *driver_check(struct v2 *v, long used, long want_used,
				uint16_t type)
{
	if (used != want_used)
		return "used length";
	if (rpmb_frame_req_resp(&v->resp[0]) != type)
		return "response type";
	if (rpmb_frame_result(&v->resp[0]))
		return "result";
	return NULL;
}

static const char *program_key(struct v2 *v)
{
	long used;
	const char *why;

	rc_frame(&v->req[0], RPMB_REQ_PROGRAM_KEY);
	rpmb_frame_set_block_count(&v->req[0], 1);
	memcpy(v->req[0].key_mac, rc_test_key, RPMB_KEY_SIZE);
	rc_nonce(v->r, v->req[0].nonce);
	rc_frame(&v->req[1], RPMB_REQ_RESULT_READ);
	rc_nonce(v->r, v->req[1].nonce);
	used = rc_send(v->r, v->req, 2, 2, v->resp, 1);
	why = driver_check(v, used, RPMB_FRAME_SIZE, RPMB_RESP_PROGRAM_KEY);
	if (!why && !rc_mac_ok(rc_test_key, v->resp, 1))
		why = "MAC of the key-programming answer";
	return why;
}

static const char *counter(struct v2 *v, uint32_t *value)
{
	uint8_t nonce[RPMB_NONCE_SIZE];
	const char *why;
	long used;

	rc_frame(&v->req[0], RPMB_REQ_GET_WRITE_COUNTER);
	rpmb_frame_set_block_count(&v->req[0], 1);
	rc_nonce(v->r, nonce);
	memcpy(v->req[0].nonce, nonce, RPMB_NONCE_SIZE);
	used = rc_send(v->r, v->req, 1, 1, v->resp, 1);
	why = driver_check(v, used, RPMB_FRAME_SIZE, RPMB_RESP_GET_WRITE_COUNTER);
	*value = rpmb_frame_counter(&v->resp[0]);
	if (!why && memcmp(v->resp[0].nonce, nonce, RPMB_NONCE_SIZE))
		why = "nonce";
	if (!why && !rc_mac_ok(rc_test_key, v->resp, 1))
		why = "MAC";
	return why;
}

static const char *write_block(struct v2 *v, uint16_t addr, uint32_t seed,
			       bool with_result)
{
	uint32_t ctr;
	const char *why = counter(v, &ctr);
	long used;

	if (why)
		return why;
	rc_frame(&v->req[0], RPMB_REQ_DATA_WRITE);
	rpmb_frame_set_block_count(&v->req[0], 1);
	rpmb_frame_set_address(&v->req[0], addr);
	rpmb_frame_set_counter(&v->req[0], ctr);
	rc_nonce(v->r, v->req[0].nonce);
	rc_pattern(v->req[0].data, addr, seed);
	rc_sign(rc_test_key, v->req, 1);
	if (!with_result)
		return rc_send(v->r, v->req, 1, 1, v->resp, 0) < 0 ? "xfer" : NULL;
	rc_frame(&v->req[1], RPMB_REQ_RESULT_READ);
	rpmb_frame_set_block_count(&v->req[1], 1);
	rc_nonce(v->r, v->req[1].nonce);
	rc_sign(rc_test_key, &v->req[1], 1);
	used = rc_send(v->r, v->req, 2, 2, v->resp, 1);
	return driver_check(v, used, RPMB_FRAME_SIZE, RPMB_RESP_DATA_WRITE);
}

/* One block into a buffer of @room frames, as the tool's reads go. */
static const char *read_block(struct v2 *v, uint16_t addr, unsigned int room,
			      uint32_t seed)
{
	uint8_t want[RPMB_BLOCK_SIZE];
	const char *why;
	long used;

	memset(&v->req[0], 0x5a, sizeof(v->req[0]));	/* kmalloc'ed */
	rpmb_frame_set_req_resp(&v->req[0], RPMB_REQ_DATA_READ);
	rpmb_frame_set_block_count(&v->req[0], 1);
	rpmb_frame_set_address(&v->req[0], addr);
	used = rc_send(v->r, v->req, 1, 1, v->resp, room);
	why = driver_check(v, used, RPMB_FRAME_SIZE, RPMB_RESP_DATA_READ);
	if (!why && !rc_mac_ok(rc_test_key, v->resp, 1))
		why = "MAC";
	rc_pattern(want, addr, seed);
	if (!why && memcmp(v->resp[0].data, want, RPMB_BLOCK_SIZE))
		why = "data";
	return why;
}

unsigned int rc_run_linux_v2(struct rc_run *r)
{
	struct v2 *v = calloc(1, sizeof(*v));
	uint32_t value = 0;
	const char *why;

	if (!v)
		abort();
	v->r = r;
	why = counter(v, &value);
	rc_check(r, "counter-no-key", why && !strcmp(why, "result") &&
		 rpmb_frame_result(&v->resp[0]) == RPMB_RES_NO_AUTH_KEY,
		 "%s, result %#x", why ? why : "no error",
		 rpmb_frame_result(&v->resp[0]));
	why = program_key(v);
	rc_check(r, "program-key", !why, "%s", why ? why : "ok");
	why = counter(v, &value);
	rc_check(r, "counter", !why && value == 0, "%s, counter %u",
		 why ? why : "ok", value);
	why = write_block(v, 3, 70, true);
	rc_check(r, "write-block", !why, "%s", why ? why : "ok");
	why = read_block(v, 3, 4, 70);
	rc_check(r, "read-block-oversized-buffer", !why, "%s", why ? why : "ok");
	/* No RESULT_READ and no writable buffer: nothing comes back. */
	why = write_block(v, 4, 71, false);
	rc_check(r, "write-block-no-response", !why, "%s", why ? why : "ok");
	why = counter(v, &value);
	rc_check(r, "counter-after-writes", !why && value == 2,
		 "%s, counter %u", why ? why : "ok", value);
	why = read_block(v, 4, 1, 71);
	rc_check(r, "read-unanswered-write", !why, "%s", why ? why : "ok");
	why = program_key(v);
	rc_check(r, "program-key-again", why && !strcmp(why, "result") &&
		 rpmb_frame_result(&v->resp[0]) == RPMB_RES_WRITE_FAILURE,
		 "%s, result %#x", why ? why : "no error",
		 rpmb_frame_result(&v->resp[0]));
	free(v);
	return r->failures;
}
