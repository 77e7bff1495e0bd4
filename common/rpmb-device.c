// SPDX-License-Identifier: MIT
/*
 * RPMB request handling (virtio spec "RPMB Device", JEDEC JESD84-B51
 * 6.6.22). One call handles one request sequence as a guest sends it:
 *
 *   PROGRAM_KEY [RESULT_READ]        -> 0 or 1 response frame
 *   GET_WRITE_COUNTER                -> 1
 *   DATA_WRITE x N [RESULT_READ]     -> 0 or 1
 *   DATA_READ                        -> N (block_count, or the room given)
 *   RESULT_READ                      -> 1
 *
 * The outcome of the last PROGRAM_KEY or DATA_WRITE is kept for a later
 * RESULT_READ, as the JEDEC result register is.
 *
 * block_count, where the real clients and the virtio spec disagree: the
 * spec says single-frame requests (PROGRAM_KEY, GET_WRITE_COUNTER,
 * RESULT_READ) SHOULD carry 1, but on eMMC the count comes from CMD23,
 * not the frame, and every client we know (OP-TEE, tee-supplicant,
 * Linux's mmc RPMB routing, mmc-utils, U-Boot) leaves it 0. Both are
 * accepted; anything else is still a GENERAL_FAILURE. A DATA_READ with
 * block_count 0 reads as many blocks as the guest gave room for, and
 * max_rd_cnt does not limit it: OP-TEE reads a whole object that way (it
 * never learns max_rd_cnt, an eMMC has none) and checks one MAC over all
 * of it, which no layer below it could split. A read that states its
 * count is held to max_rd_cnt, as the spec says. A DATA_WRITE must state
 * its own length: the MAC covers block_count, so it is the only length a
 * forger cannot change.
 *
 * Counter expiry: the write that takes the counter to 0xFFFFFFFF
 * succeeds and says plain OK (U-Boot and mmc-utils take any non-zero
 * result, 0x0080 alone included, for a failed write); every later result
 * carries 0x0080, and writes then fail with WRITE_FAILURE | 0x0080, never
 * a bare 0x0080 (OP-TEE masks results to their low 6 bits).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "log.h"
#include "rpmb-auth.h"
#include "rpmb-store.h"
#include "rpmb.h"

/* Blocks fetched from the store at a time while streaming a read. */
#define READ_CHUNK	32

struct rpmb_dev {
	struct rpmb_store *store;
	struct guest_log *log;
	struct rpmb_auth *auth;
	struct rpmb_config cfg;
	unsigned int nblocks;

	/* The result register: what RESULT_READ reports. */
	uint16_t last_result;
	uint16_t last_resp_type;
	uint16_t last_address;
};

static uint32_t counter(const struct rpmb_dev *dev)
{
	struct rpmb_store_info info;

	rpmb_store_get_info(dev->store, &info);
	return info.write_counter;
}

static bool expired(const struct rpmb_dev *dev)
{
	return counter(dev) == RPMB_COUNTER_MAX;
}

/* Once the counter is spent, every result says so (JEDEC bit 7). */
static uint16_t with_expiry(const struct rpmb_dev *dev, uint16_t result)
{
	return expired(dev) ? result | RPMB_RES_WRITE_COUNTER_EXPIRED : result;
}

static int load_key(struct rpmb_dev *dev)
{
	uint8_t key[RPMB_KEY_SIZE];
	int ret;

	ret = rpmb_store_get_key(dev->store, key);
	if (ret == -ENOKEY)
		return 0;
	if (!ret)
		ret = rpmb_auth_set_key(dev->auth, key);
	OPENSSL_cleanse(key, sizeof(key));
	return ret;
}

struct rpmb_dev *rpmb_dev_new(struct rpmb_store *store, struct guest_log *log)
{
	struct rpmb_dev *dev = calloc(1, sizeof(*dev));
	struct rpmb_store_info info;

	if (!dev)
		return NULL;
	dev->store = store;
	dev->log = log;
	dev->auth = rpmb_auth_new();
	if (!dev->auth || load_key(dev)) {
		rpmb_dev_free(dev);
		return NULL;
	}
	rpmb_store_get_info(store, &info);
	dev->cfg.capacity = (uint8_t)info.capacity;
	dev->cfg.max_wr_cnt = (uint8_t)info.max_wr_cnt;
	dev->cfg.max_rd_cnt = (uint8_t)info.max_rd_cnt;
	dev->nblocks = info.capacity * RPMB_BLOCKS_PER_UNIT;
	/* Nothing happened yet that RESULT_READ could report. */
	dev->last_result = RPMB_RES_GENERAL_FAILURE;
	dev->last_resp_type = RPMB_RESP_DATA_WRITE;
	return dev;
}

