// SPDX-License-Identifier: MIT
/* The store API: creation, locking, permissions, validation, persistence. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "rpmb-store.h"
#include "rpmb-test-util.h"

static char *dir;

static int setup(void **state)
{
	dir = rt_tempdir();
	return 0;
}

static int teardown(void **state)
{
	rt_rmdir(dir);
	return 0;
}

static char *path_of(const char *name)
{
	static char p[512];

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	return p;
}

static int open_mode(const char *name, enum rpmb_store_open_mode mode,
		     unsigned int cap, struct rpmb_store **st)
{
	struct rpmb_store_params p = { .capacity = cap };
	char err[256];

	return rpmb_store_open(path_of(name), mode, &p, st, err, sizeof(err));
}

static void open_modes(void **state)
{
	struct rpmb_store *st;

	assert_int_equal(open_mode("a", RPMB_STORE_OPEN_EXISTING, 1, &st), -ENOENT);
	assert_int_equal(access(path_of("a"), F_OK), -1);
	assert_int_equal(open_mode("a", RPMB_STORE_CREATE_NEW, 1, &st), 0);
	rpmb_store_close(st);
	assert_int_equal(open_mode("a", RPMB_STORE_CREATE_NEW, 1, &st), -EEXIST);
	assert_int_equal(open_mode("a", RPMB_STORE_OPEN_EXISTING, 1, &st), 0);
	rpmb_store_close(st);
	assert_int_equal(open_mode("a", RPMB_STORE_OPEN_OR_CREATE, 1, &st), 0);
	rpmb_store_close(st);
	assert_int_equal(open_mode("b", RPMB_STORE_OPEN_OR_CREATE, 1, &st), 0);
	rpmb_store_close(st);
}

static void params(void **state)
{
	struct rpmb_store_params p = { .capacity = 0 };
	struct rpmb_store_info info;
	struct rpmb_store *st;
	char err[256];

	assert_int_equal(rpmb_store_open(path_of("p"), RPMB_STORE_CREATE_NEW, &p,
					 &st, err, sizeof(err)), -EINVAL);
	p.capacity = 129;
	assert_int_equal(rpmb_store_open(path_of("p"), RPMB_STORE_CREATE_NEW, &p,
					 &st, err, sizeof(err)), -EINVAL);
	p.capacity = 128;
	p.max_wr_cnt = 256;
	assert_int_equal(rpmb_store_open(path_of("p"), RPMB_STORE_CREATE_NEW, &p,
					 &st, err, sizeof(err)), -EINVAL);
	assert_int_equal(rpmb_store_open(path_of("p"), RPMB_STORE_CREATE_NEW, NULL,
					 &st, err, sizeof(err)), -EINVAL);
	p.max_wr_cnt = 0;
	assert_int_equal(rpmb_store_open(path_of("p"), RPMB_STORE_CREATE_NEW, &p,
					 &st, err, sizeof(err)), 0);
	rpmb_store_get_info(st, &info);
	assert_int_equal(info.capacity, 128);
	assert_int_equal(info.max_wr_cnt, RPMB_DEFAULT_MAX_WR_CNT);
	assert_int_equal(info.max_rd_cnt, RPMB_DEFAULT_MAX_RD_CNT);
	assert_false(info.key_programmed);
	assert_int_equal(info.write_counter, 0);
	rpmb_store_close(st);
}

static void permissions(void **state)
{
	struct rpmb_store *st;
	uint8_t blk[RPMB_BLOCK_SIZE] = { 1 };
	struct stat sb;
	mode_t old = umask(0);

	assert_int_equal(open_mode("perm", RPMB_STORE_CREATE_NEW, 1, &st), 0);
	umask(old);
	assert_int_equal(rpmb_store_write(st, 0, 1, blk, 1), 0);
	assert_int_equal(stat(path_of("perm"), &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0600);
	if (!stat(path_of("perm-wal"), &sb))
		assert_int_equal(sb.st_mode & 0777, 0600);
	assert_int_not_equal(stat(path_of("perm-shm"), &sb), 0);
	rpmb_store_close(st);
}

static void locking(void **state)
{
	struct rpmb_store *st, *st2;
	char err[256];
	pid_t pid;
	int status;

	assert_int_equal(open_mode("lock", RPMB_STORE_CREATE_NEW, 1, &st), 0);
	assert_int_equal(rpmb_store_open(path_of("lock"), RPMB_STORE_OPEN_EXISTING,
					 NULL, &st2, err, sizeof(err)), -EBUSY);
	assert_non_null(strstr(err, "in use"));
	pid = fork();
	if (!pid)
		_exit(rpmb_store_open(path_of("lock"), RPMB_STORE_OPEN_EXISTING,
				      NULL, &st2, err, sizeof(err)) == -EBUSY ? 0 : 1);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	rpmb_store_close(st);
	assert_int_equal(open_mode("lock", RPMB_STORE_OPEN_EXISTING, 1, &st), 0);
	rpmb_store_close(st);
}

static void data_and_ranges(void **state)
{
	uint8_t in[4 * RPMB_BLOCK_SIZE], out[4 * RPMB_BLOCK_SIZE], zero[RPMB_BLOCK_SIZE] = { 0 };
	struct rpmb_store *st;
	const unsigned int nblocks = RPMB_BLOCKS_PER_UNIT;

	assert_int_equal(open_mode("d", RPMB_STORE_CREATE_NEW, 1, &st), 0);
	assert_int_equal(rpmb_store_read(st, nblocks - 1, 1, out), 0);
	assert_memory_equal(out, zero, RPMB_BLOCK_SIZE);
	for (int i = 0; i < 4; i++)
		rc_pattern(in + i * RPMB_BLOCK_SIZE, (uint16_t)(nblocks - 4 + i), 3);
	assert_int_equal(rpmb_store_write(st, nblocks - 4, 4, in, 1), 0);
	assert_int_equal(rpmb_store_read(st, nblocks - 4, 4, out), 0);
	assert_memory_equal(in, out, sizeof(in));

	assert_int_equal(rpmb_store_write(st, nblocks - 3, 4, in, 2), -EINVAL);
	assert_int_equal(rpmb_store_read(st, nblocks, 1, out), -EINVAL);
	assert_int_equal(rpmb_store_read(st, 0, 0, out), -EINVAL);
	assert_int_equal(rpmb_store_read(st, 0, 256, out), -EINVAL);
	assert_int_equal(rpmb_store_write(st, 0xffffffffu, 1, in, 2), -EINVAL);
	struct rpmb_store_info info;

	rpmb_store_get_info(st, &info);
	assert_int_equal(info.write_counter, 1);
	rpmb_store_close(st);
}

static void key_and_persistence(void **state)
{
	uint8_t key[RPMB_KEY_SIZE], in[RPMB_BLOCK_SIZE], out[RPMB_BLOCK_SIZE];
	struct rpmb_store_info info;
	struct rpmb_store *st;

	assert_int_equal(open_mode("k", RPMB_STORE_CREATE_NEW, 2, &st), 0);
	assert_int_equal(rpmb_store_get_key(st, key), -ENOKEY);
	assert_int_equal(rpmb_store_program_key(st, rc_test_key), 0);
	assert_int_equal(rpmb_store_program_key(st, in), -EEXIST);
	rc_pattern(in, 700, 9);
	assert_int_equal(rpmb_store_write(st, 700, 1, in, 41), 0);
	rpmb_store_close(st);

	assert_int_equal(open_mode("k", RPMB_STORE_OPEN_EXISTING, 1, &st), 0);
	rpmb_store_get_info(st, &info);
	assert_int_equal(info.capacity, 2);
	assert_true(info.key_programmed);
	assert_int_equal(info.write_counter, 41);
	assert_int_equal(rpmb_store_get_key(st, key), 0);
	assert_memory_equal(key, rc_test_key, RPMB_KEY_SIZE);
	assert_int_equal(rpmb_store_read(st, 700, 1, out), 0);
	assert_memory_equal(in, out, RPMB_BLOCK_SIZE);
	assert_int_equal(rpmb_store_program_key(st, in), -EEXIST);
	rpmb_store_close(st);
}

static void foreign_and_truncated_files(void **state)
{
	struct rpmb_store *st;
	FILE *f = fopen(path_of("junk"), "w");

	fputs("SQLite format 3", f);	/* magic, then nothing */
	fclose(f);
	assert_int_equal(open_mode("junk", RPMB_STORE_OPEN_EXISTING, 1, &st), -EPROTO);
	assert_int_equal(open_mode("junk", RPMB_STORE_OPEN_OR_CREATE, 1, &st), -EPROTO);
	f = fopen(path_of("empty"), "w");
	fclose(f);
	assert_int_equal(open_mode("empty", RPMB_STORE_OPEN_EXISTING, 1, &st), -EPROTO);
}

