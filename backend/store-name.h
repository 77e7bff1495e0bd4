/* SPDX-License-Identifier: MIT */
/*
 * Which store file belongs to which guest device. Domids are reused by
 * Xen, so a store is named after the guest's stable identity: its domain
 * name (default) or its UUID.
 */
#ifndef BACKEND_STORE_NAME_H
#define BACKEND_STORE_NAME_H

#include <stddef.h>

enum store_key {
	STORE_KEY_NAME,
	STORE_KEY_UUID,
};

/* "/vm/<uuid>" (the domain's "vm" node) -> "<uuid>"; NULL if malformed. */
const char *uuid_from_vm_path(const char *vm_path);

/*
 * Writes "<dir>/<escaped identity>-<devid>.rpmb" to @out. Characters
 * outside [A-Za-z0-9_.-] (and a leading '.') are escaped as %XX, so no
 * identity can climb out of @dir or collide with another one.
 * Returns 0, or -EINVAL for an empty identity, -ENAMETOOLONG if it
 * does not fit.
 */
int store_path(const char *dir, const char *identity, unsigned int devid,
	       char *out, size_t outlen);

#endif /* BACKEND_STORE_NAME_H */
