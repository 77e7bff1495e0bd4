// SPDX-License-Identifier: MIT
/*
 * The virtio-rpmb driver written with the spec draft (Intel/T. Winkler,
 * drivers/char/rpmb/virtio_rpmb.c) and its user tool (tools/rpmb/rpmb.c):
 * each command of a sequence is one buffer, request commands readable,
 * the response writable:
 *
 *   program-key    [PROGRAM_KEY: block_count 1, key] [RESULT_READ] -> 1
 *   write-counter  [GET_WRITE_COUNTER: random nonce] -> 1
 *   write-blocks   counter first; [N x DATA_WRITE: block_count N,
 *                  address, counter, data in every frame, MAC in the
 *                  last] [RESULT_READ] -> 1
 *   read-blocks    [DATA_READ: block_count N, address, nonce] -> N
 *
 * It checks the response type, a result of 0, the nonce, the MACs (one
 * over all frames of a read), the address of a write and that the
 * counter grew.
 */
#include <stdlib.h>
#include <string.h>

#include "rpmb-clients.h"

#define MAX_N	4

struct draft {
	struct rc_run *r;
	struct rpmb_frame req[MAX_N + 1];
	struct rpmb_frame resp[MAX_N];
};

static const char *answer_ok(struct draft *d, long used, unsigned int n,
			     uint16_t type)
{
	if (used < 0)
		return "xfer";
	if (rpmb_frame_req_resp(&d->resp[0]) != type)
		return "response type";
	if (rpmb_frame_result(&d->resp[n - 1]))
		return "result";
	return NULL;
}

static const char *program_key(struct draft *d)
{
	rc_frame(&d->req[0], RPMB_REQ_PROGRAM_KEY);
	rpmb_frame_set_block_count(&d->req[0], 1);
	memcpy(d->req[0].key_mac, rc_test_key, RPMB_KEY_SIZE);
	rc_frame(&d->req[1], RPMB_REQ_RESULT_READ);
	return answer_ok(d, rc_send(d->r, d->req, 2, 1, d->resp, 1), 1,
			 RPMB_RESP_PROGRAM_KEY);
}

static const char *write_counter(struct draft *d, uint32_t *value)
{
	uint8_t nonce[RPMB_NONCE_SIZE];
	const char *why;

	rc_frame(&d->req[0], RPMB_REQ_GET_WRITE_COUNTER);
	rc_nonce(d->r, nonce);
	memcpy(d->req[0].nonce, nonce, RPMB_NONCE_SIZE);
	why = answer_ok(d, rc_send(d->r, d->req, 1, 1, d->resp, 1), 1,
			RPMB_RESP_GET_WRITE_COUNTER);
	*value = rpmb_frame_counter(&d->resp[0]);
	if (!why && memcmp(d->resp[0].nonce, nonce, RPMB_NONCE_SIZE))
		why = "nonce";
	if (!why && !rc_mac_ok(rc_test_key, d->resp, 1))
		why = "MAC";
	return why;
}

static const char *write_blocks(struct draft *d, uint16_t addr,
				unsigned int n, uint32_t seed)
{
	uint32_t old;
	const char *why = write_counter(d, &old);

	if (why)
		return why;
	for (unsigned int i = 0; i < n; i++) {
		rc_frame(&d->req[i], RPMB_REQ_DATA_WRITE);
		rpmb_frame_set_block_count(&d->req[i], (uint16_t)n);
		rpmb_frame_set_address(&d->req[i], addr);
		rpmb_frame_set_counter(&d->req[i], old);
		rc_pattern(d->req[i].data, (uint16_t)(addr + i), seed);
	}
	rc_sign(rc_test_key, d->req, n);
	rc_frame(&d->req[n], RPMB_REQ_RESULT_READ);
	why = answer_ok(d, rc_send(d->r, d->req, n + 1, n, d->resp, 1), 1,
			RPMB_RESP_DATA_WRITE);
	if (!why && rpmb_frame_address(&d->resp[0]) != addr)
		why = "address";
	if (!why && rpmb_frame_counter(&d->resp[0]) <= old)
		why = "counter did not grow";
	if (!why && !rc_mac_ok(rc_test_key, d->resp, 1))
		why = "MAC";
	return why;
}

static const char *read_blocks(struct draft *d, uint16_t addr,
			       unsigned int n, uint32_t seed)
{
	uint8_t nonce[RPMB_NONCE_SIZE], want[RPMB_BLOCK_SIZE];
	const char *why;

	rc_frame(&d->req[0], RPMB_REQ_DATA_READ);
	rpmb_frame_set_block_count(&d->req[0], (uint16_t)n);
	rpmb_frame_set_address(&d->req[0], addr);
	rc_nonce(d->r, nonce);
	memcpy(d->req[0].nonce, nonce, RPMB_NONCE_SIZE);
	why = answer_ok(d, rc_send(d->r, d->req, 1, 1, d->resp, n), n,
			RPMB_RESP_DATA_READ);
	if (!why && memcmp(d->resp[n - 1].nonce, nonce, RPMB_NONCE_SIZE))
		why = "nonce";
	if (!why && !rc_mac_ok(rc_test_key, d->resp, n))
		why = "MAC";
	for (unsigned int i = 0; !why && i < n; i++) {
		rc_pattern(want, (uint16_t)(addr + i), seed);
		if (memcmp(d->resp[i].data, want, RPMB_BLOCK_SIZE))
			why = "data";
	}
	return why;
}

unsigned int rc_run_spec_draft(struct rc_run *r)
{
	struct draft *d = calloc(1, sizeof(*d));
	unsigned int n = r->max_wr_cnt < MAX_N ? r->max_wr_cnt : MAX_N;
	uint32_t value = 0;
	const char *why;

	if (!d)
		abort();
	d->r = r;
	why = write_counter(d, &value);
	rc_check(r, "write-counter-no-key", why && !strcmp(why, "result") &&
		 rpmb_frame_result(&d->resp[0]) == RPMB_RES_NO_AUTH_KEY,
		 "%s, result %#x", why ? why : "no error",
		 rpmb_frame_result(&d->resp[0]));
	why = program_key(d);
	rc_check(r, "program-key", !why, "%s", why ? why : "ok");
	why = write_counter(d, &value);
	rc_check(r, "write-counter", !why && value == 0, "%s, counter %u",
		 why ? why : "ok", value);
	why = write_blocks(d, 60, n, 80);
	rc_check(r, "write-blocks", !why, "%s, %u blocks", why ? why : "ok", n);
	why = read_blocks(d, 60, n, 80);
	rc_check(r, "read-blocks", !why, "%s, %u blocks", why ? why : "ok", n);
	why = program_key(d);
	rc_check(r, "program-key-again", why && !strcmp(why, "result") &&
		 rpmb_frame_result(&d->resp[0]) == RPMB_RES_WRITE_FAILURE,
		 "%s, result %#x", why ? why : "no error",
		 rpmb_frame_result(&d->resp[0]));
	free(d);
	return r->failures;
}
