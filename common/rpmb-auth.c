// SPDX-License-Identifier: MIT
/*
 * The HMAC context is keyed once; each MAC re-initialises it with a NULL
 * key, which OpenSSL 3 takes as "same key again" and which avoids
 * re-deriving the key pads for every frame sequence.
 */
#include <errno.h>
#include <stdlib.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include "rpmb-auth.h"

struct rpmb_auth {
	EVP_MAC *mac;
	EVP_MAC_CTX *ctx;
	bool keyed;
};

struct rpmb_auth *rpmb_auth_new(void)
{
	struct rpmb_auth *a = calloc(1, sizeof(*a));

	if (!a)
		return NULL;
	a->mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	a->ctx = a->mac ? EVP_MAC_CTX_new(a->mac) : NULL;
	if (!a->ctx) {
		rpmb_auth_free(a);
		return NULL;
	}
	return a;
}

void rpmb_auth_free(struct rpmb_auth *a)
{
	if (!a)
		return;
	EVP_MAC_CTX_free(a->ctx);	/* cleanses the HMAC key state */
	EVP_MAC_free(a->mac);
	free(a);
}

int rpmb_auth_set_key(struct rpmb_auth *a, const uint8_t key[RPMB_KEY_SIZE])
{
	OSSL_PARAM params[] = {
		OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
						 (char *)"SHA256", 0),
		OSSL_PARAM_construct_end(),
	};

	if (!EVP_MAC_init(a->ctx, key, RPMB_KEY_SIZE, params))
		return -EIO;
	a->keyed = true;
	return 0;
}

bool rpmb_auth_has_key(const struct rpmb_auth *a)
{
	return a->keyed;
}

int rpmb_auth_begin(struct rpmb_auth *a)
{
	return a->keyed && EVP_MAC_init(a->ctx, NULL, 0, NULL) ? 0 : -EIO;
}

int rpmb_auth_update(struct rpmb_auth *a, const struct rpmb_frame *frame)
{
	return EVP_MAC_update(a->ctx, frame->data, RPMB_MAC_DATA_LEN) ? 0 : -EIO;
}

int rpmb_auth_final(struct rpmb_auth *a, uint8_t mac[RPMB_MAC_SIZE])
{
	size_t len = 0;

	if (!EVP_MAC_final(a->ctx, mac, &len, RPMB_MAC_SIZE) ||
	    len != RPMB_MAC_SIZE)
		return -EIO;
	return 0;
}

int rpmb_auth_mac(struct rpmb_auth *a, const struct rpmb_frame *frames,
		  size_t n, uint8_t mac[RPMB_MAC_SIZE])
{
	int ret = rpmb_auth_begin(a);

	for (size_t i = 0; !ret && i < n; i++)
		ret = rpmb_auth_update(a, &frames[i]);
	return ret ? ret : rpmb_auth_final(a, mac);
}

bool rpmb_auth_verify(struct rpmb_auth *a, const struct rpmb_frame *frames,
		      size_t n)
{
	uint8_t mac[RPMB_MAC_SIZE];
	bool ok;

	if (!n || rpmb_auth_mac(a, frames, n, mac))
		return false;
	ok = !CRYPTO_memcmp(mac, frames[n - 1].key_mac, RPMB_MAC_SIZE);
	OPENSSL_cleanse(mac, sizeof(mac));
	return ok;
}
