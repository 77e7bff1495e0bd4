/* SPDX-License-Identifier: MIT */
/*
 * The generic virtio device nodes libxl writes (Xen 4.18+,
 * tools/libs/light/libxl_virtio.c, libxl__set_xenstore_virtio, and
 * libxl_device.c, libxl__device_generic_add):
 *
 *   /local/domain/<backend>/backend/virtio/<frontend-domid>/<devid>/
 *       frontend, frontend-id, online, state, irq, base, type,
 *       transport, grant_usage
 *
 * base is written "%#"PRIx64, irq in decimal. Everything is validated
 * here before the device model sees it.
 */
#ifndef BACKEND_VDEV_KEYS_H
#define BACKEND_VDEV_KEYS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "virtio-mmio.h"

/*
 * public/arch-arm.h: GUEST_VIRTIO_MMIO_BASE/_SIZE, _SPI_FIRST/_LAST
 * (guarded by __XEN__/__XEN_TOOLS__ there, and only in the Arm headers,
 * so copied; vdev-keys.c checks them against the header on Arm builds).
 * Each device's window is VIRTIO_MMIO_WINDOW_SIZE (libxl_arm.c's
 * VIRTIO_MMIO_DEV_SIZE).
 */
#define VIRTIO_MMIO_BASE_FIRST	0x02000000ULL
#define VIRTIO_MMIO_AREA_SIZE	0x00100000ULL
#define VIRTIO_MMIO_SPI_FIRST	33
#define VIRTIO_MMIO_SPI_LAST	43

/* public/io/xenbus.h */
enum xenbus_state {
	XB_UNKNOWN = 0,
	XB_INITIALISING = 1,
	XB_INITWAIT = 2,
	XB_INITIALISED = 3,
	XB_CONNECTED = 4,
	XB_CLOSING = 5,
	XB_CLOSED = 6,
};

/*
 * Our own key in each device directory we serve: the id of the guest's
 * ioreq server, so that a restarted daemon can destroy a server a crashed
 * run left behind (only the emulating domain may, and the range stays
 * claimed until then). It vanishes with the directory, so a later guest
 * reusing the domid never sees a stale one.
 */
#define XS_KEY_IOSERVID		"xen-rpmb-ioservid"

struct vdev_keys {
	unsigned int frontend_id;
	unsigned int devid;
	uint64_t base;
	unsigned int irq;
	bool grants;
};

/*
 * Splits "<root>/<frontend>/<devid>[/...]" into its numbers. Returns 0,
 * or -ENOENT if @path is not below a device directory of @root.
 */
int vdev_parse_path(const char *path, const char *root,
			 unsigned int *frontend, unsigned int *devid);

/* Each returns 0 or -EINVAL, with the reason in @err. */
int vdev_parse_base(const char *s, uint64_t *base, char *err, size_t errlen);
int vdev_parse_irq(const char *s, unsigned int *irq, char *err, size_t errlen);
int vdev_parse_grant_usage(const char *s, bool *grants, char *err,
			   size_t errlen);
int vdev_check_transport(const char *s, char *err, size_t errlen);

/* Our persisted ioreq server id (decimal, 0..65535). */
int vdev_parse_ioservid(const char *s, uint16_t *id);

/* Parses a xenbus state; unknown or malformed values give XB_UNKNOWN. */
enum xenbus_state vdev_parse_state(const char *s);

#endif /* BACKEND_VDEV_KEYS_H */
