// SPDX-License-Identifier: MIT
/*
 * Parsing what libxl wrote about a virtio device: strictly, since a
 * malformed value must never reach the device model.
 */
/* The layout constants of public/arch-arm.h are for tools only. */
#define __XEN_TOOLS__ 1

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <xen/xen.h>

#include "parse.h"
#include "vdev-keys.h"

/* On Arm builds, check the copied layout constants against Xen's own. */
#ifdef GUEST_VIRTIO_MMIO_BASE
_Static_assert(GUEST_VIRTIO_MMIO_BASE == VIRTIO_MMIO_BASE_FIRST, "base");
_Static_assert(GUEST_VIRTIO_MMIO_SIZE == VIRTIO_MMIO_AREA_SIZE, "size");
_Static_assert(GUEST_VIRTIO_MMIO_SPI_FIRST == VIRTIO_MMIO_SPI_FIRST, "spi");
_Static_assert(GUEST_VIRTIO_MMIO_SPI_LAST == VIRTIO_MMIO_SPI_LAST, "spi");
#endif

#define DOMID_MAX	0x7fef	/* DOMID_FIRST_RESERVED - 1 */

static int parse_component(const char **p, unsigned int max, unsigned int *out)
{
	char buf[16];
	size_t n = strcspn(*p, "/");
	uint64_t v;

	if (!n || n >= sizeof(buf))
		return -ENOENT;
	memcpy(buf, *p, n);
	buf[n] = '\0';
	/* Directory names are plain decimal; "0x10" or "010" are not ours. */
	if ((buf[0] == '0' && n > 1) || strspn(buf, "0123456789") != n ||
	    parse_u64(buf, max, &v))
		return -ENOENT;
	*out = (unsigned int)v;
	*p += n;
	return 0;
}

int vdev_parse_path(const char *path, const char *root,
			 unsigned int *frontend, unsigned int *devid)
{
	size_t rlen = strlen(root);
	const char *p = path;

	if (strncmp(p, root, rlen) || p[rlen] != '/')
		return -ENOENT;
	p += rlen + 1;
	if (parse_component(&p, DOMID_MAX, frontend))
		return -ENOENT;
	if (*p != '/')
		return -ENOENT;
	p++;
	if (parse_component(&p, INT32_MAX, devid))
		return -ENOENT;
	return (*p == '\0' || *p == '/') ? 0 : -ENOENT;
}

int vdev_parse_base(const char *s, uint64_t *base, char *err, size_t errlen)
{
	uint64_t v;

	if (!s || parse_u64(s, UINT64_MAX, &v)) {
		snprintf(err, errlen, "base '%s' is not a number", s ? s : "");
		return -EINVAL;
	}
	/* Compared without adding to v: a base near 2^64 must not wrap in. */
	if (v < VIRTIO_MMIO_BASE_FIRST ||
	    v > VIRTIO_MMIO_BASE_FIRST + VIRTIO_MMIO_AREA_SIZE - VIRTIO_MMIO_WINDOW_SIZE ||
	    v % VIRTIO_MMIO_WINDOW_SIZE) {
		snprintf(err, errlen,
			 "base %#" PRIx64 " is not a virtio-mmio slot (%#llx..%#llx, %#x apart)",
			 v, VIRTIO_MMIO_BASE_FIRST,
			 VIRTIO_MMIO_BASE_FIRST + VIRTIO_MMIO_AREA_SIZE - 1,
			 VIRTIO_MMIO_WINDOW_SIZE);
		return -EINVAL;
	}
	*base = v;
	return 0;
}

int vdev_parse_irq(const char *s, unsigned int *irq, char *err, size_t errlen)
{
	uint64_t v;

	/* libxl writes it in decimal; "033" would be octal to strtoull. */
	if (!s || strspn(s, "0123456789") != strlen(s) || (s[0] == '0' && s[1]) ||
	    parse_u64(s, UINT32_MAX, &v)) {
		snprintf(err, errlen, "irq '%s' is not a decimal number", s ? s : "");
		return -EINVAL;
	}
	if (v < VIRTIO_MMIO_SPI_FIRST || v > VIRTIO_MMIO_SPI_LAST) {
		snprintf(err, errlen, "irq %" PRIu64 " is not a virtio SPI (%d..%d)",
			 v, VIRTIO_MMIO_SPI_FIRST, VIRTIO_MMIO_SPI_LAST);
		return -EINVAL;
	}
	*irq = (unsigned int)v;
	return 0;
}

int vdev_parse_grant_usage(const char *s, bool *grants, char *err,
			   size_t errlen)
{
	if (s && !strcmp(s, "1")) {
		*grants = true;
		return 0;
	}
	if (s && !strcmp(s, "0")) {
		*grants = false;
		return 0;
	}
	snprintf(err, errlen, "grant_usage '%s' is not 0 or 1", s ? s : "");
	return -EINVAL;
}

int vdev_check_transport(const char *s, char *err, size_t errlen)
{
	if (s && !strcmp(s, "mmio"))
		return 0;
	snprintf(err, errlen, "transport '%s' is not mmio", s ? s : "");
	return -EINVAL;
}

enum xenbus_state vdev_parse_state(const char *s)
{
	uint64_t v;

	if (!s || parse_u64(s, XB_CLOSED, &v))
		return XB_UNKNOWN;
	return (enum xenbus_state)v;
}

int vdev_parse_ioservid(const char *s, uint16_t *id)
{
	uint64_t v;

	/* Plain decimal only, as we write it. */
	if (!s || strspn(s, "0123456789") != strlen(s) ||
	    (s[0] == '0' && s[1]) || parse_u64(s, UINT16_MAX, &v))
		return -EINVAL;
	*id = (uint16_t)v;
	return 0;
}
