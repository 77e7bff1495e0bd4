// SPDX-License-Identifier: MIT
/* Parsing what libxl writes about a virtio device (backend/vdev-keys.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "vdev-keys.h"

#define ROOT "/local/domain/0/backend/virtio"

static void device_paths(void **state)
{
	unsigned int fe = 99, devid = 99;

	assert_int_equal(vdev_parse_path(ROOT "/5/0", ROOT, &fe, &devid), 0);
	assert_int_equal(fe, 5);
	assert_int_equal(devid, 0);
	assert_int_equal(vdev_parse_path(ROOT "/12/3/state", ROOT, &fe, &devid), 0);
	assert_int_equal(fe, 12);
	assert_int_equal(devid, 3);

	static const char *const bad[] = {
		ROOT, ROOT "/", ROOT "/5", ROOT "/5/", ROOT "/x/0",
		ROOT "/5/x", ROOT "/05/0", ROOT "/0x5/0", ROOT "/-1/0",
		ROOT "/32752/0",	/* DOMID_FIRST_RESERVED */
		ROOT "/5/99999999999", ROOT "/5/0x", ROOT "5/0",
		"/local/domain/0/backend/virtiox/5/0",
		"/local/domain/1/backend/virtio/5/0", "",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (!vdev_parse_path(bad[i], ROOT, &fe, &devid))
			fail_msg("accepted '%s'", bad[i]);
}

static void base_and_irq(void **state)
{
	char err[160];
	uint64_t base;
	unsigned int irq;

	assert_int_equal(vdev_parse_base("0x2000000", &base, err, sizeof(err)), 0);
	assert_int_equal(base, 0x2000000);
	assert_int_equal(vdev_parse_base("0x2000200", &base, err, sizeof(err)), 0);
	assert_int_equal(vdev_parse_base("33554432", &base, err, sizeof(err)), 0);
	assert_int_equal(base, 0x2000000);
	assert_int_equal(vdev_parse_base("0x20ffe00", &base, err, sizeof(err)), 0);

	static const char *const bad_bases[] = {
		"0x1fffe00", "0x2000100", "0x20fff00", "0x2100000", "", "0x",
		" 0x2000000", "0x2000000 ", "-1", "0x2000000x", "0xffffffffffffffff",
		"99999999999999999999999",
		/* aligned, and base + window size wraps past 2^64 */
		"0xfffffffffffffe00", "0xffffffffffff0000",
	};
	for (size_t i = 0; i < sizeof(bad_bases) / sizeof(bad_bases[0]); i++)
		if (!vdev_parse_base(bad_bases[i], &base, err, sizeof(err)))
			fail_msg("accepted base '%s'", bad_bases[i]);
	assert_int_not_equal(vdev_parse_base(NULL, &base, err, sizeof(err)), 0);
	assert_non_null(strstr(err, "not a number"));

	assert_int_equal(vdev_parse_irq("33", &irq, err, sizeof(err)), 0);
	assert_int_equal(irq, 33);
	assert_int_equal(vdev_parse_irq("43", &irq, err, sizeof(err)), 0);
	assert_int_not_equal(vdev_parse_irq("32", &irq, err, sizeof(err)), 0);
	assert_non_null(strstr(err, "33..43"));
	assert_int_not_equal(vdev_parse_irq("44", &irq, err, sizeof(err)), 0);
	assert_int_not_equal(vdev_parse_irq("3x", &irq, err, sizeof(err)), 0);
	assert_int_not_equal(vdev_parse_irq(NULL, &irq, err, sizeof(err)), 0);
}

static void other_keys(void **state)
{
	char err[160];
	bool grants = false;

	assert_int_equal(vdev_parse_grant_usage("1", &grants, err, sizeof(err)), 0);
	assert_true(grants);
	assert_int_equal(vdev_parse_grant_usage("0", &grants, err, sizeof(err)), 0);
	assert_false(grants);
	assert_int_not_equal(vdev_parse_grant_usage("2", &grants, err, sizeof(err)), 0);
	assert_int_not_equal(vdev_parse_grant_usage("", &grants, err, sizeof(err)), 0);
	assert_int_not_equal(vdev_parse_grant_usage(NULL, &grants, err, sizeof(err)), 0);
	assert_int_equal(vdev_check_transport("mmio", err, sizeof(err)), 0);
	assert_int_not_equal(vdev_check_transport("pci", err, sizeof(err)), 0);
	assert_int_not_equal(vdev_check_transport(NULL, err, sizeof(err)), 0);
	assert_int_equal(vdev_parse_state("1"), XB_INITIALISING);
	assert_int_equal(vdev_parse_state("5"), XB_CLOSING);
	assert_int_equal(vdev_parse_state("7"), XB_UNKNOWN);
	assert_int_equal(vdev_parse_state("x"), XB_UNKNOWN);
	assert_int_equal(vdev_parse_state(NULL), XB_UNKNOWN);
}

static void ioservid_keys(void **state)
{
	uint16_t id = 7;

	assert_int_equal(vdev_parse_ioservid("0", &id), 0);
	assert_int_equal(id, 0);
	assert_int_equal(vdev_parse_ioservid("65535", &id), 0);
	assert_int_equal(id, 65535);
	static const char *const bad[] = {
		"", "65536", "-1", "0x1", "01", " 1", "1 ", "1a", "99999999999999999999",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (!vdev_parse_ioservid(bad[i], &id))
			fail_msg("accepted ioservid '%s'", bad[i]);
	assert_int_not_equal(vdev_parse_ioservid(NULL, &id), 0);
}

static void malformed_keys(void **state)
{
	char err[160];
	uint64_t base;
	unsigned int irq;
	bool grants;

	/* Values libxl never writes, but a hand-edited store might. */
	assert_int_not_equal(vdev_parse_base("0x02000000\n", &base, err, sizeof(err)), 0);
	assert_int_not_equal(vdev_parse_base("+0x2000000", &base, err, sizeof(err)), 0);
	assert_int_not_equal(vdev_parse_base("0x2000000000000000000", &base, err, sizeof(err)), 0);
	/* The last slot fits, one past it does not. */
	assert_int_equal(vdev_parse_base("0x20ffe00", &base, err, sizeof(err)), 0);
	assert_int_not_equal(vdev_parse_base("0x2100000", &base, err, sizeof(err)), 0);
	/* irq is decimal, as libxl writes it ("033" would be octal 27). */
	assert_int_not_equal(vdev_parse_irq("0x21", &irq, err, sizeof(err)), 0);
	assert_int_not_equal(vdev_parse_irq("033", &irq, err, sizeof(err)), 0);
	assert_non_null(strstr(err, "decimal"));
	assert_int_not_equal(vdev_parse_irq("4294967329", &irq, err, sizeof(err)), 0);
	assert_int_not_equal(vdev_parse_grant_usage("01", &grants, err, sizeof(err)), 0);
	assert_int_not_equal(vdev_parse_grant_usage("true", &grants, err, sizeof(err)), 0);
	assert_int_not_equal(vdev_check_transport("MMIO", err, sizeof(err)), 0);
	assert_int_not_equal(vdev_check_transport("mmio ", err, sizeof(err)), 0);
	assert_non_null(strstr(err, "not mmio"));
}


int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(device_paths),
		cmocka_unit_test(base_and_irq),
		cmocka_unit_test(other_keys),
		cmocka_unit_test(ioservid_keys),
		cmocka_unit_test(malformed_keys),
	};

	return cmocka_run_group_tests_name("vdev-keys", tests, NULL, NULL);
}