static void whole_store_reads_as_zeros(void **state)
{
	uint8_t buf[255 * RPMB_BLOCK_SIZE], zero[255 * RPMB_BLOCK_SIZE] = { 0 };
	const unsigned int nblocks = 2 * RPMB_BLOCKS_PER_UNIT;
	struct rpmb_store *st;

	assert_int_equal(open_mode("z", RPMB_STORE_CREATE_NEW, 2, &st), 0);
	for (unsigned int a = 0, n; a < nblocks; a += n) {
		n = nblocks - a < 255 ? nblocks - a : 255;
		memset(buf, 0xaa, sizeof(buf));
		assert_int_equal(rpmb_store_read(st, a, n, buf), 0);
		assert_memory_equal(buf, zero, (size_t)n * RPMB_BLOCK_SIZE);
	}
	rpmb_store_close(st);
}

static void counter_only_advances(void **state)
{
	uint8_t blk[RPMB_BLOCK_SIZE] = { 7 }, out[RPMB_BLOCK_SIZE];
	struct rpmb_store_info info;
	struct rpmb_store *st;

	assert_int_equal(open_mode("c", RPMB_STORE_CREATE_NEW, 1, &st), 0);
	assert_int_equal(rpmb_store_write(st, 3, 1, blk, 0), -EINVAL);
	assert_int_equal(rpmb_store_write(st, 3, 1, blk, 5), 0);
	blk[0] = 8;
	assert_int_equal(rpmb_store_write(st, 3, 1, blk, 5), -EINVAL);
	assert_int_equal(rpmb_store_write(st, 3, 1, blk, 4), -EINVAL);
	assert_int_equal(rpmb_store_read(st, 3, 1, out), 0);
	assert_int_equal(out[0], 7);
	rpmb_store_get_info(st, &info);
	assert_int_equal(info.write_counter, 5);
	assert_int_equal(rpmb_store_write(st, 3, 1, blk, RPMB_COUNTER_MAX), 0);
	rpmb_store_close(st);
	assert_int_equal(open_mode("c", RPMB_STORE_OPEN_EXISTING, 1, &st), 0);
	rpmb_store_get_info(st, &info);
	assert_int_equal(info.write_counter, RPMB_COUNTER_MAX);
	rpmb_store_close(st);
}