void rpmb_dev_free(struct rpmb_dev *dev)
{
	if (!dev)
		return;
	rpmb_auth_free(dev->auth);
	free(dev);
}

void rpmb_dev_get_config(const struct rpmb_dev *dev, struct rpmb_config *cfg)
{
	*cfg = dev->cfg;
}

size_t rpmb_dev_max_req_frames(const struct rpmb_dev *dev)
{
	return (size_t)dev->cfg.max_wr_cnt + 1;
}

static void init_resp(struct rpmb_frame *resp, uint16_t type, uint16_t result)
{
	memset(resp, 0, sizeof(*resp));
	rpmb_frame_set_req_resp(resp, type);
	rpmb_frame_set_result(resp, result);
}

/*
 * Signs and delivers a one-frame response. Every response but a failure
 * without a key is authenticated.
 */
static size_t put_one(struct rpmb_dev *dev, struct rpmb_frame *resp,
		      const struct rpmb_sink *sink)
{
	if (rpmb_auth_has_key(dev->auth) &&
	    rpmb_auth_mac(dev->auth, resp, 1, resp->key_mac))
		log_err("rpmb: cannot compute a response MAC");
	sink->put(sink->opaque, 0, resp);
	return 1;
}

/*
 * The RESULT_READ answer: the stored outcome, with the current counter.
 * @just_wrote: answering the write of this same request, so a counter
 * that write spent is not yet reported as expired (see the top).
 */
static size_t answer_result(struct rpmb_dev *dev, size_t room,
			    const struct rpmb_sink *sink, bool just_wrote)
{
	uint16_t result = dev->last_result;
	struct rpmb_frame resp;

	if (!room)
		return 0;
	if (!just_wrote || result != RPMB_RES_OK)
		result = with_expiry(dev, result);
	init_resp(&resp, dev->last_resp_type, result);
	rpmb_frame_set_address(&resp, dev->last_address);
	if (rpmb_auth_has_key(dev->auth))
		rpmb_frame_set_counter(&resp, counter(dev));
	return put_one(dev, &resp, sink);
}

static void remember(struct rpmb_dev *dev, uint16_t type, uint16_t result,
		     uint16_t address)
{
	dev->last_resp_type = type;
	dev->last_result = result;
	dev->last_address = address;
}

static bool is_type(const struct rpmb_frame *f, uint16_t type)
{
	return rpmb_frame_req_resp(f) == type;
}

/* Single-frame requests: 1 as the virtio spec says, 0 as clients send. */
static bool single_count_ok(const struct rpmb_frame *f)
{
	return rpmb_frame_block_count(f) <= 1;
}

/* A trailing RESULT_READ asks for the outcome of what came before it. */
static bool trailing_result_read(const struct rpmb_frame *req, size_t nreq,
				 size_t nbody)
{
	return nreq == nbody + 1 && is_type(&req[nbody], RPMB_REQ_RESULT_READ) &&
	       single_count_ok(&req[nbody]);
}

static size_t program_key(struct rpmb_dev *dev, const struct rpmb_frame *req,
			  size_t nreq, size_t room, const struct rpmb_sink *sink)
{
	uint16_t result = RPMB_RES_OK;
	int ret;

	if (nreq > 2 || (nreq == 2 && !trailing_result_read(req, nreq, 1)) ||
	    !single_count_ok(req)) {
		result = RPMB_RES_GENERAL_FAILURE;
	} else if (rpmb_auth_has_key(dev->auth)) {
		result = RPMB_RES_WRITE_FAILURE;	/* one-time programmable */
	} else {
		ret = rpmb_store_program_key(dev->store, req->key_mac);
		if (!ret)
			ret = load_key(dev);
		if (ret) {
			log_err("rpmb: programming the key failed: %s",
				rpmb_store_last_error(dev->store));
			result = RPMB_RES_WRITE_FAILURE;
		}
	}
	remember(dev, RPMB_RESP_PROGRAM_KEY, result, 0);
	return nreq == 2 ? answer_result(dev, room, sink, false) : 0;
}

