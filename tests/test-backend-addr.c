// SPDX-License-Identifier: MIT
/* Guest address decoding (grant and foreign) and store naming, edge cases. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "../backend/gaddr.h"
#include "../backend/store-name.h"

#define G GADDR_GRANT_FLAG

static void grant_page_edges(void **state)
{
	struct gaddr_pages p;

	/* Last byte of a page; the two bytes across a page boundary. */
	assert_int_equal(gaddr_decode(true, G | (5ULL << 12) | 0xfff, 1, &p), 0);
	assert_int_equal(p.first, 5);
	assert_int_equal(p.count, 1);
	assert_int_equal(p.offset, 0xfff);
	assert_int_equal(gaddr_decode(true, G | (5ULL << 12) | 0xfff, 2, &p), 0);
	assert_int_equal(p.count, 2);
	/* Exactly a page from an aligned start is one page. */
	assert_int_equal(gaddr_decode(true, G | (5ULL << 12), 4096, &p), 0);
	assert_int_equal(p.count, 1);
	/* The largest mapping, unaligned: 257 consecutive refs. */
	assert_int_equal(gaddr_decode(true, G | (5ULL << 12) | 1, GADDR_MAX_LEN, &p), 0);
	assert_int_equal(p.count, GADDR_MAX_LEN / 4096 + 1);
	/* Ref 0 is a valid grant reference number to decode. */
	assert_int_equal(gaddr_decode(true, G, 16, &p), 0);
	assert_int_equal(p.first, 0);
	/* The highest 32-bit ref, ending on its own page. */
	assert_int_equal(gaddr_decode(true, G | (0xffffffffULL << 12), 4096, &p), 0);
	assert_int_equal(p.first, 0xffffffffULL);
}

static void grant_refusals(void **state)
{
	struct gaddr_pages p;

	/* Any bit between the ref's 32 bits and bit 63. */
	for (int bit = 44; bit < 63; bit++)
		if (!gaddr_decode(true, G | (1ULL << bit), 16, &p))
			fail_msg("accepted bit %d", bit);
	/* Running past ref 0xffffffff. */
	assert_int_not_equal(gaddr_decode(true, G | (0xffffffffULL << 12), 4097, &p), 0);
	/* Without the grant bit, in grant mode: a guest error. */
	assert_int_not_equal(gaddr_decode(true, 0x8000, 16, &p), 0);
	assert_int_not_equal(gaddr_decode(true, 0, 16, &p), 0);
	/* Lengths. */
	assert_int_not_equal(gaddr_decode(true, G, 0, &p), 0);
	assert_int_not_equal(gaddr_decode(true, G, (size_t)-1, &p), 0);
}

static void foreign_edges(void **state)
{
	struct gaddr_pages p;

	assert_int_equal(gaddr_decode(false, 0, 1, &p), 0);
	assert_int_equal(p.first, 0);
	assert_int_equal(gaddr_decode(false, GADDR_GPA_LIMIT - 4096, 4096, &p), 0);
	assert_int_equal(p.count, 1);
	assert_int_not_equal(gaddr_decode(false, GADDR_GPA_LIMIT - 4096, 4097, &p), 0);
	assert_int_not_equal(gaddr_decode(false, GADDR_GPA_LIMIT, 1, &p), 0);
	/* Wrap-around of addr + len. */
	assert_int_not_equal(gaddr_decode(false, UINT64_MAX - 1, 16, &p), 0);
	assert_int_not_equal(gaddr_decode(false, 0x40000000, GADDR_MAX_LEN + 1, &p), 0);
	assert_int_equal(gaddr_decode(false, 0x40000800, GADDR_MAX_LEN, &p), 0);
	assert_int_equal(p.count, GADDR_MAX_LEN / 4096 + 1);
}

static void store_names_by_identity(void **state)
{
	char out[256];

	/* UUID identities need no escaping. */
	assert_int_equal(store_path("/var/lib/xen-rpmb",
				    "8a0f1c2e-3b4d-4e5f-8a9b-0c1d2e3f4a5b", 1,
				    out, sizeof(out)), 0);
	assert_string_equal(out,
		"/var/lib/xen-rpmb/8a0f1c2e-3b4d-4e5f-8a9b-0c1d2e3f4a5b-1.rpmb");
	/* "." and ".." never name a directory entry of their own. */
	assert_int_equal(store_path("/s", ".", 0, out, sizeof(out)), 0);
	assert_string_equal(out, "/s/%2E-0.rpmb");
	assert_int_equal(store_path("/s", "..", 0, out, sizeof(out)), 0);
	assert_string_equal(out, "/s/%2E.-0.rpmb");
	/* Bytes outside ASCII and control characters are escaped. */
	assert_int_equal(store_path("/s", "v\xc3\xa9\n", 0, out, sizeof(out)), 0);
	assert_string_equal(out, "/s/v%C3%A9%0A-0.rpmb");
	/* The devid keeps two devices of one guest apart. */
	char other[256];

	assert_int_equal(store_path("/s", "vm", 1, other, sizeof(other)), 0);
	assert_int_equal(store_path("/s", "vm", 0, out, sizeof(out)), 0);
	assert_string_not_equal(out, other);
	/* "vm-1" devid 0 vs "vm" devid 1 stay distinct too. */
	assert_int_equal(store_path("/s", "vm-1", 0, out, sizeof(out)), 0);
	assert_string_equal(out, "/s/vm-1-0.rpmb");
	assert_string_equal(other, "/s/vm-1.rpmb");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(grant_page_edges),
		cmocka_unit_test(grant_refusals),
		cmocka_unit_test(foreign_edges),
		cmocka_unit_test(store_names_by_identity),
	};

	return cmocka_run_group_tests_name("backend-addr", tests, NULL, NULL);
}
