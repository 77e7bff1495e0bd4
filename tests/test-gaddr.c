// SPDX-License-Identifier: MIT
/* Decoding guest addresses: grant references and guest frames (backend/gaddr.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "gaddr.h"

#define G GADDR_GRANT_FLAG

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


int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(grant_addresses),
		cmocka_unit_test(foreign_addresses),
		cmocka_unit_test(grant_page_edges),
		cmocka_unit_test(grant_refusals),
		cmocka_unit_test(foreign_edges),
	};

	return cmocka_run_group_tests_name("gaddr", tests, NULL, NULL);
}
