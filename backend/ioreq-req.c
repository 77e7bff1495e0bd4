// SPDX-License-Identifier: MIT
#include "ioreq-req.h"

enum ioreq_kind ioreq_classify(const ioreq_t *req)
{
	/*
	 * Xen broadcasts INVALIDATE to every enabled server after p2m
	 * removals (arch/arm p2m code); it must be completed like any other.
	 */
	if (req->type == IOREQ_TYPE_INVALIDATE)
		return IOREQ_KIND_INVALIDATE;
	/*
	 * On Arm, try_fwd_ioserv() only ever sends COPY with count 1, no
	 * data pointer, no direction flag and size 1/2/4/8. Refuse the rest
	 * rather than guess (a data pointer would be a guest address).
	 */
	if (req->type != IOREQ_TYPE_COPY || req->count != 1 ||
	    req->data_is_ptr || req->df)
		return IOREQ_KIND_BAD;
	switch (req->size) {
	case 1:
	case 2:
	case 4:
	case 8:
		return IOREQ_KIND_MMIO;
	default:
		return IOREQ_KIND_BAD;
	}
}
