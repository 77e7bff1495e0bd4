// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * virtio-rpmb (virtio device id 28) for Linux's RPMB subsystem
 * (drivers/misc/rpmb-core.c, Linux 6.12 and later): each virtio-rpmb
 * device becomes an RPMB device that OP-TEE's in-kernel RPMB path finds
 * and sends its frames to, as it does with an eMMC's RPMB partition.
 *
 * route_frames() behaves as the eMMC provider's (mmc_route_rpmb_frames
 * in drivers/mmc/core/block.c) so that OP-TEE sees no difference: the same
 * request shapes are accepted, and after a key programming or a data
 * write the driver itself appends the RESULT_READ frame that the eMMC
 * provider sends as a second command, so the response is the write's
 * result. Each request is one descriptor chain: the request frames (and
 * the appended RESULT_READ) device-readable, the response device-writable.
 *
 * The RPMB subsystem wants a device id, and OP-TEE derives the device's
 * authentication key from it (with its hardware unique key), so it must
 * be stable across the guest's reboots and differ between guests and
 * between a guest's devices. A virtio-rpmb device has no id of its own,
 * so it is made from the guest's identity as the backend sees it: on
 * Xen, the domain name (which is also what chooses the device's store on
 * the backend side) and the device's MMIO address (which libxl assigns
 * by the device's place in the guest config):
 *
 *   dev_id = SHA-256("virtio-rpmb dev-id v1" 0x00 name 0x00 base-in-hex)[0..15]
 *
 * The id_seed parameter replaces the name (another hypervisor, or a
 * deployment that wants a fixed seed). See the project README, "Device
 * ids and keys", for why neither is a secret and what they protect.
 *
 * Dual licensed: GPL-2.0 as the kernel needs, MIT as the rest of the
 * project.
 */
#include <crypto/sha2.h>
#include <linux/module.h>
#include <linux/platform_device.h>
#include <linux/rpmb.h>
#include <linux/slab.h>
#include <linux/unaligned.h>
#include <linux/virtio.h>
#include <linux/virtio_config.h>
#include <xen/xen.h>
#include <xen/xenbus.h>

#include "virtio_rpmb_queue.h"

#define VIRTIO_ID_RPMB_DEV	28
#define FRAME_SIZE		512
#define DEV_ID_LEN		16
/* Generous: one authenticated write is one fsync on the backend's disk. */
#define XFER_TIMEOUT		(30 * HZ)

/* Request and response types, as in the JEDEC frame (big-endian u16). */
#define RPMB_PROGRAM_KEY	0x0001
#define RPMB_GET_WRITE_COUNTER	0x0002
#define RPMB_WRITE_DATA		0x0003
#define RPMB_READ_DATA		0x0004
#define RPMB_RESULT_READ	0x0005
#define REQ_RESP_OFFSET		510

static char *id_seed;
module_param(id_seed, charp, 0444);
MODULE_PARM_DESC(id_seed, "Replaces the Xen domain name in device ids");

struct vrpmb {
	struct vrpmb_queue q;		/* first: vdev->priv points here */
	struct rpmb_dev *rdev;
	u8 capacity, max_wr_cnt, max_rd_cnt;
	u8 dev_id[DEV_ID_LEN];
};

static u16 frame_type(const u8 *frame)
{
	return get_unaligned_be16(frame + REQ_RESP_OFFSET);
}

/*
 * The eMMC provider's shapes: key programming and counter reads are one
 * frame each way; a write is whole frames in, one frame out; a read one
 * frame in, whole frames out.
 */
static int check_shape(const struct vrpmb *v, u16 type, unsigned int req_len,
		       unsigned int resp_len)
{
	switch (type) {
	case RPMB_PROGRAM_KEY:
	case RPMB_GET_WRITE_COUNTER:
		return req_len == FRAME_SIZE && resp_len == FRAME_SIZE ?
		       0 : -EINVAL;
	case RPMB_WRITE_DATA:
		if (!req_len || req_len % FRAME_SIZE || resp_len != FRAME_SIZE)
			return -EINVAL;
		return req_len / FRAME_SIZE <= v->max_wr_cnt ? 0 : -EINVAL;
	case RPMB_READ_DATA:
		return req_len == FRAME_SIZE && resp_len &&
		       !(resp_len % FRAME_SIZE) ? 0 : -EINVAL;
	default:
		return -EINVAL;
	}
}

static int vrpmb_route_frames(struct device *dev, u8 *req,
			      unsigned int req_len, u8 *resp,
			      unsigned int resp_len)
{
	struct virtio_device *vdev = dev_to_virtio(dev);
	struct vrpmb *v = container_of(vdev->priv, struct vrpmb, q);
	struct scatterlist sg[3], *sgs[3];
	u8 *req_buf = NULL, *result_read = NULL, *resp_buf = NULL;
	unsigned int nout = 1;
	bool write;
	u16 type;
	int ret;

	if (req_len < FRAME_SIZE)
		return -EINVAL;
	type = frame_type(req);
	ret = check_shape(v, type, req_len, resp_len);
	if (ret)
		return ret;
	write = type == RPMB_PROGRAM_KEY || type == RPMB_WRITE_DATA;

	/*
	 * Copies the device can be given: the caller's buffers are OP-TEE's
	 * shared memory, which need not be mappable for DMA (grants).
	 */
	req_buf = kmemdup(req, req_len, GFP_KERNEL);
	resp_buf = kzalloc(resp_len, GFP_KERNEL);
	if (write)
		result_read = kzalloc(FRAME_SIZE, GFP_KERNEL);
	if (!req_buf || !resp_buf || (write && !result_read)) {
		ret = -ENOMEM;
		goto out;
	}
	sg_init_one(&sg[0], req_buf, req_len);
	if (write) {
		/* What the eMMC provider sends as its second command. */
		put_unaligned_be16(RPMB_RESULT_READ,
				   result_read + REQ_RESP_OFFSET);
		sg_init_one(&sg[1], result_read, FRAME_SIZE);
		nout = 2;
	}
	sg_init_one(&sg[nout], resp_buf, resp_len);
	for (unsigned int i = 0; i <= nout; i++)
		sgs[i] = &sg[i];

	ret = vrpmb_queue_xfer(&v->q, sgs, nout, 1, XFER_TIMEOUT);
	if (ret == -ETIMEDOUT) {
		req_buf = resp_buf = result_read = NULL; /* still the device's */
		goto out;
	}
	if (ret >= 0) {
		if (ret != resp_len) {
			dev_warn(&vdev->dev, "request 0x%04x: %d of %u bytes answered\n",
				 type, ret, resp_len);
			ret = -EIO;
		} else {
			memcpy(resp, resp_buf, resp_len);
			ret = 0;
		}
	}
out:
	kfree_sensitive(req_buf);	/* may hold a key */
	kfree(resp_buf);
	kfree(result_read);
	return ret;
}