/* No global state: two stores side by side stay apart. */
static void two_stores_at_once(void **state)
{
	uint8_t a[RPMB_BLOCK_SIZE], b[RPMB_BLOCK_SIZE], out[RPMB_BLOCK_SIZE];
	struct rpmb_store_info info;
	struct rpmb_store *s1, *s2;

	assert_int_equal(open_mode("s1", RPMB_STORE_CREATE_NEW, 1, &s1), 0);
	assert_int_equal(open_mode("s2", RPMB_STORE_CREATE_NEW, 3, &s2), 0);
	rc_pattern(a, 9, 1);
	rc_pattern(b, 9, 2);
	assert_int_equal(rpmb_store_program_key(s1, rc_test_key), 0);
	assert_int_equal(rpmb_store_write(s1, 9, 1, a, 1), 0);
	assert_int_equal(rpmb_store_write(s2, 9, 1, b, 7), 0);
	assert_int_equal(rpmb_store_read(s1, 9, 1, out), 0);
	assert_memory_equal(out, a, sizeof(a));
	assert_int_equal(rpmb_store_read(s2, 9, 1, out), 0);
	assert_memory_equal(out, b, sizeof(b));
	rpmb_store_get_info(s2, &info);
	assert_false(info.key_programmed);
	assert_int_equal(info.write_counter, 7);
	assert_int_equal(info.capacity, 3);
	rpmb_store_close(s1);
	rpmb_store_close(s2);
}

