/* SPDX-License-Identifier: MIT */
/*
 * The 512-byte RPMB data frame, as JEDEC JESD84-B51 and the virtio-rpmb
 * device section define it. Multi-byte fields are big-endian on the wire;
 * use the accessors below rather than touching them directly.
 */
#ifndef RPMB_FRAME_H
#define RPMB_FRAME_H

#include <endian.h>
#include <stddef.h>
#include <stdint.h>

#define RPMB_FRAME_SIZE		512
#define RPMB_BLOCK_SIZE		256	/* one "half sector": the address unit */
#define RPMB_KEY_SIZE		32
#define RPMB_MAC_SIZE		32
#define RPMB_NONCE_SIZE		16

/* The MAC covers everything from data[] to the end of each frame. */
#define RPMB_MAC_DATA_OFFSET	228
#define RPMB_MAC_DATA_LEN	(RPMB_FRAME_SIZE - RPMB_MAC_DATA_OFFSET)

/* virtio config "capacity" counts 128 KiB units and may not exceed 0x80. */
#define RPMB_CAPACITY_UNIT	(128 * 1024)
#define RPMB_CAPACITY_MAX	128
#define RPMB_BLOCKS_PER_UNIT	(RPMB_CAPACITY_UNIT / RPMB_BLOCK_SIZE)

enum rpmb_req_type {
	RPMB_REQ_PROGRAM_KEY		= 0x0001,
	RPMB_REQ_GET_WRITE_COUNTER	= 0x0002,
	RPMB_REQ_DATA_WRITE		= 0x0003,
	RPMB_REQ_DATA_READ		= 0x0004,
	RPMB_REQ_RESULT_READ		= 0x0005,
};

enum rpmb_resp_type {
	RPMB_RESP_PROGRAM_KEY		= 0x0100,
	RPMB_RESP_GET_WRITE_COUNTER	= 0x0200,
	RPMB_RESP_DATA_WRITE		= 0x0300,
	RPMB_RESP_DATA_READ		= 0x0400,
};

enum rpmb_result {
	RPMB_RES_OK			= 0x0000,
	RPMB_RES_GENERAL_FAILURE	= 0x0001,
	RPMB_RES_AUTH_FAILURE		= 0x0002,
	RPMB_RES_COUNT_FAILURE		= 0x0003,
	RPMB_RES_ADDR_FAILURE		= 0x0004,
	RPMB_RES_WRITE_FAILURE		= 0x0005,
	RPMB_RES_READ_FAILURE		= 0x0006,
	RPMB_RES_NO_AUTH_KEY		= 0x0007,
	RPMB_RES_WRITE_COUNTER_EXPIRED	= 0x0080,	/* a flag, ORed in */
};

#define RPMB_COUNTER_MAX	UINT32_MAX

struct rpmb_frame {
	uint8_t  stuff[196];
	uint8_t  key_mac[RPMB_MAC_SIZE];
	uint8_t  data[RPMB_BLOCK_SIZE];
	uint8_t  nonce[RPMB_NONCE_SIZE];
	uint32_t be_write_counter;
	uint16_t be_address;
	uint16_t be_block_count;
	uint16_t be_result;
	uint16_t be_req_resp;
};

_Static_assert(sizeof(struct rpmb_frame) == RPMB_FRAME_SIZE, "frame size");
_Static_assert(offsetof(struct rpmb_frame, data) == RPMB_MAC_DATA_OFFSET,
	       "MAC region");
_Static_assert(offsetof(struct rpmb_frame, be_req_resp) == 510, "layout");

static inline uint32_t rpmb_frame_counter(const struct rpmb_frame *f)
{
	return be32toh(f->be_write_counter);
}

static inline uint16_t rpmb_frame_address(const struct rpmb_frame *f)
{
	return be16toh(f->be_address);
}

static inline uint16_t rpmb_frame_block_count(const struct rpmb_frame *f)
{
	return be16toh(f->be_block_count);
}

static inline uint16_t rpmb_frame_result(const struct rpmb_frame *f)
{
	return be16toh(f->be_result);
}

static inline uint16_t rpmb_frame_req_resp(const struct rpmb_frame *f)
{
	return be16toh(f->be_req_resp);
}

static inline void rpmb_frame_set_counter(struct rpmb_frame *f, uint32_t v)
{
	f->be_write_counter = htobe32(v);
}

static inline void rpmb_frame_set_address(struct rpmb_frame *f, uint16_t v)
{
	f->be_address = htobe16(v);
}

static inline void rpmb_frame_set_block_count(struct rpmb_frame *f, uint16_t v)
{
	f->be_block_count = htobe16(v);
}

static inline void rpmb_frame_set_result(struct rpmb_frame *f, uint16_t v)
{
	f->be_result = htobe16(v);
}

static inline void rpmb_frame_set_req_resp(struct rpmb_frame *f, uint16_t v)
{
	f->be_req_resp = htobe16(v);
}

#endif /* RPMB_FRAME_H */
