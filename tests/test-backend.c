// SPDX-License-Identifier: MIT
/*
 * The daemon's Xen-independent parts: xenstore path and key parsing,
 * grant/foreign address decoding, store naming, config parsing.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "../backend/config.h"
#include "../backend/gaddr.h"
#include "parse.h"
#include "../backend/store-name.h"
#include "../backend/xs-keys.h"

#define ROOT "/local/domain/0/backend/virtio"

static void device_paths(void **state)
{
	unsigned int fe = 99, devid = 99;

	assert_int_equal(xs_parse_device_path(ROOT "/5/0", ROOT, &fe, &devid), 0);
	assert_int_equal(fe, 5);
	assert_int_equal(devid, 0);
	assert_int_equal(xs_parse_device_path(ROOT "/12/3/state", ROOT, &fe, &devid), 0);
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
		if (!xs_parse_device_path(bad[i], ROOT, &fe, &devid))
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
	assert_int_equal(xs_parse_state("1"), XB_INITIALISING);
	assert_int_equal(xs_parse_state("5"), XB_CLOSING);
	assert_int_equal(xs_parse_state("7"), XB_UNKNOWN);
	assert_int_equal(xs_parse_state("x"), XB_UNKNOWN);
	assert_int_equal(xs_parse_state(NULL), XB_UNKNOWN);
}

static void grant_addresses(void **state)
{
	struct gaddr_pages p;
	const uint64_t g = GADDR_GRANT_FLAG;

	/* Linux grant DMA: ref 8, offset 0 is 0x8000000000008000. */
	assert_int_equal(gaddr_decode(true, 0x8000000000008000ULL, 512, &p), 0);
	assert_int_equal(p.first, 8);
	assert_int_equal(p.count, 1);
	assert_int_equal(p.offset, 0);
	/* A buffer crossing a page boundary spans consecutive refs. */
	assert_int_equal(gaddr_decode(true, g | (10ULL << 12) | 0xf00, 512, &p), 0);
	assert_int_equal(p.first, 10);
	assert_int_equal(p.count, 2);
	assert_int_equal(p.offset, 0xf00);
	assert_int_equal(gaddr_decode(true, g | (1ULL << 12), GADDR_MAX_LEN, &p), 0);
	assert_int_equal(p.count, GADDR_MAX_LEN / 4096);

	/* Not a grant address, zero or too long, refs past 32 bits. */
	assert_int_not_equal(gaddr_decode(true, 0x40000000, 512, &p), 0);
	assert_int_not_equal(gaddr_decode(true, g, 0, &p), 0);
	assert_int_not_equal(gaddr_decode(true, g, GADDR_MAX_LEN + 1, &p), 0);
	assert_int_not_equal(gaddr_decode(true, g | (0x100000000ULL << 12), 16, &p), 0);
	assert_int_not_equal(gaddr_decode(true, g | (0xffffffffULL << 12) | 0xff0, 32, &p), 0);
	assert_int_not_equal(gaddr_decode(true, ~0ULL, 2, &p), 0);
}

static void foreign_addresses(void **state)
{
	struct gaddr_pages p;

	assert_int_equal(gaddr_decode(false, 0x40001234, 100, &p), 0);
	assert_int_equal(p.first, 0x40001);
	assert_int_equal(p.count, 1);
	assert_int_equal(p.offset, 0x234);
	assert_int_equal(gaddr_decode(false, 0x40000ff0, 0x20, &p), 0);
	assert_int_equal(p.count, 2);
	/* A grant-tagged address is not a guest-physical one. */
	assert_int_not_equal(gaddr_decode(false, 0x8000000000008000ULL, 16, &p), 0);
	assert_int_not_equal(gaddr_decode(false, GADDR_GPA_LIMIT - 8, 16, &p), 0);
	assert_int_not_equal(gaddr_decode(false, 0x1000, 0, &p), 0);
}

static void store_names(void **state)
{
	char out[256];

	assert_int_equal(store_path("/var/lib/xen-rpmb", "guest1", 0, out, sizeof(out)), 0);
	assert_string_equal(out, "/var/lib/xen-rpmb/guest1-0.rpmb");
	assert_int_equal(store_path("/s", "../../etc/passwd", 2, out, sizeof(out)), 0);
	assert_string_equal(out, "/s/%2E.%2F..%2Fetc%2Fpasswd-2.rpmb");
	assert_null(strchr(out + 3, '/'));
	assert_int_equal(store_path("/s", ".hidden", 0, out, sizeof(out)), 0);
	assert_string_equal(out, "/s/%2Ehidden-0.rpmb");
	assert_int_equal(store_path("/s", "a b%", 1, out, sizeof(out)), 0);
	assert_string_equal(out, "/s/a%20b%25-1.rpmb");
	/* Escaping keeps names distinct: "a/b" and "a%2Fb" differ. */
	char other[256];

	assert_int_equal(store_path("/s", "a/b", 0, out, sizeof(out)), 0);
	assert_int_equal(store_path("/s", "a%2Fb", 0, other, sizeof(other)), 0);
	assert_string_not_equal(out, other);
	assert_int_not_equal(store_path("/s", "", 0, out, sizeof(out)), 0);
	assert_int_not_equal(store_path("/s", NULL, 0, out, sizeof(out)), 0);
	assert_int_not_equal(store_path("/s", "abcdefgh", 0, out, 12), 0);

	assert_string_equal(uuid_from_vm_path("/vm/8a0f1c2e-3b4d-4e5f-8a9b-0c1d2e3f4a5b"),
			    "8a0f1c2e-3b4d-4e5f-8a9b-0c1d2e3f4a5b");
	assert_null(uuid_from_vm_path("/vm/../../x"));
	assert_null(uuid_from_vm_path("/vm/8a0f1c2e-3b4d-4e5f-8a9b-0c1d2e3f4a5"));
	assert_null(uuid_from_vm_path("/vm/8a0f1c2e-3b4d-4e5f-8a9b-0c1d2e3f4a5bb"));
	assert_null(uuid_from_vm_path("8a0f1c2e-3b4d-4e5f-8a9b-0c1d2e3f4a5b"));
	assert_null(uuid_from_vm_path(NULL));
}

