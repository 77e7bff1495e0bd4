/* SPDX-License-Identifier: MIT */
/*
 * Test helpers: temporary stores, and building/signing RPMB frames the
 * way a guest would (HMAC through OpenSSL's one-shot EVP_Q_mac, a path
 * separate from the device's keyed context).
 */
#ifndef RPMB_TEST_UTIL_H
#define RPMB_TEST_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rpmb-frame.h"
#include "rpmb-store.h"

extern const uint8_t rt_key[RPMB_KEY_SIZE];

/* A fresh directory for stores; removed with everything in it by rt_rmdir. */
char *rt_tempdir(void);
void rt_rmdir(char *dir);

/* Creates a new store "<dir>/<name>"; fails the test on error. */
struct rpmb_store *rt_store(const char *dir, const char *name,
			    unsigned int capacity, unsigned int max_wr,
			    unsigned int max_rd);

void rt_frame(struct rpmb_frame *f, uint16_t type, uint16_t addr,
	      uint16_t count, uint32_t counter);
void rt_mac(const uint8_t *key, const struct rpmb_frame *f, size_t n,
	    uint8_t mac[RPMB_MAC_SIZE]);
void rt_sign(const uint8_t *key, struct rpmb_frame *f, size_t n);
bool rt_mac_ok(const uint8_t *key, const struct rpmb_frame *f, size_t n);

/* Fills block data with a pattern derived from (addr, seed). */
void rt_pattern(uint8_t *data, uint16_t addr, uint32_t seed);

#endif /* RPMB_TEST_UTIL_H */
