// SPDX-License-Identifier: MIT
/*
 * I/O fault injection: a SQLite VFS test double under a real store makes
 * the Nth write or fsync fail (EIO, ENOSPC). Every such failure must give
 * WRITE_FAILURE and leave key, counter and data as they were: through the
 * same device, after the store is closed and opened again, and in a copy
 * of the files taken right after the failure (a crash at that moment).
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

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

	rc_request(&req[0], RPMB_REQ_PROGRAM_KEY, 0, 1, 0);
	memcpy(req[0].key_mac, rc_test_key, RPMB_KEY_SIZE);
	rc_request(&req[1], RPMB_REQ_RESULT_READ, 0, 1, 0);
	assert_int_equal(rpmb_dev_process_frames(dev, req, 2, &resp, 1), 1);
	return rpmb_frame_result(&resp);
}

static uint16_t write2(struct rpmb_dev *dev, uint32_t counter, uint32_t seed)
{
	struct rpmb_frame req[3], resp;

	for (int i = 0; i < 2; i++) {
		rc_request(&req[i], RPMB_REQ_DATA_WRITE, 20, 2, counter);
		rc_pattern(req[i].data, (uint16_t)(20 + i), seed);
	}
	rc_sign(rc_test_key, req, 2);
	rc_request(&req[2], RPMB_REQ_RESULT_READ, 0, 1, 0);
	assert_int_equal(rpmb_dev_process_frames(dev, req, 3, &resp, 1), 1);
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
		rc_pattern(want, 20, seed);
		rc_pattern(want + RPMB_BLOCK_SIZE, 21, seed);
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

/*
 * Copies @from into @to opened with @flags (a new file, or the same
 * inode rewritten); a missing @from copies nothing.
 */
static void copy_file_flags(const char *from, const char *to, int flags)
{
	char buf[65536];
	int in = open(from, O_RDONLY), out;
	ssize_t n;

	if (in < 0) {
		assert_int_equal(errno, ENOENT);
		return;
	}
	out = open(to, O_WRONLY | flags, 0600);
	assert_true(out >= 0);
	while ((n = read(in, buf, sizeof(buf))) > 0)
		assert_int_equal(write(out, buf, (size_t)n), n);
	assert_int_equal(n, 0);
	close(in);
	close(out);
}

static void copy_file(const char *from, const char *to)
{
	copy_file_flags(from, to, O_CREAT | O_EXCL);
}

/*
 * The store's files as they are now, copied aside and opened: what a
 * restart would find had the process been killed at this moment. A WAL
 * still holding a failed commit would be replayed here.
 */
static void crash_image_check(const char *path, bool key, uint32_t counter,
			      uint32_t seed)
{
	char snap[600], from[600], to[620];

	snprintf(snap, sizeof(snap), "%s.snap", path);
	copy_file(path, snap);
	snprintf(from, sizeof(from), "%s-wal", path);
	snprintf(to, sizeof(to), "%s-wal", snap);
	copy_file(from, to);
	reopen_and_check(snap, key, counter, seed);
	unlink(snap);
	unlink(to);
}

/* A fresh store opened through the faulty VFS, with a device on it. */
struct faulty_dev {
	char *dir;
	char path[512];
	struct rpmb_store *st;
	struct rpmb_dev *dev;
};

static void faulty_dev_open(struct faulty_dev *f)
{
	f->dir = rt_tempdir();
	rpmb_store_close(rt_store(f->dir, "f.rpmb", 1, 4, 4));
	snprintf(f->path, sizeof(f->path), "%s/f.rpmb", f->dir);
	f->st = open_faulty(f->path);
	f->dev = rpmb_dev_new(f->st, NULL);
}

static void faulty_dev_close(struct faulty_dev *f)
{
	rpmb_dev_free(f->dev);
	rpmb_store_close(f->st);
}

/* Key programmed and one write done: key, counter 1, data of seed 1. */
static void prepare_written(struct faulty_dev *f)
{
	assert_int_equal(program(f->dev), RPMB_RES_OK);
	assert_int_equal(write2(f->dev, 0, 1), RPMB_RES_OK);
}

static uint16_t second_write(struct faulty_dev *f)
{
	return write2(f->dev, 1, 2);
}

/* After a failed second write: nothing changed, and a retry works. */
static void check_after_failed_write(struct faulty_dev *f)
{
	assert_state(f->st, true, 1, 1);
	crash_image_check(f->path, true, 1, 1);
	assert_int_equal(write2(f->dev, 1, 3), RPMB_RES_OK);
	assert_state(f->st, true, 2, 3);
	faulty_dev_close(f);
	reopen_and_check(f->path, true, 2, 3);
}

