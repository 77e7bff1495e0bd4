// SPDX-License-Identifier: MIT
/*
 * The client-model framework: frame helpers as a client has them, buffer
 * layouts, sending through a channel, and the table of models.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "rpmb-clients.h"

const uint8_t rc_test_key[RPMB_KEY_SIZE] = {
	0xD3, 0xEB, 0x3E, 0xC3, 0x6E, 0x33, 0x4C, 0x9F,
	0x98, 0x8C, 0xE2, 0xC0, 0xB8, 0x59, 0x54, 0x61,
	0x0D, 0x2B, 0xCF, 0x86, 0x64, 0x84, 0x4D, 0xF2,
	0xAB, 0x56, 0xE6, 0xC6, 0x1B, 0xB7, 0x01, 0xE4,
};

void rc_frame(struct rpmb_frame *f, uint16_t type)
{
	memset(f, 0, sizeof(*f));
	rpmb_frame_set_req_resp(f, type);
}

void rc_request(struct rpmb_frame *f, uint16_t type, uint16_t addr,
		uint16_t count, uint32_t counter)
{
	rc_frame(f, type);
	rpmb_frame_set_address(f, addr);
	rpmb_frame_set_block_count(f, count);
	rpmb_frame_set_counter(f, counter);
}

void rc_mac(const uint8_t *key, const struct rpmb_frame *f, size_t n,
	    uint8_t mac[RPMB_MAC_SIZE])
{
	EVP_MAC *hmac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	EVP_MAC_CTX *ctx = hmac ? EVP_MAC_CTX_new(hmac) : NULL;
	OSSL_PARAM params[] = {
		OSSL_PARAM_construct_utf8_string("digest", (char *)"SHA256", 0),
		OSSL_PARAM_construct_end(),
	};
	size_t len = 0;
	bool ok = ctx && EVP_MAC_init(ctx, key, RPMB_KEY_SIZE, params);

	for (size_t i = 0; ok && i < n; i++)
		ok = EVP_MAC_update(ctx, f[i].data, RPMB_MAC_DATA_LEN);
	ok = ok && EVP_MAC_final(ctx, mac, &len, RPMB_MAC_SIZE) &&
	     len == RPMB_MAC_SIZE;
	EVP_MAC_CTX_free(ctx);
	EVP_MAC_free(hmac);
	if (!ok)
		abort();
}

void rc_sign(const uint8_t *key, struct rpmb_frame *f, size_t n)
{
	rc_mac(key, f, n, f[n - 1].key_mac);
}

bool rc_mac_ok(const uint8_t *key, const struct rpmb_frame *f, size_t n)
{
	uint8_t mac[RPMB_MAC_SIZE];

	rc_mac(key, f, n, mac);
	return !CRYPTO_memcmp(mac, f[n - 1].key_mac, RPMB_MAC_SIZE);
}

void rc_pattern(uint8_t *data, uint16_t addr, uint32_t seed)
{
	for (unsigned int i = 0; i < RPMB_BLOCK_SIZE; i++)
		data[i] = (uint8_t)(addr * 31 + seed * 7 + i);
}

static void add_seg(uint32_t *lens, unsigned int *n, uint32_t len)
{
	if (len && *n < RC_MAX_SEGS)
		lens[(*n)++] = len;
}

void rc_layout_apply(struct rc_xfer *x, enum rc_layout layout,
		     unsigned int ncmd_frames)
{
	x->nout = 0;
	x->nin = 0;
	switch (layout) {
	case RC_LAYOUT_FLAT:
		add_seg(x->out_len, &x->nout, x->nreq * RPMB_FRAME_SIZE);
		add_seg(x->in_len, &x->nin, x->nresp * RPMB_FRAME_SIZE);
		break;
	case RC_LAYOUT_PER_CMD:
		add_seg(x->out_len, &x->nout, ncmd_frames * RPMB_FRAME_SIZE);
		add_seg(x->out_len, &x->nout,
			(x->nreq - ncmd_frames) * RPMB_FRAME_SIZE);
		add_seg(x->in_len, &x->nin, x->nresp * RPMB_FRAME_SIZE);
		break;
	case RC_LAYOUT_PER_FRAME:
		for (unsigned int i = 0; i < x->nreq; i++)
			add_seg(x->out_len, &x->nout, RPMB_FRAME_SIZE);
		for (unsigned int i = 0; i < x->nresp; i++)
			add_seg(x->in_len, &x->nin, RPMB_FRAME_SIZE);
		break;
	}
}

bool rc_check(struct rc_run *r, const char *step, bool ok, const char *fmt, ...)
{
	char detail[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	r->checks++;
	if (!ok)
		r->failures++;
	if (r->report)
		r->report(r->report_opaque, r->client, step, ok, detail);
	return ok;
}

/* xorshift32: nonces differ per request, runs repeat exactly. */
void rc_nonce(struct rc_run *r, uint8_t nonce[RPMB_NONCE_SIZE])
{
	for (unsigned int i = 0; i < RPMB_NONCE_SIZE; i++) {
		r->rng ^= r->rng << 13;
		r->rng ^= r->rng >> 17;
		r->rng ^= r->rng << 5;
		nonce[i] = (uint8_t)r->rng;
	}
}

