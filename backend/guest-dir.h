/* SPDX-License-Identifier: MIT */
/*
 * Where a guest's device state lives: one directory per guest, named
 * after its stable identity, its domain name (default) or its UUID,
 * never its domid (Xen reuses domids). The guest's worker is confined to
 * that directory, so no guest can reach another's state.
 */
#ifndef BACKEND_GUEST_DIR_H
#define BACKEND_GUEST_DIR_H

#include <stddef.h>

/* "/vm/<uuid>" (the domain's "vm" node) -> "<uuid>"; NULL if malformed. */
const char *uuid_from_vm_path(const char *vm_path);

/*
 * Writes "<dir>/<escaped identity>" to @out. Characters outside
 * [A-Za-z0-9_.-] (and a leading '.') are escaped as %XX, so no identity
 * can climb out of @dir or collide with another one. Returns 0, or
 * -EINVAL for an empty identity, -ENAMETOOLONG if it does not fit.
 */
int guest_dir_path(const char *dir, const char *identity, char *out,
		   size_t outlen);

/*
 * Where version 0.1 kept device @devid's store, next to every other
 * guest's: "<dir>/<escaped identity>-<devid>.rpmb" (moved into the
 * guest's directory on first use).
 */
int guest_legacy_store_path(const char *dir, const char *identity,
			    unsigned int devid, char *out, size_t outlen);

#endif /* BACKEND_GUEST_DIR_H */
