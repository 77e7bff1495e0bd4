// SPDX-License-Identifier: GPL-2.0
/*
 * A minimal virtio-rpmb driver for testing devices from inside a guest:
 * Linux's own virtio_mmio and virtio_ring (and Xen grant DMA when the
 * device tree asks for it) drive the queue; user space hands in request
 * frames through /dev/vrpmbN (see include/vrpmb-ioctl.h).
 *
 * Counters: each kick that virtqueue_kick_prepare() says is needed is one
 * QueueNotify write; each callback comes from one interrupt, whose
 * handler in virtio_mmio reads InterruptStatus and writes InterruptACK.
 * So MMIO exits per request = notifies + 2 x interrupts.
 */
#include <linux/completion.h>
#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/scatterlist.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/virtio.h>
#include <linux/virtio_config.h>

#include "vrpmb-ioctl.h"

#define VIRTIO_ID_RPMB_DEV	28
#define XFER_TIMEOUT		(10 * HZ)

struct vrpmb {
	struct virtio_device *vdev;
	struct virtqueue *vq;
	struct miscdevice misc;
	struct mutex lock;
	struct completion done;
	char name[16];
	u8 capacity, max_wr_cnt, max_rd_cnt;
	u64 notifies, interrupts;
	bool broken;
};

static DEFINE_IDA(vrpmb_ida);

static void vrpmb_done(struct virtqueue *vq)
{
	struct vrpmb *v = vq->vdev->priv;

	v->interrupts++;
	complete(&v->done);
}

static int vrpmb_run(struct vrpmb *v, void *req, u32 nreq, void *resp,
		     u32 nresp, u32 flags, u32 *used)
{
	u32 nout = (flags & VRPMB_XFER_ONE_SG) ? 1 : nreq;
	u32 nin = nresp ? 1 : 0;
	struct scatterlist *sg, **sgs;
	unsigned int len, i;
	void *token;
	int ret;

	sg = kcalloc(nout + nin, sizeof(*sg), GFP_KERNEL);
	sgs = kcalloc(nout + nin, sizeof(*sgs), GFP_KERNEL);
	if (!sg || !sgs) {
		ret = -ENOMEM;
		goto out;
	}
	for (i = 0; i < nout; i++) {
		u32 bytes = nout == 1 ? nreq * VRPMB_FRAME_SIZE : VRPMB_FRAME_SIZE;

		sg_init_one(&sg[i], req + i * VRPMB_FRAME_SIZE, bytes);
		sgs[i] = &sg[i];
	}
	if (nin) {
		sg_init_one(&sg[nout], resp, nresp * VRPMB_FRAME_SIZE);
		sgs[nout] = &sg[nout];
	}
	reinit_completion(&v->done);
	ret = virtqueue_add_sgs(v->vq, sgs, nout, nin, v, GFP_KERNEL);
	if (ret)
		goto out;
	if (virtqueue_kick_prepare(v->vq)) {
		v->notifies++;
		virtqueue_notify(v->vq);
	}
	if (!wait_for_completion_timeout(&v->done, XFER_TIMEOUT)) {
		/* The device still owns the buffers: never reuse or free them. */
		v->broken = true;
		dev_err(&v->vdev->dev, "request timed out\n");
		return -ETIMEDOUT;
	}
	token = virtqueue_get_buf(v->vq, &len);
	ret = token == v ? 0 : -EIO;
	*used = len;
out:
	kfree(sg);
	kfree(sgs);
	return ret;
}

static long vrpmb_xfer(struct vrpmb *v, struct vrpmb_xfer __user *uarg)
{
	struct vrpmb_xfer x;
	void *req = NULL, *resp = NULL;
	long ret;

	if (copy_from_user(&x, uarg, sizeof(x)))
		return -EFAULT;
	if (!x.nreq || x.nreq > VRPMB_MAX_FRAMES || x.nresp > VRPMB_MAX_FRAMES)
		return -EINVAL;
	req = kmalloc_array(x.nreq, VRPMB_FRAME_SIZE, GFP_KERNEL);
	resp = kcalloc(x.nresp ?: 1, VRPMB_FRAME_SIZE, GFP_KERNEL);
	if (!req || !resp) {
		ret = -ENOMEM;
		goto out;
	}
	if (copy_from_user(req, u64_to_user_ptr(x.req), x.nreq * VRPMB_FRAME_SIZE)) {
		ret = -EFAULT;
		goto out;
	}
	mutex_lock(&v->lock);
	ret = v->broken ? -EIO : vrpmb_run(v, req, x.nreq, resp, x.nresp,
					   x.flags, &x.used);
	mutex_unlock(&v->lock);
	if (ret == -ETIMEDOUT) {
		req = resp = NULL;	/* leaked on purpose: still the device's */
		goto out;
	}
	if (!ret && (x.used > x.nresp * VRPMB_FRAME_SIZE ||
		     copy_to_user(u64_to_user_ptr(x.resp), resp, x.used) ||
		     copy_to_user(uarg, &x, sizeof(x))))
		ret = -EFAULT;
out:
	kfree_sensitive(req);
	kfree(resp);
	return ret;
}