static uint16_t program_only(struct faulty_dev *f)
{
	return program(f->dev);
}

static void check_after_failed_program(struct faulty_dev *f)
{
	assert_state(f->st, false, 0, 0);
	crash_image_check(f->path, false, 0, 0);
	faulty_dev_close(f);
	reopen_and_check(f->path, false, 0, 0);
}

/*
 * Fails the 1st, 2nd, ... write or fsync of @action, for each kind of
 * fault, until @action no longer does that much I/O. Returns how many
 * faults were injected.
 */
static unsigned int inject_each(void (*prepare)(struct faulty_dev *),
				uint16_t (*action)(struct faulty_dev *),
				void (*check)(struct faulty_dev *))
{
	unsigned int injected = 0;

	for (int op = FAULTY_WRITE; op <= FAULTY_SYNC; op++) {
		for (unsigned int nth = 1; nth < 20; nth++) {
			struct faulty_dev f;
			uint16_t res;
			bool fired;

			faulty_dev_open(&f);
			if (prepare)
				prepare(&f);
			faulty_vfs_arm((enum faulty_op)op, nth);
			res = action(&f);
			fired = faulty_vfs_fired();
			faulty_vfs_disarm();
			if (!fired) {
				/* Past the action's last I/O: it succeeded. */
				assert_int_equal(res, RPMB_RES_OK);
				faulty_dev_close(&f);
				rt_rmdir(f.dir);
				break;
			}
			injected++;
			if (res != RPMB_RES_WRITE_FAILURE)
				fail_msg("%s #%u: result %#x", op_name[op], nth, res);
			check(&f);
			rt_rmdir(f.dir);
		}
	}
	return injected;
}

static void failing_data_writes(void **state)
{
	unsigned int injected = inject_each(prepare_written, second_write,
					    check_after_failed_write);

	printf("injected %u write/fsync failures into data writes\n", injected);
	assert_true(injected >= 3);
}

static void failing_write_not_replayed_after_reopen(void **state)
{
	struct faulty_dev f;

	faulty_dev_open(&f);
	assert_int_equal(program(f.dev), RPMB_RES_OK);
	/* The commit's fsync fails after the WAL frames were written. */
	faulty_vfs_arm(FAULTY_SYNC, 1);
	assert_int_equal(write2(f.dev, 0, 5), RPMB_RES_WRITE_FAILURE);
	faulty_vfs_disarm();
	faulty_dev_close(&f);
	reopen_and_check(f.path, true, 0, 0);
	rt_rmdir(f.dir);
}

/*
 * The file under an open store is rewritten in place (same inode) with
 * another, larger store while the store is open -- an operator restoring
 * the wrong backup, a neighbour's image copied over ours. A failed write
 * makes the store reopen by path; it must then refuse what it finds
 * instead of serving a store of another geometry (the old code loaded the
 * new file's blocks into a buffer sized for the old capacity).
 */
static void rewritten_store_not_adopted_after_failed_write(void **state)
{
	char *dir = rt_tempdir();
	char path[512], other[512];
	uint8_t data[RPMB_BLOCK_SIZE];
	struct rpmb_store *st, *big;

	snprintf(path, sizeof(path), "%s/ours.rpmb", dir);
	snprintf(other, sizeof(other), "%s/other.rpmb", dir);
	rpmb_store_close(rt_store(dir, "ours.rpmb", 1, 4, 4));
	/* The other store: 4 units, a block far past our 512. */
	big = rt_store(dir, "other.rpmb", 4, 4, 4);
	assert_int_equal(rpmb_store_program_key(big, rc_test_key), 0);
	rc_pattern(data, 2000, 9);
	assert_int_equal(rpmb_store_write(big, 2000, 1, data, 1), 0);
	rpmb_store_close(big);

	st = open_faulty(path);
	copy_file_flags(other, path, O_TRUNC);

	rc_pattern(data, 0, 1);
	faulty_vfs_arm(FAULTY_SYNC, 1);
	assert_int_equal(rpmb_store_write(st, 0, 1, data, 1), -EIO);
	faulty_vfs_disarm();
	assert_non_null(strstr(rpmb_store_last_error(st), "another store"));
	/* Closed, not serving the other store's blocks or geometry. */
	assert_int_equal(rpmb_store_read(st, 0, 1, data), -EIO);
	assert_int_equal(rpmb_store_write(st, 0, 1, data, 1), -EIO);
	rpmb_store_close(st);
	rt_rmdir(dir);
}

