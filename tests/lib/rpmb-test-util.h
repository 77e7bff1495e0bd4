/* SPDX-License-Identifier: MIT */
/*
 * Test helpers: temporary directories and stores. Building, signing and
 * checking frames as a client would is in rpmb-clients.h.
 */
#ifndef RPMB_TEST_UTIL_H
#define RPMB_TEST_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rpmb-clients.h"
#include "rpmb-frame.h"
#include "rpmb-store.h"

/* A fresh directory for stores; removed with everything in it by rt_rmdir. */
char *rt_tempdir(void);
void rt_rmdir(char *dir);

/* Creates a new store "<dir>/<name>"; fails the test on error. */
struct rpmb_store *rt_store(const char *dir, const char *name,
			    unsigned int capacity, unsigned int max_wr,
			    unsigned int max_rd);

#endif /* RPMB_TEST_UTIL_H */