long rc_send(struct rc_run *r, const struct rpmb_frame *req,
	     unsigned int nreq, unsigned int ncmd, struct rpmb_frame *resp,
	     unsigned int nresp)
{
	struct rc_xfer x = {
		.req = req, .nreq = nreq, .resp = resp, .nresp = nresp,
	};

	/* What a client reads back where the device wrote nothing. */
	if (nresp)
		memset(resp, 0, nresp * sizeof(*resp));
	rc_layout_apply(&x, r->layout, ncmd);
	return r->ch->xfer(r->ch->opaque, &x);
}

const struct rc_client rc_clients[] = {
	{
		.name = "optee",
		.what = "OP-TEE OS 4.10.0 core/tee/tee_rpmb_fs.c, via Linux 6.12 RPMB route_frames",
		.layout = RC_LAYOUT_FLAT,
		.run = rc_run_optee,
	},
	{
		.name = "mmc-utils",
		.what = "mmc-utils 0be5ec7 mmc_cmds.c, one buffer per MMC command (NuttX /dev/rpmb)",
		.layout = RC_LAYOUT_PER_CMD,
		.run = rc_run_mmc_utils,
	},
	{
		.name = "u-boot",
		.what = "U-Boot 6073c36 drivers/mmc/rpmb.c, one buffer per MMC command",
		.layout = RC_LAYOUT_PER_CMD,
		.run = rc_run_uboot,
	},
	{
		.name = "linux-v2",
		.what = "Linux virtio-rpmb v2 driver and tool (unmerged, 2022)",
		.layout = RC_LAYOUT_FLAT,
		.run = rc_run_linux_v2,
	},
	{
		.name = "spec-draft",
		.what = "spec-draft virtio-rpmb driver and tool (Intel, unmerged)",
		.layout = RC_LAYOUT_PER_CMD,
		.run = rc_run_spec_draft,
	},
};

const size_t rc_nclients = sizeof(rc_clients) / sizeof(rc_clients[0]);

const struct rc_client *rc_client_find(const char *name)
{
	for (size_t i = 0; i < rc_nclients; i++)
		if (!strcmp(rc_clients[i].name, name))
			return &rc_clients[i];
	return NULL;
}

unsigned int rc_client_run(const struct rc_client *c,
			   const struct rc_channel *ch, enum rc_layout layout,
			   unsigned int capacity, unsigned int max_wr_cnt,
			   rc_report_fn report, void *opaque)
{
	struct rc_run r = {
		.ch = ch,
		.layout = layout,
		.capacity = capacity,
		.max_wr_cnt = max_wr_cnt,
		.fresh = true,
		.rng = 0x2545f491,
		.report = report,
		.report_opaque = opaque,
		.client = c->name,
	};

	c->run(&r);
	return r.failures;
}
