// SPDX-License-Identifier: MIT
/* Escaping identities into names that stay inside the store directory. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "guest-dir.h"

#define UUID_LEN	36

static bool is_uuid(const char *s)
{
	for (int i = 0; i < UUID_LEN; i++) {
		bool dash = i == 8 || i == 13 || i == 18 || i == 23;

		if (dash ? s[i] != '-' : !strchr("0123456789abcdefABCDEF", s[i]) || !s[i])
			return false;
	}
	return s[UUID_LEN] == '\0';
}

const char *uuid_from_vm_path(const char *vm_path)
{
	if (!vm_path || strncmp(vm_path, "/vm/", 4) || !is_uuid(vm_path + 4))
		return NULL;
	return vm_path + 4;
}

static bool plain_char(char c, bool first)
{
	if (c == '.')
		return !first;
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '_' || c == '-';
}

int guest_dir_path(const char *dir, const char *identity, char *out,
		   size_t outlen)
{
	size_t len;
	int n;

	if (!identity || !identity[0])
		return -EINVAL;
	n = snprintf(out, outlen, "%s/", dir);
	if (n < 0 || (size_t)n >= outlen)
		return -ENAMETOOLONG;
	len = (size_t)n;
	for (const char *p = identity; *p; p++) {
		n = plain_char(*p, p == identity) ?
		    snprintf(out + len, outlen - len, "%c", *p) :
		    snprintf(out + len, outlen - len, "%%%02X", (unsigned char)*p);
		if (n < 0 || (size_t)n >= outlen - len)
			return -ENAMETOOLONG;
		len += (size_t)n;
	}
	return 0;
}

int guest_legacy_store_path(const char *dir, const char *identity,
			    unsigned int devid, char *out, size_t outlen)
{
	size_t len;
	int ret = guest_dir_path(dir, identity, out, outlen);

	if (ret)
		return ret;
	len = strlen(out);
	if ((size_t)snprintf(out + len, outlen - len, "-%u.rpmb", devid) >=
	    outlen - len)
		return -ENAMETOOLONG;
	return 0;
}
