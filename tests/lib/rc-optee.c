// SPDX-License-Identifier: MIT
/*
 * OP-TEE OS 4.10 (core/tee/tee_rpmb_fs.c) as a virtio-rpmb device sees
 * it: OP-TEE hands its frames to the normal world (OPTEE_RPC_CMD_RPMB_FRAMES
 * to Linux's RPMB subsystem, or the legacy tee-supplicant path), and the
 * eMMC-style provider appends a RESULT_READ after DATA_WRITE and
 * PROGRAM_KEY. What OP-TEE puts in each frame:
 *
 *   GET_WRITE_COUNTER  type + random nonce; block_count 0
 *   PROGRAM_KEY        type + key (CFG_RPMB_WRITE_KEY); block_count 0
 *   DATA_WRITE         type, block_count 1, address, write_counter, data,
 *                      MAC: always one block per request (the macro that
 *                      would allow more is defined nowhere), so a longer
 *                      write is split, each with its own counter
 *   DATA_READ          type, nonce, address; block_count 0, the count is
 *                      the response room (a whole object in one request)
 *
 * and how it checks an answer (tee_rpmb_resp_unpack_verify), all on the
 * LAST response frame: result & 0x3F (7 means "no key", anything else
 * but 0 a generic failure), the response type, the address, for writes
 * the counter == old + 1 (else a security error), the nonce, and the MAC
 * (over every frame for reads, over the one frame otherwise). A write
 * whose answer fails any check is sent again unchanged, up to 10 times;
 * then OP-TEE declares the RPMB dead until reboot.
 */
#include <stdlib.h>
#include <string.h>

#include "rpmb-clients.h"

#define OPTEE_MAX_RETRIES	10
#define MAX_READ		64

enum tee_res { TEE_OK, TEE_ITEM_NOT_FOUND, TEE_GENERIC, TEE_SECURITY,
	       TEE_COMMUNICATION };

static const char *const tee_res_name[] = {
	"success", "item-not-found", "generic", "security", "communication",
};

struct optee {
	struct rc_run *r;
	uint32_t wr_cnt;
	bool dead;
	struct rpmb_frame req[2];
	struct rpmb_frame resp[MAX_READ];
};

/* What OP-TEE expects to find in an answer (NULL: not checked). */
struct expect {
	uint16_t type;
	const uint16_t *address;
	uint32_t *counter;	/* in: old value; out: the device's */
	const uint8_t *nonce;
	bool mac;
};

static enum tee_res verify(struct optee *o, unsigned int n,
			   const struct expect *e)
{
	const struct rpmb_frame *last = &o->resp[n - 1];
	uint8_t result = rpmb_frame_result(last) & 0x3f;

	if (result == RPMB_RES_NO_AUTH_KEY)
		return TEE_ITEM_NOT_FOUND;
	if (result != RPMB_RES_OK)
		return TEE_GENERIC;
	if (rpmb_frame_req_resp(last) != e->type)
		return TEE_GENERIC;
	if (e->address && rpmb_frame_address(last) != *e->address)
		return TEE_GENERIC;
	if (e->counter) {
		uint32_t old = *e->counter;

		*e->counter = rpmb_frame_counter(last);
		if (e->type == RPMB_RESP_DATA_WRITE && *e->counter != old + 1)
			return TEE_SECURITY;
	}
	if (e->nonce && memcmp(last->nonce, e->nonce, RPMB_NONCE_SIZE))
		return TEE_SECURITY;
	if (e->mac) {
		if (e->type != RPMB_RESP_DATA_READ && n != 1)
			return TEE_GENERIC;
		if (!rc_mac_ok(rc_test_key, o->resp, n))
			return TEE_SECURITY;
	}
	return TEE_OK;
}

/* tee_rpmb_init_read_wr_cnt: also how OP-TEE verifies the key. */
static enum tee_res read_wr_cnt(struct optee *o, uint32_t *wr_cnt)
{
	uint8_t nonce[RPMB_NONCE_SIZE];
	struct expect e = {
		.type = RPMB_RESP_GET_WRITE_COUNTER, .counter = wr_cnt,
		.nonce = nonce, .mac = true,
	};

	rc_nonce(o->r, nonce);
	rc_frame(&o->req[0], RPMB_REQ_GET_WRITE_COUNTER);
	memcpy(o->req[0].nonce, nonce, RPMB_NONCE_SIZE);
	if (rc_send(o->r, o->req, 1, 1, o->resp, 1) < 0)
		return TEE_COMMUNICATION;
	return verify(o, 1, &e);
}

/* tee_rpmb_write_key; the provider appends RESULT_READ. */
static enum tee_res write_key(struct optee *o)
{
	struct expect e = { .type = RPMB_RESP_PROGRAM_KEY };

	rc_frame(&o->req[0], RPMB_REQ_PROGRAM_KEY);
	memcpy(o->req[0].key_mac, rc_test_key, RPMB_KEY_SIZE);
	rc_frame(&o->req[1], RPMB_REQ_RESULT_READ);
	if (rc_send(o->r, o->req, 2, 1, o->resp, 1) < 0)
		return TEE_COMMUNICATION;
	return verify(o, 1, &e);
}

