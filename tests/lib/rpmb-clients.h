/* SPDX-License-Identifier: MIT */
/*
 * Models of real RPMB clients, for replaying what they send and checking
 * answers the way they check them. Each model is written from the
 * client's own source (facts, not code: see README "Real clients"): which
 * fields it fills in each frame, how it lays a request out in buffers,
 * and which response fields it verifies. A model runs against a channel,
 * so the same sequence goes to the RPMB core, through the virtio device
 * with a simulated guest, and through a real guest's driver.
 *
 * Shared by the unit tests and by rpmb-guest (which runs in e2e guests),
 * so it depends only on rpmb-frame.h and OpenSSL.
 */
#ifndef RPMB_CLIENTS_H
#define RPMB_CLIENTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rpmb-frame.h"

/* OP-TEE's public test key (CFG_RPMB_TESTKEY): every model uses it. */
extern const uint8_t rc_test_key[RPMB_KEY_SIZE];

/* --- frames, as a client builds and checks them ----------------------- */

/* A zeroed frame with only the request type set. */
void rc_frame(struct rpmb_frame *f, uint16_t type);
/* The same with address, block_count and write_counter set too. */
void rc_request(struct rpmb_frame *f, uint16_t type, uint16_t addr,
		uint16_t count, uint32_t counter);
/* HMAC-SHA256 (OpenSSL one-shot, not the device's code) over bytes
 * 228..511 of @n frames. */
void rc_mac(const uint8_t *key, const struct rpmb_frame *f, size_t n,
	    uint8_t mac[RPMB_MAC_SIZE]);
void rc_sign(const uint8_t *key, struct rpmb_frame *f, size_t n);
/* Constant-time check of the MAC in the last of @n frames. */
bool rc_mac_ok(const uint8_t *key, const struct rpmb_frame *f, size_t n);
/* Recognisable block contents derived from (address, seed). */
void rc_pattern(uint8_t *data, uint16_t addr, uint32_t seed);

/* --- how a request travels ------------------------------------------- */

/* Enough for one buffer per frame of the longest model request. */
#define RC_MAX_SEGS	80

/*
 * One request as a client's frontend submits it: the request frames,
 * room for the response, and where the buffer boundaries fall (lengths in
 * bytes of the device-readable segments, then of the device-writable
 * ones). Transports that know no buffers (the core) ignore the segments.
 */
struct rc_xfer {
	const struct rpmb_frame *req;
	unsigned int nreq;
	struct rpmb_frame *resp;
	unsigned int nresp;
	unsigned int nout, nin;
	uint32_t out_len[RC_MAX_SEGS];
	uint32_t in_len[RC_MAX_SEGS];
};

struct rc_channel {
	/* Sends @x; returns the bytes the device wrote, or a negative errno. */
	long (*xfer)(void *opaque, const struct rc_xfer *x);
	/*
	 * Optional, test builds only: move the store's counter to @counter
	 * behind the device's back (to reach expiry without 4 billion
	 * writes). NULL where that cannot be done (a real guest).
	 */
	int (*set_counter)(void *opaque, uint32_t counter);
	void *opaque;
};

/* The descriptor layouts real frontends use (see rc_layout_apply). */
enum rc_layout {
	/*
	 * All request frames in one readable buffer, the whole response in
	 * one writable buffer: Linux's RPMB route_frames through a virtio
	 * driver (OP-TEE's in-kernel path) and the v2 Linux virtio-rpmb
	 * driver.
	 */
	RC_LAYOUT_FLAT,
	/*
	 * One buffer per MMC command: the frames of a command in one
	 * readable buffer, an appended RESULT_READ in its own, the response
	 * in one writable buffer (NuttX's virtio-rpmb driver, which carries
	 * MMC ioctl command lists; mmc-utils and U-Boot style requests).
	 */
	RC_LAYOUT_PER_CMD,
	/* One buffer per 512-byte frame, both ways (the spec-draft driver). */
	RC_LAYOUT_PER_FRAME,
};

/*
 * Fills @x's segments for @layout. @ncmd_frames is how many of the
 * request frames belong to the first command (the rest, at most one
 * RESULT_READ, are a command of their own).
 */
void rc_layout_apply(struct rc_xfer *x, enum rc_layout layout,
		     unsigned int ncmd_frames);

/* --- running a model --------------------------------------------------- */

struct rc_run;
typedef void (*rc_report_fn)(void *opaque, const char *client,
			     const char *step, bool ok, const char *detail);

struct rc_run {
	const struct rc_channel *ch;
	enum rc_layout layout;
	/* What the client learns of the device (config space or CID/EXT_CSD). */
	unsigned int capacity;		/* 128 KiB units */
	unsigned int max_wr_cnt;
	/* The device starts blank (no key); false: the key is programmed. */
	bool fresh;
	uint32_t rng;			/* nonces: deterministic per run */
	rc_report_fn report;
	void *report_opaque;
	const char *client;
	unsigned int failures;
	unsigned int checks;
};

struct rc_client {
	const char *name;
	const char *what;		/* version and path looked at */
	enum rc_layout layout;		/* the frontend it is carried by */
	/* Runs the whole sequence; returns the number of failed checks. */
	unsigned int (*run)(struct rc_run *r);
};

extern const struct rc_client rc_clients[];
extern const size_t rc_nclients;

const struct rc_client *rc_client_find(const char *name);

/*
 * Runs @c through @ch. A fresh device (no key) is expected: the models
 * start from first boot. Returns the number of failed checks.
 */
unsigned int rc_client_run(const struct rc_client *c,
			   const struct rc_channel *ch, enum rc_layout layout,
			   unsigned int capacity, unsigned int max_wr_cnt,
			   rc_report_fn report, void *opaque);

/* --- helpers for the models (rpmb-clients.c) --------------------------- */

bool rc_check(struct rc_run *r, const char *step, bool ok,
	      const char *fmt, ...) __attribute__((format(printf, 4, 5)));
void rc_nonce(struct rc_run *r, uint8_t nonce[RPMB_NONCE_SIZE]);
/* Sends @nreq frames (the first @ncmd of them one command) with room for
 * @nresp; returns the used length. */
long rc_send(struct rc_run *r, const struct rpmb_frame *req,
	     unsigned int nreq, unsigned int ncmd, struct rpmb_frame *resp,
	     unsigned int nresp);

unsigned int rc_run_optee(struct rc_run *r);
unsigned int rc_run_mmc_utils(struct rc_run *r);
unsigned int rc_run_uboot(struct rc_run *r);
unsigned int rc_run_linux_v2(struct rc_run *r);
unsigned int rc_run_spec_draft(struct rc_run *r);

#endif /* RPMB_CLIENTS_H */