static long vrpmb_ioctl(struct file *f, unsigned int cmd, unsigned long arg)
{
	struct vrpmb *v = container_of(f->private_data, struct vrpmb, misc);
	struct vrpmb_info info = { 0 };

	switch (cmd) {
	case VRPMB_IOC_XFER:
		return vrpmb_xfer(v, (void __user *)arg);
	case VRPMB_IOC_INFO:
		info.capacity = v->capacity;
		info.max_wr_cnt = v->max_wr_cnt;
		info.max_rd_cnt = v->max_rd_cnt;
		mutex_lock(&v->lock);
		info.notifies = v->notifies;
		info.interrupts = v->interrupts;
		mutex_unlock(&v->lock);
		return copy_to_user((void __user *)arg, &info, sizeof(info)) ?
		       -EFAULT : 0;
	default:
		return -ENOTTY;
	}
}

static const struct file_operations vrpmb_fops = {
	.owner = THIS_MODULE,
	.unlocked_ioctl = vrpmb_ioctl,
};

static int vrpmb_probe(struct virtio_device *vdev)
{
	struct vrpmb *v;
	int id, ret;

	v = devm_kzalloc(&vdev->dev, sizeof(*v), GFP_KERNEL);
	if (!v)
		return -ENOMEM;
	id = ida_alloc(&vrpmb_ida, GFP_KERNEL);
	if (id < 0)
		return id;
	v->vdev = vdev;
	vdev->priv = v;
	mutex_init(&v->lock);
	init_completion(&v->done);
	v->capacity = virtio_cread8(vdev, 0);
	v->max_wr_cnt = virtio_cread8(vdev, 1);
	v->max_rd_cnt = virtio_cread8(vdev, 2);
	v->vq = virtio_find_single_vq(vdev, vrpmb_done, "requestq");
	if (IS_ERR(v->vq)) {
		ret = PTR_ERR(v->vq);
		goto err_ida;
	}
	virtio_device_ready(vdev);
	snprintf(v->name, sizeof(v->name), "vrpmb%d", id);
	v->misc.minor = MISC_DYNAMIC_MINOR;
	v->misc.name = v->name;
	v->misc.fops = &vrpmb_fops;
	ret = misc_register(&v->misc);
	if (ret)
		goto err_vqs;
	dev_info(&vdev->dev, "%s: capacity %u x 128 KiB, max_wr_cnt %u, max_rd_cnt %u\n",
		 v->name, v->capacity, v->max_wr_cnt, v->max_rd_cnt);
	return 0;
err_vqs:
	virtio_reset_device(vdev);
	vdev->config->del_vqs(vdev);
err_ida:
	ida_free(&vrpmb_ida, id);
	return ret;
}

static void vrpmb_remove(struct virtio_device *vdev)
{
	struct vrpmb *v = vdev->priv;
	int id;

	misc_deregister(&v->misc);
	virtio_reset_device(vdev);
	vdev->config->del_vqs(vdev);
	if (sscanf(v->name, "vrpmb%d", &id) == 1)
		ida_free(&vrpmb_ida, id);
}

static const struct virtio_device_id vrpmb_ids[] = {
	{ VIRTIO_ID_RPMB_DEV, VIRTIO_DEV_ANY_ID },
	{ 0 },
};
MODULE_DEVICE_TABLE(virtio, vrpmb_ids);

static struct virtio_driver vrpmb_driver = {
	.driver.name = "virtio_rpmb_test",
	.driver.owner = THIS_MODULE,
	.id_table = vrpmb_ids,
	.probe = vrpmb_probe,
	.remove = vrpmb_remove,
};
module_virtio_driver(vrpmb_driver);

MODULE_DESCRIPTION("virtio-rpmb test driver (request frames from user space)");
MODULE_LICENSE("GPL");