static void failing_key_programming(void **state)
{
	unsigned int injected = inject_each(NULL, program_only,
					    check_after_failed_program);

	printf("injected %u write/fsync failures into key programming\n", injected);
	assert_true(injected >= 3);
}

/* The store API itself: the errno says what kind of failure it was. */
static void store_errors(void **state)
{
	static const int want[] = { -EIO, -ENOSPC, -EIO };
	uint8_t data[2 * RPMB_BLOCK_SIZE];

	for (int op = FAULTY_WRITE; op <= FAULTY_SYNC; op++) {
		struct faulty_dev f;

		faulty_dev_open(&f);
		faulty_vfs_arm((enum faulty_op)op, 1);
		assert_int_equal(rpmb_store_program_key(f.st, rc_test_key), want[op]);
		assert_int_equal(rpmb_store_get_key(f.st, data), -ENOKEY);
		assert_int_equal(rpmb_store_program_key(f.st, rc_test_key), 0);

		rc_pattern(data, 20, 4);
		rc_pattern(data + RPMB_BLOCK_SIZE, 21, 4);
		faulty_vfs_arm((enum faulty_op)op, 1);
		assert_int_equal(rpmb_store_write(f.st, 20, 2, data, 1), want[op]);
		faulty_vfs_disarm();
		assert_non_null(strstr(rpmb_store_last_error(f.st), "commit"));
		assert_state(f.st, true, 0, 0);
		crash_image_check(f.path, true, 0, 0);
		assert_int_equal(rpmb_store_write(f.st, 20, 2, data, 1), 0);
		assert_state(f.st, true, 1, 4);
		faulty_dev_close(&f);
		reopen_and_check(f.path, true, 1, 4);
		rt_rmdir(f.dir);
	}
}

/*
 * A disk that stays bad: the failed write cannot even be cleaned up. The
 * store must then refuse service rather than show anything but the old
 * state; once the disk is back, reopening finds the old or the new state,
 * whole (as after a power cut in mid-write), never a mix.
 */
static void persistent_failures(void **state)
{
	uint8_t data[2 * RPMB_BLOCK_SIZE];

	for (int op = FAULTY_WRITE; op <= FAULTY_SYNC; op++) {
		struct rpmb_store_info info;
		struct faulty_dev f;
		uint16_t res;

		faulty_dev_open(&f);
		prepare_written(&f);
		faulty_vfs_arm_sticky((enum faulty_op)op, 1);
		res = second_write(&f);
		if (res != RPMB_RES_WRITE_FAILURE)
			fail_msg("%s: result %#x", op_name[op], res);
		rpmb_store_get_info(f.st, &info);
		assert_int_equal(info.write_counter, 1);
		/* Either recovered (old data) or refusing service. */
		if (rpmb_store_read(f.st, 20, 2, data) == 0)
			assert_state(f.st, true, 1, 1);
		assert_int_not_equal(rpmb_store_write(f.st, 20, 2, data, 2), 0);
		rpmb_store_get_info(f.st, &info);
		assert_int_equal(info.write_counter, 1);
		faulty_vfs_disarm();
		faulty_dev_close(&f);

		struct rpmb_store *st;
		char err[256];

		assert_int_equal(rpmb_store_open(f.path, RPMB_STORE_OPEN_EXISTING,
						 NULL, &st, err, sizeof(err)), 0);
		rpmb_store_get_info(st, &info);
		printf("%s failing for good: counter %u after reopen\n",
		       op_name[op], info.write_counter);
		assert_state(st, true, info.write_counter,
			     info.write_counter == 1 ? 1 : 2);
		rpmb_store_close(st);
		rt_rmdir(f.dir);
	}
}

static void discard_log(enum vr_log_level level, const char *msg, void *opaque)
{
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(failing_data_writes),
		cmocka_unit_test(failing_write_not_replayed_after_reopen),
		cmocka_unit_test(rewritten_store_not_adopted_after_failed_write),
		cmocka_unit_test(failing_key_programming),
		cmocka_unit_test(store_errors),
		cmocka_unit_test(persistent_failures),
	};

	if (faulty_vfs_register())
		return 1;
	/* The faults are expected; their log lines would only be noise. */
	vr_log_set_sink(discard_log, NULL);
	return cmocka_run_group_tests_name("store-faults", tests, NULL, NULL);
}
