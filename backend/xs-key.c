// SPDX-License-Identifier: MIT
/* xenstore access by directory and key name, outside transactions. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "log.h"
#include "xs-key.h"

static int key_path(char *path, size_t len, const char *dir, const char *key)
{
	if ((size_t)snprintf(path, len, "%s/%s", dir, key) >= len) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

char *xs_key_read(struct xs_handle *xs, const char *dir, const char *key)
{
	char path[256];
	unsigned int len;

	if (key_path(path, sizeof(path), dir, key))
		return NULL;
	return xs_read(xs, XBT_NULL, path, &len);
}

int xs_key_write(struct xs_handle *xs, const char *dir, const char *key,
		 const char *value)
{
	char path[256];

	if (key_path(path, sizeof(path), dir, key) ||
	    !xs_write(xs, XBT_NULL, path, value, strlen(value))) {
		log_warn("cannot write %s/%s: %m", dir, key);
		return -1;
	}
	return 0;
}

void xs_key_rm(struct xs_handle *xs, const char *dir, const char *key)
{
	char path[256];

	if (!key_path(path, sizeof(path), dir, key))
		xs_rm(xs, XBT_NULL, path);
}

void xs_key_write_state(struct xs_handle *xs, const char *dir,
			enum xenbus_state state)
{
	char value[4];

	snprintf(value, sizeof(value), "%d", state);
	xs_key_write(xs, dir, "state", value);
}
