/* SPDX-License-Identifier: MIT */
/* Reading and writing one key of a xenstore directory. */
#ifndef BACKEND_XS_KEY_H
#define BACKEND_XS_KEY_H

#include <xenstore.h>

#include "vdev-keys.h"

/* The value (to free), or NULL if absent or unreadable (errno says). */
char *xs_key_read(struct xs_handle *xs, const char *dir, const char *key);
/* 0, or -1 (logged). */
int xs_key_write(struct xs_handle *xs, const char *dir, const char *key,
		 const char *value);
void xs_key_rm(struct xs_handle *xs, const char *dir, const char *key);
void xs_key_write_state(struct xs_handle *xs, const char *dir,
			enum xenbus_state state);

#endif /* BACKEND_XS_KEY_H */
