// SPDX-License-Identifier: MIT
/* Daemon settings: defaults, the config file and its errors (backend/config.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "config.h"

static int load_text(struct config *cfg, const char *text, char *err,
		     size_t errlen)
{
	char path[] = "/tmp/test-backend-config-XXXXXX";
	int fd = mkstemp(path), ret;

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	config_defaults(cfg);
	ret = config_load(cfg, path, false, err, errlen);
	unlink(path);
	return ret;
}

static void defaults(void **state)
{
	struct config cfg;

	config_defaults(&cfg);
	assert_string_equal(cfg.store_dir, "/var/lib/xen-rpmb");
	assert_string_equal(cfg.lock_file, CONFIG_DEFAULT_LOCK_FILE);
	/* Name: stable across "xl create" of the same config (see man page). */
	assert_int_equal(cfg.store_key, STORE_KEY_NAME);
	assert_int_equal(cfg.capacity, 8);
	assert_false(cfg.syslog);
	assert_string_equal(cfg.log_file, "");
	assert_string_equal(cfg.pidfile, "");
}

static void log_destinations(void **state)
{
	struct config cfg;
	char err[512];

	assert_int_equal(load_text(&cfg, "log = /var/log/xen/rpmb.log\n", err,
				   sizeof(err)), 0);
	assert_string_equal(cfg.log_file, "/var/log/xen/rpmb.log");
	assert_false(cfg.syslog);
	/* The last setting wins, and clears a file given before. */
	assert_int_equal(load_text(&cfg, "log = /x.log\nlog = syslog\n", err,
				   sizeof(err)), 0);
	assert_true(cfg.syslog);
	assert_string_equal(cfg.log_file, "");
	assert_int_equal(load_text(&cfg, "log = syslog\nlog = /y.log\n", err,
				   sizeof(err)), 0);
	assert_false(cfg.syslog);
	assert_string_equal(cfg.log_file, "/y.log");
	assert_int_not_equal(load_text(&cfg, "\nlog = rpmb.log\n", err,
				       sizeof(err)), 0);
	assert_non_null(strstr(err, ":2: log must be"));
}

static void paths_must_be_absolute(void **state)
{
	static const char *const cases[] = {
		"store-dir = var/lib/x\n", "pidfile = x.pid\n",
		"lock-file = ./l\n",
	};
	struct config cfg;
	char err[512];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_not_equal(load_text(&cfg, cases[i], err, sizeof(err)), 0);
		if (!strstr(err, ":1: ") || !strstr(err, "not an absolute path"))
			fail_msg("'%s': %s", cases[i], err);
	}
	assert_int_equal(load_text(&cfg, "lock-file = /tmp/l\n", err, sizeof(err)), 0);
	assert_string_equal(cfg.lock_file, "/tmp/l");
}

static void overrides_by_name_or_uuid(void **state)
{
	struct config cfg;
	char err[512];

	assert_int_equal(load_text(&cfg,
		"capacity = 1M\n"
		"guest.optee-vm.capacity = 4M\n"
		"guest.8a0f1c2e-3b4d-4e5f-8a9b-0c1d2e3f4a5b.capacity = 16M\n"
		"guest.optee-vm.capacity = 2M   # the last one wins\n",
		err, sizeof(err)), 0);
	assert_int_equal(cfg.noverrides, 2);
	assert_int_equal(config_capacity_for(&cfg, "optee-vm"), 16);
	assert_int_equal(config_capacity_for(&cfg,
			 "8a0f1c2e-3b4d-4e5f-8a9b-0c1d2e3f4a5b"), 128);
	assert_int_equal(config_capacity_for(&cfg, "optee"), 8);
	assert_int_equal(config_capacity_for(&cfg, "optee-vm2"), 8);
}

static void errors_name_the_line(void **state)
{
	static const struct { const char *text, *want; } cases[] = {
		{ "# c\n\n   \nguest..capacity = 1M\n", ":4: unknown key" },
		{ "guest.x.capacity = 32M\n", ":1: '32M' is not a capacity" },
		{ "log-level = debug\nlog-level = DEBUG\n", ":2: log-level must be" },
		{ "= 1\n", ":1: expected 'key = value'" },
		{ "capacity = 1M\ncapacity\n", ":2: expected 'key = value'" },
		{ "[section]\n", ":1: expected 'key = value'" },
		{ "store-key = Name\n", ":1: store-key must be" },
	};
	struct config cfg;
	char err[512];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_not_equal(load_text(&cfg, cases[i].text, err, sizeof(err)), 0);
		if (!strstr(err, cases[i].want))
			fail_msg("case %zu: '%s' lacks '%s'", i, err, cases[i].want);
	}
}

static void long_lines(void **state)
{
	struct config cfg;
	char err[512], *text = malloc(3000);

	assert_non_null(text);
	strcpy(text, "capacity = 1M\nstore-dir = /");
	memset(text + strlen(text), 'a', 2000);
	strcpy(text + 14 + 13 + 2000, "\n");
	assert_int_not_equal(load_text(&cfg, text, err, sizeof(err)), 0);
	assert_non_null(strstr(err, ":2: line too long"));
	/* A value that fits a line but not the setting. */
	strcpy(text, "store-dir = /");
	memset(text + 13, 'b', 300);
	strcpy(text + 313, "\n");
	assert_int_not_equal(load_text(&cfg, text, err, sizeof(err)), 0);
	assert_non_null(strstr(err, ":1: value must be"));
	free(text);
}

static void last_line_without_newline(void **state)
{
	struct config cfg;
	char err[512];

	assert_int_equal(load_text(&cfg, "max-wr-cnt = 8", err, sizeof(err)), 0);
	assert_int_equal(cfg.max_wr_cnt, 8);
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

/* The example shipped in backend/ must load as it is (make check runs here). */
static void shipped_example(void **state)
{
	struct config cfg;
	char err[512];

	config_defaults(&cfg);
	if (config_load(&cfg, "backend/xen-rpmb-backend.conf", false, err,
			sizeof(err)))
		fail_msg("%s", err);
	assert_string_equal(cfg.store_dir, CONFIG_DEFAULT_STORE_DIR);
	assert_int_equal(cfg.store_key, STORE_KEY_NAME);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(defaults),
		cmocka_unit_test(log_destinations),
		cmocka_unit_test(paths_must_be_absolute),
		cmocka_unit_test(overrides_by_name_or_uuid),
		cmocka_unit_test(errors_name_the_line),
		cmocka_unit_test(long_lines),
		cmocka_unit_test(last_line_without_newline),
		cmocka_unit_test(shipped_example),
		cmocka_unit_test(config_file),
		cmocka_unit_test(config_errors_name_the_line),
		cmocka_unit_test(config_missing_file),
	};

	return cmocka_run_group_tests_name("config", tests, NULL, NULL);
}
