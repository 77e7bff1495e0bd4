/* SPDX-License-Identifier: MIT */
/*
 * The virtio-rpmb device model (device id 28): one request queue, a
 * 3-byte config space, requests handed to the RPMB core. It knows no
 * transport: put it behind one (virtio_mmio_new) and it is served.
 */
#ifndef VIRTIO_RPMB_H
#define VIRTIO_RPMB_H

#include "virtio.h"

#define VIRTIO_ID_RPMB		28

struct rpmb_store;

/*
 * A device on @store, which stays the caller's and must outlive it.
 * @name says which guest and device, for logs. Returns NULL on failure
 * (logged). Freed with virtio_dev_destroy().
 */
struct virtio_dev *virtio_rpmb_new(struct rpmb_store *store, const char *name);

#endif /* VIRTIO_RPMB_H */
