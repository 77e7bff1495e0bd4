// SPDX-License-Identifier: MIT
/*
 * Crash test: a child process does authenticated writes through the RPMB
 * core and reports each acknowledged one on a pipe; the parent kills it
 * with SIGKILL at a random moment, 200 times. After every kill the store
 * must open, its counter must equal the acknowledged writes (or one more,
 * for the write in flight), and the whole data area must be exactly what
 * that many writes produce: nothing of a later write, nothing missing.
 *
 * This covers process crashes. Power loss additionally relies on SQLite's
 * WAL + synchronous=FULL guarantees, which SQLite's own tests cover.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "log.h"
#include "rpmb-test-util.h"
#include "rpmb.h"

#define KILLS		200
#define MAX_WR		8
#define SLOTS		60	/* write i goes to blocks (i % SLOTS) * 8.. */
#define NBLOCKS		RPMB_BLOCKS_PER_UNIT	/* a one-unit store */

static unsigned int blocks_of(uint32_t i)
{
	return 1 + i % MAX_WR;
}

static uint16_t addr_of(uint32_t i)
{
	return (uint16_t)((i % SLOTS) * MAX_WR);
}

/* Block data naming its write and address, so no stale block passes. */
static void fill(uint8_t *data, uint16_t addr, uint32_t write)
{
	rc_pattern(data, addr, write);
	memcpy(data, &write, sizeof(write));
	memcpy(data + sizeof(write), &addr, sizeof(addr));
}

/* What the data area holds after writes 0..count-1; kept incrementally. */
struct model {
	uint8_t data[NBLOCKS * RPMB_BLOCK_SIZE];
	uint32_t count;
};

static void model_advance(struct model *m, uint32_t count)
{
	for (; m->count < count; m->count++) {
		uint32_t w = m->count;

		for (unsigned int i = 0; i < blocks_of(w); i++)
			fill(m->data + (size_t)(addr_of(w) + i) * RPMB_BLOCK_SIZE,
			     (uint16_t)(addr_of(w) + i), w);
	}
}

static struct rpmb_store *open_store(const char *path)
{
	struct rpmb_store *st;
	char err[256];
	int ret;

	/* The killed child's lock goes away with it; no waiting needed. */
	ret = rpmb_store_open(path, RPMB_STORE_OPEN_EXISTING, NULL, &st, err,
			      sizeof(err));
	if (ret) {
		fprintf(stderr, "open: %s\n", err);
		return NULL;
	}
	return st;
}

static void child(const char *path, int fd)
{
	struct rpmb_frame req[MAX_WR + 1], resp;
	struct rpmb_store_info info;
	struct rpmb_store *st = open_store(path);
	struct rpmb_dev *dev;
	uint32_t c;

	if (!st)
		_exit(2);
	dev = rpmb_dev_new(st, NULL);
	rpmb_store_get_info(st, &info);
	c = info.write_counter;
	if (write(fd, &c, sizeof(c)) != sizeof(c))
		_exit(3);
	for (;;) {
		unsigned int n = blocks_of(c);

		for (unsigned int i = 0; i < n; i++) {
			rc_request(&req[i], RPMB_REQ_DATA_WRITE, addr_of(c),
				 (uint16_t)n, c);
			fill(req[i].data, (uint16_t)(addr_of(c) + i), c);
		}
		rc_sign(rc_test_key, req, n);
		rc_request(&req[n], RPMB_REQ_RESULT_READ, 0, 1, 0);
		if (rpmb_dev_process_frames(dev, req, n + 1, &resp, 1) != 1 ||
		    rpmb_frame_result(&resp) != RPMB_RES_OK)
			_exit(4);
		c++;
		if (write(fd, &c, sizeof(c)) != sizeof(c))
			_exit(5);
	}
}

static void check_after_kill(const char *path, uint32_t acked,
			     struct model *m)
{
	uint8_t got[255 * RPMB_BLOCK_SIZE];
	struct rpmb_store_info info;
	struct rpmb_store *st = open_store(path);

	assert_non_null(st);
	rpmb_store_get_info(st, &info);
	if (info.write_counter != acked && info.write_counter != acked + 1)
		fail_msg("counter %u after %u acknowledged writes",
			 info.write_counter, acked);
	if (info.write_counter < m->count)
		fail_msg("counter went back from %u to %u", m->count,
			 info.write_counter);
	model_advance(m, info.write_counter);
	for (unsigned int a = 0, n; a < NBLOCKS; a += n) {
		n = NBLOCKS - a < 255 ? NBLOCKS - a : 255;
		assert_int_equal(rpmb_store_read(st, a, n, got), 0);
		for (unsigned int i = 0; i < n; i++)
			if (memcmp(got + (size_t)i * RPMB_BLOCK_SIZE,
				   m->data + (size_t)(a + i) * RPMB_BLOCK_SIZE,
				   RPMB_BLOCK_SIZE))
				fail_msg("counter %u but block %u does not hold what %u writes leave",
					 info.write_counter, a + i, info.write_counter);
	}
	rpmb_store_close(st);
}

static void kill_at_random_points(void **state)
{
	char *dir = rt_tempdir(), path[512];
	struct rpmb_store *st = rt_store(dir, "crash.rpmb", 1, MAX_WR, MAX_WR);
	uint32_t acked = 0, in_flight_landed = 0;
	static struct model m;

	assert_int_equal(rpmb_store_program_key(st, rc_test_key), 0);
	rpmb_store_close(st);
	snprintf(path, sizeof(path), "%s/crash.rpmb", dir);
	srand((unsigned int)time(NULL));

	for (int k = 0; k < KILLS; k++) {
		int pipefd[2], status;
		uint32_t v, start;
		pid_t pid;

		assert_int_equal(pipe(pipefd), 0);
		pid = fork();
		assert_true(pid >= 0);
		if (!pid) {
			close(pipefd[0]);
			child(path, pipefd[1]);
		}
		close(pipefd[1]);
		/* Wait until the child runs, then let it write for a while. */
		assert_int_equal(read(pipefd[0], &start, sizeof(start)), sizeof(start));
		assert_true(start == acked || start == acked + 1);
		if (start == acked + 1)
			in_flight_landed++;
		acked = start;
		usleep((useconds_t)(rand() % 20000));
		kill(pid, SIGKILL);
		assert_int_equal(waitpid(pid, &status, 0), pid);
		assert_true(WIFSIGNALED(status));
		while (read(pipefd[0], &v, sizeof(v)) == sizeof(v))
			acked = v;
		close(pipefd[0]);
		check_after_kill(path, acked, &m);
	}
	printf("%d kills, %u acknowledged writes, %u in-flight writes found committed\n",
	       KILLS, acked, in_flight_landed);
	assert_true(acked > KILLS);
	rt_rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(kill_at_random_points),
	};

	vr_log_set_level(VR_LOG_ERR);
	return cmocka_run_group_tests_name("store-crash", tests, NULL, NULL);
}
