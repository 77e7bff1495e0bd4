// SPDX-License-Identifier: MIT
#include <errno.h>

#include "gaddr.h"

int gaddr_decode(bool grants, uint64_t addr, size_t len,
		 struct gaddr_pages *out)
{
	uint64_t a, last;

	if (!len || len > GADDR_MAX_LEN)
		return -EINVAL;
	if (grants) {
		if (!(addr & GADDR_GRANT_FLAG))
			return -EINVAL;
		a = addr & ~GADDR_GRANT_FLAG;
	} else {
		if (addr >= GADDR_GPA_LIMIT)
			return -EINVAL;
		a = addr;
	}
	last = a + len - 1;
	if (last < a || (!grants && last >= GADDR_GPA_LIMIT))
		return -EINVAL;
	out->first = a >> GADDR_PAGE_SHIFT;
	out->count = (unsigned int)((last >> GADDR_PAGE_SHIFT) - out->first + 1);
	out->offset = (unsigned int)(a & (GADDR_PAGE_SIZE - 1));
	/* Grant references are 32-bit. */
	if (grants && (last >> GADDR_PAGE_SHIFT) > UINT32_MAX)
		return -EINVAL;
	return 0;
}
