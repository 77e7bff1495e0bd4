// SPDX-License-Identifier: MIT
/*
 * Replays tests/kat/rpmb-kat.txt and tests/kat/optee-kat.txt (made by
 * tests/kat/make-kat.py, an independent Python model using the hmac
 * module; the second set framed as OP-TEE frames its requests) through
 * the RPMB core on a fresh store and compares every response byte for
 * byte.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "log.h"
#include "rpmb-test-util.h"
#include "rpmb.h"

#define MAX_FRAMES 16

static size_t unhex(const char *s, uint8_t *out, size_t max)
{
	size_t n = 0;

	if (!strcmp(s, "-"))
		return 0;
	for (; s[0] && s[1] && n < max; s += 2) {
		unsigned int byte;

		if (sscanf(s, "%2x", &byte) != 1)
			fail_msg("bad hex in vectors");
		out[n++] = (uint8_t)byte;
	}
	return n;
}

static void replay(const char *path, unsigned int want_steps)
{
	static char line[3 * MAX_FRAMES * 1024 + 256];
	static struct rpmb_frame req[MAX_FRAMES], want[MAX_FRAMES], got[MAX_FRAMES];
	FILE *f = fopen(path, "r");
	char *dir = rt_tempdir();
	struct rpmb_store *st = rt_store(dir, "kat.rpmb", 1, 8, 8);
	struct rpmb_dev *dev = rpmb_dev_new(st, NULL);
	unsigned int steps = 0;

	assert_non_null(f);
	vr_log_set_level(VR_LOG_ERR);
	while (fgets(line, sizeof(line), f)) {
		char name[64], reqhex[sizeof(line)], wanthex[sizeof(line)];
		size_t nreq, nwant, n;
		unsigned int room;

		if (line[0] == '#')
			continue;
		if (sscanf(line, "%63s %u %s %s", name, &room, reqhex, wanthex) != 4)
			fail_msg("malformed vector line");
		nreq = unhex(reqhex, (uint8_t *)req, sizeof(req)) / RPMB_FRAME_SIZE;
		nwant = unhex(wanthex, (uint8_t *)want, sizeof(want)) / RPMB_FRAME_SIZE;
		n = rpmb_dev_process_frames(dev, req, nreq, got, room);
		if (n != nwant)
			fail_msg("%s: %zu response frames, expected %zu", name, n, nwant);
		if (memcmp(got, want, n * RPMB_FRAME_SIZE))
			fail_msg("%s: response differs from the independent model", name);
		steps++;
	}
	fclose(f);
	assert_int_equal(steps, want_steps);
	rpmb_dev_free(dev);
	rpmb_store_close(st);
	rt_rmdir(dir);
}

static void replay_vectors(void **state)
{
	replay("tests/kat/rpmb-kat.txt", 13);
}

static void replay_optee_vectors(void **state)
{
	replay("tests/kat/optee-kat.txt", 6);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(replay_vectors),
		cmocka_unit_test(replay_optee_vectors),
	};

	return cmocka_run_group_tests_name("rpmb-kat", tests, NULL, NULL);
}