static void pack_write(struct optee *o, uint16_t blk_idx, uint32_t wr_cnt,
		       uint32_t seed)
{
	rc_frame(&o->req[0], RPMB_REQ_DATA_WRITE);
	rpmb_frame_set_block_count(&o->req[0], 1);
	rpmb_frame_set_address(&o->req[0], blk_idx);
	rpmb_frame_set_counter(&o->req[0], wr_cnt);
	rc_pattern(o->req[0].data, blk_idx, seed);
	rc_sign(rc_test_key, o->req, 1);
	rc_frame(&o->req[1], RPMB_REQ_RESULT_READ);
}

/*
 * write_req(): one reliable write of one block, resent unchanged when
 * the answer does not verify. @lose_first drops the first answer (as if
 * the RPC or the transport failed after the device acted).
 */
static enum tee_res write_req(struct optee *o, uint16_t blk_idx,
			      uint32_t seed, bool lose_first,
			      unsigned int *tries)
{
	uint32_t wr_cnt = o->wr_cnt;
	enum tee_res res = TEE_GENERIC;

	*tries = 0;
	if (o->dead)
		return TEE_COMMUNICATION;
	for (*tries = 1;; (*tries)++) {
		struct expect e = {
			.type = RPMB_RESP_DATA_WRITE, .address = &blk_idx,
			.counter = &wr_cnt, .mac = true,
		};
		long used;

		pack_write(o, blk_idx, wr_cnt, seed);
		used = rc_send(o->r, o->req, 2, 1, o->resp, 1);
		if (lose_first && *tries == 1)
			used = -1;
		res = used < 0 ? TEE_COMMUNICATION : verify(o, 1, &e);
		if (res == TEE_OK) {
			o->wr_cnt++;
			return TEE_OK;
		}
		if (*tries >= OPTEE_MAX_RETRIES)
			break;
	}
	o->dead = true;
	return TEE_COMMUNICATION;
}

/* tee_rpmb_write_blk: one request per block. */
static enum tee_res write_blk(struct optee *o, uint16_t blk_idx,
			      unsigned int blkcnt, uint32_t seed)
{
	unsigned int tries;

	for (unsigned int i = 0; i < blkcnt; i++) {
		enum tee_res res = write_req(o, (uint16_t)(blk_idx + i), seed,
					     false, &tries);

		if (res != TEE_OK)
			return res;
	}
	return TEE_OK;
}

/* tee_rpmb_read of whole blocks; the data lands in o->resp. */
static enum tee_res read_blk(struct optee *o, uint16_t blk_idx,
			     unsigned int blkcnt)
{
	uint8_t nonce[RPMB_NONCE_SIZE];
	struct expect e = {
		.type = RPMB_RESP_DATA_READ, .address = &blk_idx,
		.nonce = nonce, .mac = true,
	};

	rc_nonce(o->r, nonce);
	rc_frame(&o->req[0], RPMB_REQ_DATA_READ);
	memcpy(o->req[0].nonce, nonce, RPMB_NONCE_SIZE);
	rpmb_frame_set_address(&o->req[0], blk_idx);
	if (rc_send(o->r, o->req, 1, 1, o->resp, blkcnt) < 0)
		return TEE_COMMUNICATION;
	return verify(o, blkcnt, &e);
}

/* Block @i of the read at @first holds the pattern (addr, seed)? */
static bool block_is(struct optee *o, unsigned int i, uint16_t addr,
		     uint32_t seed)
{
	uint8_t want[RPMB_BLOCK_SIZE];

	rc_pattern(want, addr, seed);
	return !memcmp(o->resp[i].data, want, RPMB_BLOCK_SIZE);
}

static bool block_is_zero(struct optee *o, unsigned int i)
{
	static const uint8_t zero[RPMB_BLOCK_SIZE];

	return !memcmp(o->resp[i].data, zero, RPMB_BLOCK_SIZE);
}

/* A boot: OP-TEE's RPMB context starts over (tee_rpmb_init). */
static enum tee_res boot(struct optee *o)
{
	o->dead = false;
	o->wr_cnt = 0;
	return read_wr_cnt(o, &o->wr_cnt);
}

