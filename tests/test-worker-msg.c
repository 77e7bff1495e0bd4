// SPDX-License-Identifier: MIT
/*
 * Supervisor/worker message framing (backend/worker-msg.c): whatever a
 * (possibly compromised) worker sends, the supervisor gets whole
 * messages with terminated strings, or nothing.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "log.h"
#include "worker-msg.h"

static void pair(int sv[2])
{
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv), 0);
}

static void round_trip(void **state)
{
	struct wmsg m = { .type = WMSG_ADD, .devid = 3 }, got;
	int sv[2];

	pair(sv);
	m.u.add.base = 0x2000200;
	strcpy(m.u.add.type, "rpmb");
	assert_int_equal(wmsg_send(sv[0], &m), 0);
	assert_int_equal(wmsg_recv(sv[1], &got), 1);
	assert_int_equal(got.devid, 3);
	assert_int_equal(got.u.add.base, 0x2000200);
	assert_string_equal(got.u.add.type, "rpmb");
	/* Nothing waiting: 0, not a block. */
	assert_int_equal(wmsg_recv(sv[1], &got), 0);
	close(sv[0]);
	assert_int_equal(wmsg_recv(sv[1], &got), -EPIPE);
	close(sv[1]);
}

static void hostile_packets(void **state)
{
	struct wmsg m, got;
	char small[10] = { 0 };
	int sv[2];

	vr_log_set_level(VR_LOG_ERR);
	pair(sv);
	/* Short and long packets, unknown types: dropped. */
	assert_int_equal(send(sv[0], small, sizeof(small), 0), (ssize_t)sizeof(small));
	assert_int_equal(wmsg_recv(sv[1], &got), 0);
	{
		char big[sizeof(m) + 100];

		memset(big, 1, sizeof(big));
		assert_int_equal(send(sv[0], big, sizeof(big), 0), (ssize_t)sizeof(big));
		assert_int_equal(wmsg_recv(sv[1], &got), 0);
	}
	memset(&m, 0, sizeof(m));
	m.type = 99;
	assert_int_equal(wmsg_send(sv[0], &m), 0);
	assert_int_equal(wmsg_recv(sv[1], &got), 0);
	/* Strings without a terminator come out terminated. */
	memset(&m, 'A', sizeof(m));
	m.type = WMSG_LOG;
	assert_int_equal(wmsg_send(sv[0], &m), 0);
	assert_int_equal(wmsg_recv(sv[1], &got), 1);
	assert_int_equal(strlen(got.u.log.text), sizeof(got.u.log.text) - 1);
	memset(&m, 'B', sizeof(m));
	m.type = WMSG_FAILED;
	assert_int_equal(wmsg_send(sv[0], &m), 0);
	assert_int_equal(wmsg_recv(sv[1], &got), 1);
	assert_int_equal(strlen(got.u.text), sizeof(got.u.text) - 1);
	close(sv[0]);
	close(sv[1]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(round_trip),
		cmocka_unit_test(hostile_packets),
	};

	return cmocka_run_group_tests_name("worker-msg", tests, NULL, NULL);
}