/* The base of the device's MMIO window, 0 if it has none. */
static u64 mmio_base(struct virtio_device *vdev)
{
	struct device *parent = vdev->dev.parent;
	struct resource *r;

	if (!parent || !dev_is_platform(parent))
		return 0;
	r = platform_get_resource(to_platform_device(parent), IORESOURCE_MEM, 0);
	return r ? r->start : 0;
}

/* See the top of this file. */
static int make_dev_id(struct vrpmb *v)
{
	static const char label[] = "virtio-rpmb dev-id v1";
	u8 digest[SHA256_DIGEST_SIZE];
	char *name = NULL, *msg;
	u64 base = mmio_base(v->q.vdev);
	size_t len;

	if (id_seed && *id_seed) {
		name = kstrdup(id_seed, GFP_KERNEL);
	} else if (xen_domain()) {
		name = xenbus_read(XBT_NIL, "name", "", NULL);
		if (IS_ERR(name))
			name = NULL;
	}
	if (!name) {
		dev_err(&v->q.vdev->dev,
			"no stable identity for a device id: not on Xen and no id_seed\n");
		return -ENODEV;
	}
	/* The label's and the name's terminating NULs are part of it. */
	len = sizeof(label) + strlen(name) + 1 + 16;
	msg = kasprintf(GFP_KERNEL, "%s%c%s%c%016llx", label, 0, name, 0,
			(unsigned long long)base);
	kfree(name);
	if (!msg)
		return -ENOMEM;
	sha256(msg, len, digest);
	kfree(msg);
	memcpy(v->dev_id, digest, DEV_ID_LEN);
	memzero_explicit(digest, sizeof(digest));
	return 0;
}

static int vrpmb_probe(struct virtio_device *vdev)
{
	struct rpmb_descr descr = { .type = RPMB_TYPE_EMMC };
	struct vrpmb *v;
	int ret;

	v = devm_kzalloc(&vdev->dev, sizeof(*v), GFP_KERNEL);
	if (!v)
		return -ENOMEM;
	v->q.vdev = vdev;
	v->capacity = virtio_cread8(vdev, 0);
	v->max_wr_cnt = virtio_cread8(vdev, 1);
	v->max_rd_cnt = virtio_cread8(vdev, 2);
	if (!v->capacity || !v->max_wr_cnt || !v->max_rd_cnt) {
		dev_err(&vdev->dev, "config space says capacity %u, max_wr_cnt %u, max_rd_cnt %u\n",
			v->capacity, v->max_wr_cnt, v->max_rd_cnt);
		return -EINVAL;
	}
	ret = make_dev_id(v);
	if (!ret)
		ret = vrpmb_queue_init(&v->q, vdev);
	if (ret)
		return ret;

	descr.route_frames = vrpmb_route_frames;
	descr.dev_id = v->dev_id;
	descr.dev_id_len = DEV_ID_LEN;
	descr.capacity = v->capacity;
	descr.reliable_wr_count = v->max_wr_cnt;
	v->rdev = rpmb_dev_register(&vdev->dev, &descr);
	if (IS_ERR(v->rdev)) {
		vrpmb_queue_fini(&v->q);
		return PTR_ERR(v->rdev);
	}
	dev_info(&vdev->dev, "%s: %u x 128 KiB, max_wr_cnt %u, max_rd_cnt %u, id %*phN\n",
		 dev_name(&v->rdev->dev), v->capacity, v->max_wr_cnt,
		 v->max_rd_cnt, DEV_ID_LEN, v->dev_id);
	return 0;
}

static void vrpmb_remove(struct virtio_device *vdev)
{
	struct vrpmb *v = container_of(vdev->priv, struct vrpmb, q);

	rpmb_dev_unregister(v->rdev);
	vrpmb_queue_fini(&v->q);
}

static const struct virtio_device_id vrpmb_ids[] = {
	{ VIRTIO_ID_RPMB_DEV, VIRTIO_DEV_ANY_ID },
	{ 0 },
};
MODULE_DEVICE_TABLE(virtio, vrpmb_ids);

static struct virtio_driver vrpmb_driver = {
	.driver.name = "virtio_rpmb",
	.id_table = vrpmb_ids,
	.probe = vrpmb_probe,
	.remove = vrpmb_remove,
	.config_changed = vrpmb_queue_config_changed,
};
module_virtio_driver(vrpmb_driver);

MODULE_DESCRIPTION("virtio-rpmb devices for the kernel's RPMB subsystem");
MODULE_LICENSE("Dual MIT/GPL");
