// SPDX-License-Identifier: MIT
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "parse.h"
#include "rpmb-frame.h"

int parse_u64(const char *s, uint64_t max, uint64_t *out)
{
	unsigned long long v;
	char *end;

	if (!s || !isdigit((unsigned char)s[0]))
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || *end || end == s)
		return -EINVAL;
	if (v > max)
		return -ERANGE;
	*out = v;
	return 0;
}

int parse_capacity(const char *s, unsigned int *units)
{
	uint64_t n, mult = 0;
	size_t len = s ? strlen(s) : 0;
	char num[32];

	if (!len || len >= sizeof(num))
		return -EINVAL;
	memcpy(num, s, len + 1);
	switch (toupper((unsigned char)num[len - 1])) {
	case 'K':
		mult = 1024;
		break;
	case 'M':
		mult = 1024 * 1024;
		break;
	}
	if (mult)
		num[len - 1] = '\0';
	if (parse_u64(num, UINT32_MAX, &n))
		return -EINVAL;
	if (mult) {
		n *= mult;
		if (n % RPMB_CAPACITY_UNIT)
			return -EINVAL;
		n /= RPMB_CAPACITY_UNIT;
	}
	if (n < 1 || n > RPMB_CAPACITY_MAX)
		return -ERANGE;
	*units = (unsigned int)n;
	return 0;
}