static void expiry(struct optee *o)
{
	struct rc_run *r = o->r;
	unsigned int tries;
	enum tee_res res;

	if (!r->ch->set_counter) {
		rc_check(r, "expiry", true, "skipped: the counter cannot be moved here");
		return;
	}
	r->ch->set_counter(r->ch->opaque, RPMB_COUNTER_MAX - 1);
	res = boot(o);
	rc_check(r, "expiry-sync", res == TEE_OK && o->wr_cnt == RPMB_COUNTER_MAX - 1,
		 "%s, counter %#x", tee_res_name[res], o->wr_cnt);
	/* The last write succeeds: OP-TEE masks the 0x80 flag away. */
	res = write_req(o, 30, 77, false, &tries);
	rc_check(r, "expiry-last-write", res == TEE_OK && o->wr_cnt == RPMB_COUNTER_MAX,
		 "%s, result %#x", tee_res_name[res], rpmb_frame_result(&o->resp[0]));
	/* Then writes fail (WRITE_FAILURE | 0x80), and OP-TEE gives up... */
	res = write_req(o, 31, 78, false, &tries);
	rc_check(r, "expiry-write-refused", res == TEE_COMMUNICATION && o->dead &&
		 (rpmb_frame_result(&o->resp[0]) & 0x3f) == RPMB_RES_WRITE_FAILURE,
		 "%s after %u tries, result %#x", tee_res_name[res], tries,
		 rpmb_frame_result(&o->resp[0]));
	/* ...but after a reboot it can still read what it has. */
	res = boot(o);
	if (res == TEE_OK)
		res = read_blk(o, 30, 1);
	rc_check(r, "expiry-read", res == TEE_OK && block_is(o, 0, 30, 77),
		 "%s", tee_res_name[res]);
}

unsigned int rc_run_optee(struct rc_run *r)
{
	struct optee *o = calloc(1, sizeof(*o));
	uint32_t counter = 0;
	unsigned int tries, nread;
	enum tee_res res;
	bool ok;

	if (!o)
		abort();
	o->r = r;

	/* First boot, blank device: "Auth key not yet written". */
	res = read_wr_cnt(o, &counter);
	rc_check(r, "first-boot-no-key", res == TEE_ITEM_NOT_FOUND,
		 "%s (result %#x)", tee_res_name[res], rpmb_frame_result(&o->resp[0]));

	/* CFG_RPMB_WRITE_KEY: program, then verify by reading the counter. */
	res = write_key(o);
	rc_check(r, "program-key", res == TEE_OK, "%s (result %#x)",
		 tee_res_name[res], rpmb_frame_result(&o->resp[0]));
	res = boot(o);
	rc_check(r, "verify-key", res == TEE_OK && o->wr_cnt == 0,
		 "%s, counter %u", tee_res_name[res], o->wr_cnt);

	/* One block per request; longer writes are split. */
	res = write_blk(o, 2, 1, 1);
	rc_check(r, "write-1", res == TEE_OK && o->wr_cnt == 1, "%s, counter %u",
		 tee_res_name[res], o->wr_cnt);
	res = write_blk(o, 4, 3, 2);
	rc_check(r, "write-split-3", res == TEE_OK && o->wr_cnt == 4,
		 "%s, counter %u", tee_res_name[res], o->wr_cnt);

	res = write_blk(o, 16, 1, 3);
	rc_check(r, "write-fat-entry", res == TEE_OK && o->wr_cnt == 5,
		 "%s, counter %u", tee_res_name[res], o->wr_cnt);

	/* A whole object in one read, block_count 0: one MAC over it all. */
	nread = MAX_READ;
	if (nread > r->capacity * RPMB_BLOCKS_PER_UNIT)
		nread = r->capacity * RPMB_BLOCKS_PER_UNIT;
	res = read_blk(o, 0, nread);
	ok = res == TEE_OK && block_is_zero(o, 0) && block_is(o, 2, 2, 1) &&
	     block_is(o, 6, 6, 2) && block_is(o, 16, 16, 3) &&
	     block_is_zero(o, nread - 1);
	rc_check(r, "read-multi-count-0", ok, "%s, %u blocks", tee_res_name[res],
		 nread);
	res = read_blk(o, 5, 2);
	rc_check(r, "read-2", res == TEE_OK && block_is(o, 0, 5, 2) &&
		 block_is(o, 1, 6, 2), "%s", tee_res_name[res]);

	/*
	 * The answer to a write is lost after the device committed it.
	 * OP-TEE resends the same frames; the device must refuse the replay
	 * (COUNT_FAILURE) every time, so OP-TEE gives up rather than
	 * believing a second write happened.
	 */
	res = write_req(o, 8, 4, true, &tries);
	rc_check(r, "lost-answer-replay-refused", res == TEE_COMMUNICATION &&
		 tries == OPTEE_MAX_RETRIES &&
		 (rpmb_frame_result(&o->resp[0]) & 0x3f) == RPMB_RES_COUNT_FAILURE &&
		 rpmb_frame_counter(&o->resp[0]) == 6,
		 "%s after %u tries, last result %#x counter %u",
		 tee_res_name[res], tries, rpmb_frame_result(&o->resp[0]),
		 rpmb_frame_counter(&o->resp[0]));
	/* After a reboot: the write happened exactly once. */
	res = boot(o);
	rc_check(r, "lost-answer-reboot", res == TEE_OK && o->wr_cnt == 6,
		 "%s, counter %u", tee_res_name[res], o->wr_cnt);
	res = read_blk(o, 8, 1);
	rc_check(r, "lost-answer-data", res == TEE_OK && block_is(o, 0, 8, 4),
		 "%s", tee_res_name[res]);

	expiry(o);
	free(o);
	return r->failures;
}