static uint16_t check_write(struct rpmb_dev *dev, const struct rpmb_frame *req,
			    size_t n)
{
	uint16_t count = rpmb_frame_block_count(req);
	uint16_t addr = rpmb_frame_address(req);

	if (!rpmb_auth_has_key(dev->auth))
		return RPMB_RES_NO_AUTH_KEY;
	if (!count || count > dev->cfg.max_wr_cnt || count != n)
		return RPMB_RES_GENERAL_FAILURE;
	if (expired(dev))
		return RPMB_RES_WRITE_FAILURE;
	if ((unsigned int)addr + count > dev->nblocks)
		return RPMB_RES_ADDR_FAILURE;
	if (!rpmb_auth_verify(dev->auth, req, n))
		return RPMB_RES_AUTH_FAILURE;
	if (rpmb_frame_counter(req) != counter(dev))
		return RPMB_RES_COUNT_FAILURE;
	return RPMB_RES_OK;
}

static uint16_t do_write(struct rpmb_dev *dev, const struct rpmb_frame *req,
			 size_t n)
{
	uint8_t data[255 * RPMB_BLOCK_SIZE];
	int ret;

	for (size_t i = 0; i < n; i++)
		memcpy(data + i * RPMB_BLOCK_SIZE, req[i].data, RPMB_BLOCK_SIZE);
	ret = rpmb_store_write(dev->store, rpmb_frame_address(req),
			       (unsigned int)n, data, counter(dev) + 1);
	if (ret) {
		log_err("rpmb: write failed: %s", rpmb_store_last_error(dev->store));
		return RPMB_RES_WRITE_FAILURE;
	}
	return RPMB_RES_OK;
}

static size_t data_write(struct rpmb_dev *dev, const struct rpmb_frame *req,
			 size_t nreq, size_t room, const struct rpmb_sink *sink)
{
	size_t n = 0;
	uint16_t result;
	bool want_result;

	while (n < nreq && is_type(&req[n], RPMB_REQ_DATA_WRITE))
		n++;
	want_result = trailing_result_read(req, nreq, n);
	if (n != nreq && !want_result)
		result = RPMB_RES_GENERAL_FAILURE;	/* malformed sequence */
	else
		result = check_write(dev, req, n);
	if (result == RPMB_RES_OK)
		result = do_write(dev, req, n);
	remember(dev, RPMB_RESP_DATA_WRITE, result, rpmb_frame_address(req));
	return n != nreq ? answer_result(dev, room, sink, true) : 0;
}

static size_t get_counter(struct rpmb_dev *dev, const struct rpmb_frame *req,
			  size_t nreq, size_t room, const struct rpmb_sink *sink)
{
	uint16_t result = RPMB_RES_OK;
	struct rpmb_frame resp;

	if (!room)
		return 0;
	if (!rpmb_auth_has_key(dev->auth))
		result = RPMB_RES_NO_AUTH_KEY;
	else if (nreq != 1 || !single_count_ok(req))
		result = RPMB_RES_GENERAL_FAILURE;
	init_resp(&resp, RPMB_RESP_GET_WRITE_COUNTER, with_expiry(dev, result));
	memcpy(resp.nonce, req->nonce, RPMB_NONCE_SIZE);
	if (result == RPMB_RES_OK)
		rpmb_frame_set_counter(&resp, counter(dev));
	return put_one(dev, &resp, sink);
}

static uint16_t check_read(struct rpmb_dev *dev, const struct rpmb_frame *req,
			   size_t nreq, size_t count, size_t room)
{
	bool stated = rpmb_frame_block_count(req) != 0;

	if (!rpmb_auth_has_key(dev->auth))
		return RPMB_RES_NO_AUTH_KEY;
	if (nreq != 1 || !count || count > room ||
	    (stated && count > dev->cfg.max_rd_cnt))
		return RPMB_RES_GENERAL_FAILURE;
	if (rpmb_frame_address(req) + count > dev->nblocks)
		return RPMB_RES_ADDR_FAILURE;
	return RPMB_RES_OK;
}

/*
 * Streams @count response frames: data fetched READ_CHUNK blocks at a
 * time, the MAC accumulated frame by frame and put into the last one.
 * Should the store fail mid-way, that frame and all after it (so the
 * last, which clients check) say READ_FAILURE.
 */
