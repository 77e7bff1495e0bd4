// SPDX-License-Identifier: MIT
/*
 * I/O fault injection: a SQLite VFS test double under a real store makes
 * the Nth write or fsync fail (EIO, ENOSPC). Every such failure must give
 * WRITE_FAILURE and leave key, counter and data as they were: through the
 * same device, and after the store is closed and opened again.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "faulty-vfs.h"
#include "log.h"
#include "rpmb-test-util.h"
#include "rpmb.h"

static const char *op_name[] = { "write", "write (disk full)", "fsync" };

static struct rpmb_store *open_faulty(const char *path)
{
	struct rpmb_store *st;
	char err[256];

	assert_int_equal(rpmb_store_open_vfs(path, RPMB_STORE_OPEN_EXISTING, NULL,
					     FAULTY_VFS_NAME, &st, err, sizeof(err)), 0);
	return st;
}

static uint16_t program(struct rpmb_dev *dev)
{
	struct rpmb_frame req[2], resp;

	rt_frame(&req[0], RPMB_REQ_PROGRAM_KEY, 0, 1, 0);
	memcpy(req[0].key_mac, rt_key, RPMB_KEY_SIZE);
	rt_frame(&req[1], RPMB_REQ_RESULT_READ, 0, 1, 0);
	assert_int_equal(rpmb_dev_process(dev, req, 2, &resp, 1), 1);
	return rpmb_frame_result(&resp);
}

static uint16_t write2(struct rpmb_dev *dev, uint32_t counter, uint32_t seed)
{
	struct rpmb_frame req[3], resp;

	for (int i = 0; i < 2; i++) {
		rt_frame(&req[i], RPMB_REQ_DATA_WRITE, 20, 2, counter);
		rt_pattern(req[i].data, (uint16_t)(20 + i), seed);
	}
	rt_sign(rt_key, req, 2);
	rt_frame(&req[2], RPMB_REQ_RESULT_READ, 0, 1, 0);
	assert_int_equal(rpmb_dev_process(dev, req, 3, &resp, 1), 1);
	return rpmb_frame_result(&resp);
}

static void assert_state(struct rpmb_store *st, bool key, uint32_t counter,
			 uint32_t seed)
{
	struct rpmb_store_info info;
	uint8_t got[2 * RPMB_BLOCK_SIZE], want[2 * RPMB_BLOCK_SIZE];

	rpmb_store_get_info(st, &info);
	assert_int_equal(info.key_programmed, key);
	assert_int_equal(info.write_counter, counter);
	assert_int_equal(rpmb_store_read(st, 20, 2, got), 0);
	if (seed) {
		rt_pattern(want, 20, seed);
		rt_pattern(want + RPMB_BLOCK_SIZE, 21, seed);
	} else {
		memset(want, 0, sizeof(want));
	}
	assert_memory_equal(got, want, sizeof(want));
}

static void reopen_and_check(const char *path, bool key, uint32_t counter,
			     uint32_t seed)
{
	struct rpmb_store *st;
	char err[256];

	assert_int_equal(rpmb_store_open(path, RPMB_STORE_OPEN_EXISTING, NULL,
					 &st, err, sizeof(err)), 0);
	assert_state(st, key, counter, seed);
	rpmb_store_close(st);
}

static void failing_data_writes(void **state)
{
	unsigned int injected = 0;

	for (int op = FAULTY_WRITE; op <= FAULTY_SYNC; op++) {
		for (unsigned int nth = 1; nth < 20; nth++) {
			char *dir = rt_tempdir(), path[512];
			struct rpmb_store *st;
			struct rpmb_dev *dev;
			uint16_t res;

			rpmb_store_close(rt_store(dir, "f.rpmb", 1, 4, 4));
			snprintf(path, sizeof(path), "%s/f.rpmb", dir);
			st = open_faulty(path);
			dev = rpmb_dev_new(st);
			assert_int_equal(program(dev), RPMB_RES_OK);
			assert_int_equal(write2(dev, 0, 1), RPMB_RES_OK);

			faulty_vfs_arm((enum faulty_op)op, nth);
			res = write2(dev, 1, 2);
			if (!faulty_vfs_fired()) {
				/* Past the last I/O of a write: it succeeded. */
				assert_int_equal(res, RPMB_RES_OK);
				faulty_vfs_disarm();
				rpmb_dev_free(dev);
				rpmb_store_close(st);
				rt_rmdir(dir);
				break;
			}
			faulty_vfs_disarm();
			injected++;
			if (res != RPMB_RES_WRITE_FAILURE)
				fail_msg("%s #%u: result %#x", op_name[op], nth, res);
			assert_state(st, true, 1, 1);
			/* The device still works, and the retry succeeds. */
			assert_int_equal(write2(dev, 1, 3), RPMB_RES_OK);
			assert_state(st, true, 2, 3);
			rpmb_dev_free(dev);
			rpmb_store_close(st);
			reopen_and_check(path, true, 2, 3);
			rt_rmdir(dir);
		}
	}
	printf("injected %u write/fsync failures\n", injected);
	assert_true(injected >= 3);
}

