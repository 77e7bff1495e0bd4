// SPDX-License-Identifier: MIT
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "rpmb-test-util.h"

/* OP-TEE's public test key (CFG_RPMB_TESTKEY). */
const uint8_t rt_key[RPMB_KEY_SIZE] = {
	0xD3, 0xEB, 0x3E, 0xC3, 0x6E, 0x33, 0x4C, 0x9F,
	0x98, 0x8C, 0xE2, 0xC0, 0xB8, 0x59, 0x54, 0x61,
	0x0D, 0x2B, 0xCF, 0x86, 0x64, 0x84, 0x4D, 0xF2,
	0xAB, 0x56, 0xE6, 0xC6, 0x1B, 0xB7, 0x01, 0xE4,
};

char *rt_tempdir(void)
{
	const char *base = getenv("TMPDIR");
	char *dir;

	if (asprintf(&dir, "%s/rpmb-test-XXXXXX", base ? base : "/tmp") < 0)
		abort();
	if (!mkdtemp(dir))
		abort();
	return dir;
}

static int rm_entry(const char *path, const struct stat *sb, int flag,
		    struct FTW *ftw)
{
	return remove(path);
}

void rt_rmdir(char *dir)
{
	nftw(dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
	free(dir);
}

struct rpmb_store *rt_store(const char *dir, const char *name,
			    unsigned int capacity, unsigned int max_wr,
			    unsigned int max_rd)
{
	struct rpmb_store_params p = {
		.capacity = capacity, .max_wr_cnt = max_wr, .max_rd_cnt = max_rd,
	};
	struct rpmb_store *st;
	char path[512], err[256];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (rpmb_store_open(path, RPMB_STORE_CREATE_NEW, &p, &st, err, sizeof(err))) {
		fprintf(stderr, "rt_store: %s\n", err);
		abort();
	}
	return st;
}

void rt_frame(struct rpmb_frame *f, uint16_t type, uint16_t addr,
	      uint16_t count, uint32_t counter)
{
	memset(f, 0, sizeof(*f));
	rpmb_frame_set_req_resp(f, type);
	rpmb_frame_set_address(f, addr);
	rpmb_frame_set_block_count(f, count);
	rpmb_frame_set_counter(f, counter);
}

void rt_mac(const uint8_t *key, const struct rpmb_frame *f, size_t n,
	    uint8_t mac[RPMB_MAC_SIZE])
{
	uint8_t *buf = malloc(n * RPMB_MAC_DATA_LEN);
	size_t len;

	for (size_t i = 0; i < n; i++)
		memcpy(buf + i * RPMB_MAC_DATA_LEN, f[i].data, RPMB_MAC_DATA_LEN);
	if (!EVP_Q_mac(NULL, "HMAC", NULL, "SHA256", NULL, key, RPMB_KEY_SIZE,
		       buf, n * RPMB_MAC_DATA_LEN, mac, RPMB_MAC_SIZE, &len))
		abort();
	free(buf);
}

void rt_sign(const uint8_t *key, struct rpmb_frame *f, size_t n)
{
	rt_mac(key, f, n, f[n - 1].key_mac);
}

bool rt_mac_ok(const uint8_t *key, const struct rpmb_frame *f, size_t n)
{
	uint8_t mac[RPMB_MAC_SIZE];

	rt_mac(key, f, n, mac);
	return !memcmp(mac, f[n - 1].key_mac, RPMB_MAC_SIZE);
}

void rt_pattern(uint8_t *data, uint16_t addr, uint32_t seed)
{
	for (unsigned int i = 0; i < RPMB_BLOCK_SIZE; i++)
		data[i] = (uint8_t)(addr * 31 + seed * 7 + i);
}