/* A WAL whose store is gone would be replayed into a new one. */
static void stale_wal_refused(void **state)
{
	struct rpmb_store *st;
	FILE *f = fopen(path_of("w-wal"), "w");

	fputs("left over", f);
	fclose(f);
	assert_int_equal(open_mode("w", RPMB_STORE_OPEN_OR_CREATE, 1, &st), -EPROTO);
	assert_int_equal(access(path_of("w"), F_OK), -1);
}

static char *sha_of(const char *path)
{
	char cmd[600], *out = calloc(1, 80);
	FILE *p;

	snprintf(cmd, sizeof(cmd), "sha256sum < '%s'", path);
	p = popen(cmd, "r");
	assert_non_null(p);
	assert_non_null(fgets(out, 80, p));
	pclose(p);
	return out;
}

static void exec_on(const char *path, const char *sql)
{
	sqlite3 *db;

	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_close(db), SQLITE_OK);
}

static void foreign_files_untouched(void **state)
{
	const char *names[] = { "other.db", "random.bin" };
	struct rpmb_store *st;
	char err[256];
	FILE *f;

	exec_on(path_of("other.db"), "CREATE TABLE t(x); INSERT INTO t VALUES(1);");
	f = fopen(path_of("random.bin"), "w");
	for (int i = 0; i < 8192; i++)
		fputc(rand() & 0xff, f);
	fclose(f);
	for (int i = 0; i < 2; i++) {
		char *before = sha_of(path_of(names[i])), *after;

		assert_int_equal(rpmb_store_open(path_of(names[i]),
						 RPMB_STORE_OPEN_OR_CREATE, NULL,
						 &st, err, sizeof(err)), -EPROTO);
		assert_non_null(strstr(err, "not an RPMB store"));
		after = sha_of(path_of(names[i]));
		assert_string_equal(before, after);
		free(before);
		free(after);
	}
}

/* Our header, but contents no store of ours can have. */
static void bad_contents_refused(void **state)
{
	static const char *const damage[] = {
		"PRAGMA user_version = 2",
		"UPDATE meta SET capacity = 0",
		"UPDATE meta SET capacity = 129",
		"UPDATE meta SET max_wr_cnt = 0",
		"UPDATE meta SET max_rd_cnt = 256",
		"UPDATE meta SET write_counter = -1",
		"UPDATE meta SET write_counter = 4294967296",
		"UPDATE meta SET key = x'0102'",
		"DELETE FROM meta",
		"INSERT INTO blocks VALUES(512, zeroblob(256))",
		"INSERT INTO blocks VALUES(1, zeroblob(255))",
		"DROP TABLE blocks",
	};
	struct rpmb_store *st;
	char name[32], err[256];

	for (size_t i = 0; i < sizeof(damage) / sizeof(damage[0]); i++) {
		snprintf(name, sizeof(name), "bad%zu", i);
		assert_int_equal(open_mode(name, RPMB_STORE_CREATE_NEW, 1, &st), 0);
		rpmb_store_close(st);
		exec_on(path_of(name), damage[i]);
		if (rpmb_store_open(path_of(name), RPMB_STORE_OPEN_EXISTING, NULL,
				    &st, err, sizeof(err)) != -EPROTO)
			fail_msg("'%s' not refused", damage[i]);
		assert_non_null(strstr(err, "corrupt"));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(open_modes, setup, teardown),
		cmocka_unit_test_setup_teardown(params, setup, teardown),
		cmocka_unit_test_setup_teardown(permissions, setup, teardown),
		cmocka_unit_test_setup_teardown(locking, setup, teardown),
		cmocka_unit_test_setup_teardown(data_and_ranges, setup, teardown),
		cmocka_unit_test_setup_teardown(key_and_persistence, setup, teardown),
		cmocka_unit_test_setup_teardown(foreign_and_truncated_files, setup, teardown),
		cmocka_unit_test_setup_teardown(whole_store_reads_as_zeros, setup, teardown),
		cmocka_unit_test_setup_teardown(counter_only_advances, setup, teardown),
		cmocka_unit_test_setup_teardown(two_stores_at_once, setup, teardown),
		cmocka_unit_test_setup_teardown(stale_wal_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(foreign_files_untouched, setup, teardown),
		cmocka_unit_test_setup_teardown(bad_contents_refused, setup, teardown),
	};

	return cmocka_run_group_tests_name("store", tests, NULL, NULL);
}
