// SPDX-License-Identifier: MIT
/* The table of device kinds, and looking them up. */
#include <string.h>

#include "device-types.h"

const struct device_type *const device_types[] = {
	&rpmb_device_type,
	NULL,
};

const struct device_type *device_type_by_xs(const struct device_type *const *table,
					    const char *xs_type)
{
	for (; xs_type && *table; table++)
		if (!strcmp((*table)->xs_type, xs_type))
			return *table;
	return NULL;
}

const struct device_type *device_type_by_name(const struct device_type *const *table,
					      const char *name)
{
	for (; name && *table; table++)
		if (!strcmp((*table)->name, name))
			return *table;
	return NULL;
}