static void failing_write_not_replayed_after_reopen(void **state)
{
	char *dir = rt_tempdir(), path[512];
	struct rpmb_store *st;
	struct rpmb_dev *dev;

	rpmb_store_close(rt_store(dir, "g.rpmb", 1, 4, 4));
	snprintf(path, sizeof(path), "%s/g.rpmb", dir);
	st = open_faulty(path);
	dev = rpmb_dev_new(st);
	assert_int_equal(program(dev), RPMB_RES_OK);
	/* The commit's fsync fails after the WAL frames were written. */
	faulty_vfs_arm(FAULTY_SYNC, 1);
	assert_int_equal(write2(dev, 0, 5), RPMB_RES_WRITE_FAILURE);
	faulty_vfs_disarm();
	rpmb_dev_free(dev);
	rpmb_store_close(st);
	reopen_and_check(path, true, 0, 0);
	rt_rmdir(dir);
}

static void failing_key_programming(void **state)
{
	unsigned int injected = 0;

	for (int op = FAULTY_WRITE; op <= FAULTY_SYNC; op++) {
		for (unsigned int nth = 1; nth < 10; nth++) {
			char *dir = rt_tempdir(), path[512];
			struct rpmb_store *st;
			struct rpmb_dev *dev;
			uint16_t res;

			rpmb_store_close(rt_store(dir, "k.rpmb", 1, 4, 4));
			snprintf(path, sizeof(path), "%s/k.rpmb", dir);
			st = open_faulty(path);
			dev = rpmb_dev_new(st);
			faulty_vfs_arm((enum faulty_op)op, nth);
			res = program(dev);
			if (!faulty_vfs_fired()) {
				faulty_vfs_disarm();
				assert_int_equal(res, RPMB_RES_OK);
				rpmb_dev_free(dev);
				rpmb_store_close(st);
				rt_rmdir(dir);
				break;
			}
			faulty_vfs_disarm();
			injected++;
			assert_int_equal(res, RPMB_RES_WRITE_FAILURE);
			assert_state(st, false, 0, 0);
			rpmb_dev_free(dev);
			rpmb_store_close(st);
			reopen_and_check(path, false, 0, 0);
			rt_rmdir(dir);
		}
	}
	assert_true(injected >= 3);
}

static void discard_log(enum vr_log_level level, const char *msg, void *opaque)
{
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(failing_data_writes),
		cmocka_unit_test(failing_write_not_replayed_after_reopen),
		cmocka_unit_test(failing_key_programming),
	};

	if (faulty_vfs_register())
		return 1;
	/* The faults are expected; their log lines would only be noise. */
	vr_log_set_sink(discard_log, NULL);
	return cmocka_run_group_tests_name("store-faults", tests, NULL, NULL);
}