static void capacities(void **state)
{
	unsigned int u;

	assert_int_equal(parse_capacity("128K", &u), 0);
	assert_int_equal(u, 1);
	assert_int_equal(parse_capacity("4M", &u), 0);
	assert_int_equal(u, 32);
	assert_int_equal(parse_capacity("16m", &u), 0);
	assert_int_equal(u, 128);
	assert_int_equal(parse_capacity("7", &u), 0);
	assert_int_equal(u, 7);
	static const char *const bad[] = {
		"0", "129", "17M", "100K", "64K", "", "M", "4MB", "-1", "1.5M",
		"0x80x",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (!parse_capacity(bad[i], &u))
			fail_msg("accepted capacity '%s'", bad[i]);
}

static char *write_temp(const char *text)
{
	static char path[] = "/tmp/test-backend-XXXXXX";
	int fd;

	strcpy(path, "/tmp/test-backend-XXXXXX");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	return path;
}

static void config_file(void **state)
{
	struct config cfg;
	char err[512];
	char *path = write_temp(
		"# example\n"
		"store-dir = /srv/rpmb   # trailing comment\n"
		"capacity = 2M\n"
		"max-wr-cnt = 16\n"
		"max-rd-cnt=64\n"
		"\n"
		"store-key = uuid\n"
		"log-level = debug\n"
		"log = syslog\n"
		"pidfile = /run/x.pid\n"
		"guest.vm1.capacity = 16M\n"
		"guest.my.vm.capacity = 256K\n");

	config_defaults(&cfg);
	assert_int_equal(config_load(&cfg, path, false, err, sizeof(err)), 0);
	unlink(path);
	assert_string_equal(cfg.store_dir, "/srv/rpmb");
	assert_int_equal(cfg.capacity, 16);
	assert_int_equal(cfg.max_wr_cnt, 16);
	assert_int_equal(cfg.max_rd_cnt, 64);
	assert_int_equal(cfg.store_key, STORE_KEY_UUID);
	assert_int_equal(cfg.log_level, VR_LOG_DEBUG);
	assert_true(cfg.syslog);
	assert_string_equal(cfg.pidfile, "/run/x.pid");
	assert_int_equal(config_capacity_for(&cfg, "vm1"), 128);
	assert_int_equal(config_capacity_for(&cfg, "my.vm"), 2);
	assert_int_equal(config_capacity_for(&cfg, "other"), 16);
}

static void config_errors_name_the_line(void **state)
{
	static const struct { const char *text, *want; } cases[] = {
		{ "capacity = 1M\nbogus = 1\n", ":2: unknown key 'bogus'" },
		{ "capacity = 3K\n", ":1: '3K' is not a capacity" },
		{ "\n\nmax-wr-cnt = 0\n", ":3: '0' is not a block count" },
		{ "max-rd-cnt = 256\n", ":1: '256' is not a block count" },
		{ "store-key = domid\n", ":1: store-key must be" },
		{ "log-level = loud\n", ":1: log-level must be" },
		{ "just words\n", ":1: expected 'key = value'" },
		{ "capacity =\n", ":1: expected 'key = value'" },
		{ "guest.x.size = 1M\n", ":1: unknown key 'guest.x.size'" },
	};
	char err[512];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct config cfg;
		char *path = write_temp(cases[i].text);

		config_defaults(&cfg);
		assert_int_not_equal(config_load(&cfg, path, false, err, sizeof(err)), 0);
		unlink(path);
		if (!strstr(err, cases[i].want))
			fail_msg("case %zu: '%s' lacks '%s'", i, err, cases[i].want);
	}
}

static void config_missing_file(void **state)
{
	struct config cfg;
	char err[512];

	config_defaults(&cfg);
	assert_int_equal(config_load(&cfg, "/nonexistent/x.conf", true, err, sizeof(err)), 0);
	assert_string_equal(cfg.store_dir, CONFIG_DEFAULT_STORE_DIR);
	assert_int_not_equal(config_load(&cfg, "/nonexistent/x.conf", false, err, sizeof(err)), 0);
	assert_non_null(strstr(err, "/nonexistent/x.conf"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(device_paths),
		cmocka_unit_test(base_and_irq),
		cmocka_unit_test(other_keys),
		cmocka_unit_test(grant_addresses),
		cmocka_unit_test(foreign_addresses),
		cmocka_unit_test(store_names),
		cmocka_unit_test(capacities),
		cmocka_unit_test(config_file),
		cmocka_unit_test(config_errors_name_the_line),
		cmocka_unit_test(config_missing_file),
	};

	return cmocka_run_group_tests_name("backend", tests, NULL, NULL);
}
