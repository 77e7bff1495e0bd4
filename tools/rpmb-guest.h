/* SPDX-License-Identifier: MIT */
/*
 * rpmb-guest's device access, shared by its command files: one request
 * at a time through the test driver's /dev/vrpmbN, frames built and
 * answers checked with the client models' helpers (tests/lib).
 */
#ifndef RPMB_GUEST_H
#define RPMB_GUEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rpmb-frame.h"
#include "vrpmb-ioctl.h"

#define MAX_FRAMES	256

struct guest {
	int fd;
	uint8_t key[RPMB_KEY_SIZE];
	uint32_t flags;
	struct vrpmb_info info;
	unsigned int nblocks;
	int failures;
	struct rpmb_frame req[MAX_FRAMES], resp[MAX_FRAMES];
};

/* "E2E-RESULT: <name> PASS|FAIL <detail>"; a FAIL counts in failures. */
void report(struct guest *g, const char *name, bool ok, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* One request of @nreq frames in g->req: response bytes, or -errno. */
long xfer(struct guest *g, unsigned int nreq, unsigned int nresp);
uint16_t result(struct guest *g);
long get_counter(struct guest *g, uint32_t *counter);
long program_key(struct guest *g);
/* A signed write of @n blocks with RESULT_READ; @count goes in the frames. */
long write_blocks(struct guest *g, uint16_t addr, uint16_t n, uint16_t count,
		  uint32_t counter, bool forge);
long read_blocks(struct guest *g, uint16_t addr, uint16_t count,
		 unsigned int room);
bool nonce_echoed(struct guest *g, unsigned int n);
/* Response frame @i holds rc_pattern(@addr, @counter). */
bool data_is(struct guest *g, unsigned int i, uint16_t addr, uint32_t counter);
void sign(struct guest *g, struct rpmb_frame *f, size_t n);
bool mac_ok(struct guest *g, const struct rpmb_frame *f, size_t n);

double now_us(void);
int cmp_double(const void *a, const void *b);

/* rpmb-guest-load.c */
int cmd_smp(struct guest *g, unsigned int threads, unsigned int ops);
int cmd_soak(struct guest *g, unsigned int seconds);
int cmd_flood(struct guest *g, unsigned int seconds);

#endif /* RPMB_GUEST_H */
