// SPDX-License-Identifier: MIT
/* Where a guest's device state lives, by its identity (backend/guest-dir.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "guest-dir.h"

static void escaping(void **state)
{
	char out[256], other[256];

	assert_int_equal(guest_dir_path("/var/lib/xen-rpmb", "guest1", out, sizeof(out)), 0);
	assert_string_equal(out, "/var/lib/xen-rpmb/guest1");
	assert_int_equal(guest_dir_path("/s", "../../etc/passwd", out, sizeof(out)), 0);
	assert_string_equal(out, "/s/%2E.%2F..%2Fetc%2Fpasswd");
	assert_null(strchr(out + 3, '/'));
	assert_int_equal(guest_dir_path("/s", ".hidden", out, sizeof(out)), 0);
	assert_string_equal(out, "/s/%2Ehidden");
	assert_int_equal(guest_dir_path("/s", "a b%", out, sizeof(out)), 0);
	assert_string_equal(out, "/s/a%20b%25");
	/* "." and ".." never name a directory entry of their own. */
	assert_int_equal(guest_dir_path("/s", ".", out, sizeof(out)), 0);
	assert_string_equal(out, "/s/%2E");
	assert_int_equal(guest_dir_path("/s", "..", out, sizeof(out)), 0);
	assert_string_equal(out, "/s/%2E.");
	/* Bytes outside ASCII and control characters are escaped. */
	assert_int_equal(guest_dir_path("/s", "v\xc3\xa9\n", out, sizeof(out)), 0);
	assert_string_equal(out, "/s/v%C3%A9%0A");
	/* Escaping keeps names distinct: "a/b" and "a%2Fb" differ. */
	assert_int_equal(guest_dir_path("/s", "a/b", out, sizeof(out)), 0);
	assert_int_equal(guest_dir_path("/s", "a%2Fb", other, sizeof(other)), 0);
	assert_string_not_equal(out, other);
	/* UUID identities need no escaping. */
	assert_int_equal(guest_dir_path("/s", "8a0f1c2e-3b4d-4e5f-8a9b-0c1d2e3f4a5b",
					out, sizeof(out)), 0);
	assert_string_equal(out, "/s/8a0f1c2e-3b4d-4e5f-8a9b-0c1d2e3f4a5b");
	assert_int_not_equal(guest_dir_path("/s", "", out, sizeof(out)), 0);
	assert_int_not_equal(guest_dir_path("/s", NULL, out, sizeof(out)), 0);
	assert_int_not_equal(guest_dir_path("/s", "abcdefgh", out, 8), 0);
}

/* Version 0.1's flat names, which the daemon moves into the directory. */
static void legacy_store_names(void **state)
{
	char out[256], other[256];

	assert_int_equal(guest_legacy_store_path("/s", "vm", 1, other, sizeof(other)), 0);
	assert_string_equal(other, "/s/vm-1.rpmb");
	assert_int_equal(guest_legacy_store_path("/s", "vm-1", 0, out, sizeof(out)), 0);
	assert_string_equal(out, "/s/vm-1-0.rpmb");
	assert_int_not_equal(guest_legacy_store_path("/s", "vm", 0, out, 8), 0);
}

static void uuids(void **state)
{
	assert_string_equal(uuid_from_vm_path("/vm/8a0f1c2e-3b4d-4e5f-8a9b-0c1d2e3f4a5b"),
			    "8a0f1c2e-3b4d-4e5f-8a9b-0c1d2e3f4a5b");
	assert_null(uuid_from_vm_path("/vm/../../x"));
	assert_null(uuid_from_vm_path("/vm/8a0f1c2e-3b4d-4e5f-8a9b-0c1d2e3f4a5"));
	assert_null(uuid_from_vm_path("/vm/8a0f1c2e-3b4d-4e5f-8a9b-0c1d2e3f4a5bb"));
	assert_null(uuid_from_vm_path("8a0f1c2e-3b4d-4e5f-8a9b-0c1d2e3f4a5b"));
	assert_null(uuid_from_vm_path(NULL));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(escaping),
		cmocka_unit_test(legacy_store_names),
		cmocka_unit_test(uuids),
	};

	return cmocka_run_group_tests_name("guest-dir", tests, NULL, NULL);
}