static size_t stream_read(struct rpmb_dev *dev, const struct rpmb_frame *req,
			  size_t count, const struct rpmb_sink *sink)
{
	uint8_t data[READ_CHUNK * RPMB_BLOCK_SIZE];
	uint16_t addr = rpmb_frame_address(req);
	uint16_t result = RPMB_RES_OK;
	struct rpmb_frame resp;
	int ret = rpmb_auth_begin(dev->auth);

	for (size_t i = 0; i < count; i++) {
		size_t in_chunk = i % READ_CHUNK;

		if (!in_chunk && result == RPMB_RES_OK) {
			size_t n = count - i < READ_CHUNK ? count - i : READ_CHUNK;

			if (rpmb_store_read(dev->store, (unsigned int)(addr + i),
					    (unsigned int)n, data)) {
				log_err("rpmb: read failed: %s",
					rpmb_store_last_error(dev->store));
				result = RPMB_RES_READ_FAILURE;
			}
		}
		init_resp(&resp, RPMB_RESP_DATA_READ, with_expiry(dev, result));
		memcpy(resp.nonce, req->nonce, RPMB_NONCE_SIZE);
		rpmb_frame_set_address(&resp, addr);
		rpmb_frame_set_block_count(&resp, (uint16_t)count);
		if (result == RPMB_RES_OK)
			memcpy(resp.data, data + in_chunk * RPMB_BLOCK_SIZE,
			       RPMB_BLOCK_SIZE);
		if (!ret)
			ret = rpmb_auth_update(dev->auth, &resp);
		if (i + 1 == count && !ret)
			ret = rpmb_auth_final(dev->auth, resp.key_mac);
		if (sink->put(sink->opaque, i, &resp))
			return i;
	}
	if (ret)
		log_err("rpmb: cannot compute a response MAC");
	return count;
}

static size_t data_read(struct rpmb_dev *dev, const struct rpmb_frame *req,
			size_t nreq, size_t room, const struct rpmb_sink *sink)
{
	/* Clients send 0 and mean "as many as there is room for". */
	size_t count = rpmb_frame_block_count(req) ?: room;
	uint16_t result;
	struct rpmb_frame resp;

	if (!room)
		return 0;
	result = check_read(dev, req, nreq, count, room);
	if (result == RPMB_RES_OK)
		return stream_read(dev, req, count, sink);
	init_resp(&resp, RPMB_RESP_DATA_READ, with_expiry(dev, result));
	memcpy(resp.nonce, req->nonce, RPMB_NONCE_SIZE);
	rpmb_frame_set_address(&resp, rpmb_frame_address(req));
	rpmb_frame_set_block_count(&resp, 1);
	return put_one(dev, &resp, sink);
}

static size_t result_read(struct rpmb_dev *dev, const struct rpmb_frame *req,
			  size_t nreq, size_t room, const struct rpmb_sink *sink)
{
	struct rpmb_frame resp;

	if (nreq == 1 && single_count_ok(req))
		return answer_result(dev, room, sink, false);
	if (!room)
		return 0;
	init_resp(&resp, dev->last_resp_type,
		  with_expiry(dev, RPMB_RES_GENERAL_FAILURE));
	return put_one(dev, &resp, sink);
}

static size_t unknown_request(struct rpmb_dev *dev, uint16_t type,
			      size_t room, const struct rpmb_sink *sink)
{
	struct rpmb_frame resp;

	if (dev->log)
		guest_log(dev->log, "unknown RPMB request type %#x", type);
	if (!room)
		return 0;
	/* Answer in the response-type slot the request would have had. */
	init_resp(&resp, (uint16_t)((type & 0xff) << 8),
		  with_expiry(dev, RPMB_RES_GENERAL_FAILURE));
	sink->put(sink->opaque, 0, &resp);
	return 1;
}

size_t rpmb_dev_process(struct rpmb_dev *dev,
			const struct rpmb_frame *req, size_t nreq,
			size_t room, const struct rpmb_sink *sink)
{
	uint16_t type;

	if (!nreq || nreq > rpmb_dev_max_req_frames(dev))
		return unknown_request(dev, 0, room, sink);
	type = rpmb_frame_req_resp(req);
	switch (type) {
	case RPMB_REQ_PROGRAM_KEY:
		return program_key(dev, req, nreq, room, sink);
	case RPMB_REQ_GET_WRITE_COUNTER:
		return get_counter(dev, req, nreq, room, sink);
	case RPMB_REQ_DATA_WRITE:
		return data_write(dev, req, nreq, room, sink);
	case RPMB_REQ_DATA_READ:
		return data_read(dev, req, nreq, room, sink);
	case RPMB_REQ_RESULT_READ:
		return result_read(dev, req, nreq, room, sink);
	default:
		return unknown_request(dev, type, room, sink);
	}
}

static int put_in_array(void *opaque, size_t index,
			const struct rpmb_frame *frame)
{
	struct rpmb_frame *resp = opaque;

	resp[index] = *frame;
	return 0;
}

size_t rpmb_dev_process_frames(struct rpmb_dev *dev,
			       const struct rpmb_frame *req, size_t nreq,
			       struct rpmb_frame *resp, size_t resp_cap)
{
	struct rpmb_sink sink = { .put = put_in_array, .opaque = resp };

	return rpmb_dev_process(dev, req, nreq, resp_cap, &sink);
}
