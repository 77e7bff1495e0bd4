// SPDX-License-Identifier: MIT
/* Classifying the ioreqs Xen forwards (backend/ioreq-req.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "ioreq-req.h"

static ioreq_t mmio(uint64_t addr, uint32_t size, int dir)
{
	ioreq_t r;

	memset(&r, 0, sizeof(r));
	r.addr = addr;
	r.size = size;
	r.count = 1;
	r.dir = dir;
	r.type = IOREQ_TYPE_COPY;
	r.state = STATE_IOREQ_READY;
	return r;
}

static void layout(void **state)
{
	/* The shared page holds 32-byte slots: 128 vCPUs fit in a page. */
	assert_int_equal(sizeof(ioreq_t), 32);
	assert_int_equal(IOREQ_MAX_VCPUS, 128);
}

static void plain_accesses(void **state)
{
	static const uint32_t ok[] = { 1, 2, 4, 8 };

	for (size_t i = 0; i < 4; i++) {
		ioreq_t r = mmio(0x2000000, ok[i], IOREQ_READ);

		assert_int_equal(ioreq_classify(&r), IOREQ_KIND_MMIO);
		r.dir = IOREQ_WRITE;
		assert_int_equal(ioreq_classify(&r), IOREQ_KIND_MMIO);
	}
}

static void invalidate_is_completed(void **state)
{
	ioreq_t r = mmio(0, 0, IOREQ_WRITE);

	/* Xen's mapcache broadcast: size/count are meaningless for it. */
	r.type = IOREQ_TYPE_INVALIDATE;
	r.count = 0;
	assert_int_equal(ioreq_classify(&r), IOREQ_KIND_INVALIDATE);
}

static void odd_requests_are_refused(void **state)
{
	static const uint32_t sizes[] = { 0, 3, 5, 16, 0xffffffff };
	ioreq_t r;

	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		r = mmio(0x2000000, sizes[i], IOREQ_READ);
		assert_int_equal(ioreq_classify(&r), IOREQ_KIND_BAD);
	}
	r = mmio(0x2000000, 4, IOREQ_READ);
	r.count = 2;				/* rep */
	assert_int_equal(ioreq_classify(&r), IOREQ_KIND_BAD);
	r.count = 0;
	assert_int_equal(ioreq_classify(&r), IOREQ_KIND_BAD);
	r = mmio(0x2000000, 4, IOREQ_READ);
	r.data_is_ptr = 1;			/* data would be a guest address */
	assert_int_equal(ioreq_classify(&r), IOREQ_KIND_BAD);
	r = mmio(0x2000000, 4, IOREQ_READ);
	r.df = 1;
	assert_int_equal(ioreq_classify(&r), IOREQ_KIND_BAD);
	static const uint8_t types[] = {
		IOREQ_TYPE_PIO, IOREQ_TYPE_PCI_CONFIG, IOREQ_TYPE_TIMEOFFSET, 3, 255,
	};
	for (size_t i = 0; i < sizeof(types); i++) {
		r = mmio(0x2000000, 4, IOREQ_READ);
		r.type = types[i];
		assert_int_equal(ioreq_classify(&r), IOREQ_KIND_BAD);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(layout),
		cmocka_unit_test(plain_accesses),
		cmocka_unit_test(invalidate_is_completed),
		cmocka_unit_test(odd_requests_are_refused),
	};

	return cmocka_run_group_tests_name("ioreq-req", tests, NULL, NULL);
}
