// SPDX-License-Identifier: MIT
/*
 * Fuzzes the RPMB core with guest-chosen frame sequences: the first byte
 * picks the response room, the rest is whole frames. The store lives in
 * /dev/shm; its key is programmed so authenticated paths are reachable
 * (with a known key, seeds can carry valid MACs).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "rpmb-test-util.h"
#include "rpmb.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct rpmb_store *st;
static struct rpmb_dev *dev;

static void discard(enum vr_log_level level, const char *msg, void *opaque)
{
}

static void setup(void)
{
	char path[64];
	char err[256];
	struct rpmb_store_params p = { .capacity = 1, .max_wr_cnt = 8, .max_rd_cnt = 8 };

	vr_log_set_sink(discard, NULL);
	snprintf(path, sizeof(path), "/dev/shm/fuzz-rpmb-%d.rpmb", getpid());
	unlink(path);
	if (rpmb_store_open(path, RPMB_STORE_CREATE_NEW, &p, &st, err, sizeof(err)))
		abort();
	unlink(path);	/* the open store keeps working; nothing is left behind */
	rpmb_store_program_key(st, rc_test_key);
	dev = rpmb_dev_new(st, NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct rpmb_frame req[9], resp[8];
	size_t nreq;

	if (!dev)
		setup();
	if (size < 1 + RPMB_FRAME_SIZE)
		return 0;
	nreq = (size - 1) / RPMB_FRAME_SIZE;
	if (nreq > 9)
		nreq = 9;
	memcpy(req, data + 1, nreq * RPMB_FRAME_SIZE);
	if (rpmb_dev_process_frames(dev, req, nreq, resp, data[0] % 9) > 8)
		abort();
	return 0;
}
