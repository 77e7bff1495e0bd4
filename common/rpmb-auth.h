/* SPDX-License-Identifier: MIT */
/* HMAC-SHA256 over RPMB frames, keyed once per device. */
#ifndef RPMB_AUTH_H
#define RPMB_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rpmb-frame.h"

struct rpmb_auth;

struct rpmb_auth *rpmb_auth_new(void);
/* Frees and wipes the key schedule. NULL is fine. */
void rpmb_auth_free(struct rpmb_auth *a);
int rpmb_auth_set_key(struct rpmb_auth *a, const uint8_t key[RPMB_KEY_SIZE]);
bool rpmb_auth_has_key(const struct rpmb_auth *a);

/* MAC over bytes 228..511 of each of @n frames, in order. */
int rpmb_auth_mac(struct rpmb_auth *a, const struct rpmb_frame *frames,
		  size_t n, uint8_t mac[RPMB_MAC_SIZE]);

/*
 * The same MAC, one frame at a time: for responses too long to build in
 * memory at once. begin, then update per frame, then final.
 */
int rpmb_auth_begin(struct rpmb_auth *a);
int rpmb_auth_update(struct rpmb_auth *a, const struct rpmb_frame *frame);
int rpmb_auth_final(struct rpmb_auth *a, uint8_t mac[RPMB_MAC_SIZE]);

/* Constant-time check of the MAC in the last of @n frames. */
bool rpmb_auth_verify(struct rpmb_auth *a, const struct rpmb_frame *frames,
		      size_t n);

#endif /* RPMB_AUTH_H */
