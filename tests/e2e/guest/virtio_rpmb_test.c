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
 *
 * The queue (one request at a time, and the reset a device asks for with
 * DEVICE_NEEDS_RESET) is the real driver's, tools/linux-virtio-rpmb/.
 */
#include <linux/fs.h>
#include <linux/jiffies.h>
#include <linux/sched/signal.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "virtio_rpmb_queue.h"
#include "vrpmb-ioctl.h"

#define VIRTIO_ID_RPMB_DEV	28
#define XFER_TIMEOUT		(10 * HZ)

struct vrpmb {
	struct vrpmb_queue q;		/* first: vdev->priv points here */
	struct miscdevice misc;
	char name[16];
	u8 capacity, max_wr_cnt, max_rd_cnt;
};

static DEFINE_IDA(vrpmb_ida);

/* One request: request frames in @nout pieces, response room in @nin. */
static int vrpmb_run(struct vrpmb *v, void *req, void *resp,
		     const struct vrpmb_xfer_segs *s, u32 *used)
{
	struct scatterlist *sg, **sgs;
	unsigned int i, n = s->nout + s->nin;
	u32 off;
	int ret;

	sg = kcalloc(n, sizeof(*sg), GFP_KERNEL);
	sgs = kcalloc(n, sizeof(*sgs), GFP_KERNEL);
	if (!sg || !sgs) {
		ret = -ENOMEM;
		goto out;
	}
	for (i = 0, off = 0; i < s->nout; off += s->out_len[i], i++) {
		sg_init_one(&sg[i], req + off, s->out_len[i]);
		sgs[i] = &sg[i];
	}
	for (i = 0, off = 0; i < s->nin; off += s->in_len[i], i++) {
		sg_init_one(&sg[s->nout + i], resp + off, s->in_len[i]);
		sgs[s->nout + i] = &sg[s->nout + i];
	}
	ret = vrpmb_queue_xfer(&v->q, sgs, s->nout, s->nin, XFER_TIMEOUT);
	if (ret >= 0) {
		*used = ret;
		ret = 0;
	}
out:
	kfree(sg);
	kfree(sgs);
	return ret;
}

/* The segments must cover the frames exactly, with no empty piece. */
static bool segs_ok(const u32 *lens, u32 n, u32 total)
{
	u64 sum = 0;
	u32 i;

	if (n > VRPMB_MAX_SEGS)
		return false;
	for (i = 0; i < n; i++) {
		if (!lens[i])
			return false;
		sum += lens[i];
	}
	return sum == total;
}

/* The classic ioctl's layouts: one piece per frame, or one for all. */
static void segs_from_flags(struct vrpmb_xfer_segs *s)
{
	u32 i;

	if (s->x.flags & VRPMB_XFER_ONE_SG) {
		s->nout = 1;
		s->out_len[0] = s->x.nreq * VRPMB_FRAME_SIZE;
	} else {
		s->nout = s->x.nreq;
		for (i = 0; i < s->nout; i++)
			s->out_len[i] = VRPMB_FRAME_SIZE;
	}
	s->nin = s->x.nresp ? 1 : 0;
	s->in_len[0] = s->x.nresp * VRPMB_FRAME_SIZE;
}

static long vrpmb_xfer(struct vrpmb *v, void __user *uarg, bool with_segs)
{
	struct vrpmb_xfer_segs *s;
	void *req = NULL, *resp = NULL;
	long ret;

	s = kzalloc(sizeof(*s), GFP_KERNEL);
	if (!s)
		return -ENOMEM;
	if (copy_from_user(s, uarg, with_segs ? sizeof(*s) : sizeof(s->x))) {
		ret = -EFAULT;
		goto out;
	}
	ret = -EINVAL;
	if (!s->x.nreq || s->x.nreq > VRPMB_MAX_FRAMES ||
	    s->x.nresp > VRPMB_MAX_FRAMES)
		goto out;
	if (!with_segs)
		segs_from_flags(s);
	if (!segs_ok(s->out_len, s->nout, s->x.nreq * VRPMB_FRAME_SIZE) ||
	    !segs_ok(s->in_len, s->nin, s->x.nresp * VRPMB_FRAME_SIZE))
		goto out;
	req = kmalloc_array(s->x.nreq, VRPMB_FRAME_SIZE, GFP_KERNEL);
	resp = kcalloc(s->x.nresp ?: 1, VRPMB_FRAME_SIZE, GFP_KERNEL);
	if (!req || !resp) {
		ret = -ENOMEM;
		goto out;
	}
	if (copy_from_user(req, u64_to_user_ptr(s->x.req),
			   s->x.nreq * VRPMB_FRAME_SIZE)) {
		ret = -EFAULT;
		goto out;
	}
	ret = vrpmb_run(v, req, resp, s, &s->x.used);
	if (ret == -ETIMEDOUT) {
		req = resp = NULL;	/* leaked on purpose: still the device's */
		goto out;
	}
	if (!ret && (s->x.used > s->x.nresp * VRPMB_FRAME_SIZE ||
		     copy_to_user(u64_to_user_ptr(s->x.resp), resp, s->x.used) ||
		     copy_to_user(uarg, &s->x, sizeof(s->x))))
		ret = -EFAULT;
out:
	kfree_sensitive(req);
	kfree(resp);
	kfree(s);
	return ret;
}

/*
 * VRPMB_IOC_FLOOD: what a hostile guest does. The queue stays full of
 * reads, each put back as soon as the device has answered one, with a
 * notification every time; the answers are never looked at. The device
 * is the flood's until it ends (the queue's lock is held), and one
 * request frame and one response area serve every request in flight.
 */
static long vrpmb_flood(struct vrpmb *v, void __user *uarg)
{
	struct vrpmb_queue *q = &v->q;
	struct scatterlist sg_out, sg_in, *sgs[2] = { &sg_out, &sg_in };
	struct vrpmb_flood fl;
	unsigned int len, inflight = 0;
	unsigned long end;
	u8 *req = NULL, *resp = NULL;
	long ret = 0;

	if (copy_from_user(&fl, uarg, sizeof(fl)))
		return -EFAULT;
	if (!fl.seconds || fl.seconds > 600 || !fl.frames ||
	    fl.frames > v->max_rd_cnt)
		return -EINVAL;
	req = kzalloc(VRPMB_FRAME_SIZE, GFP_KERNEL);
	resp = kcalloc(fl.frames, VRPMB_FRAME_SIZE, GFP_KERNEL);
	if (!req || !resp) {
		ret = -ENOMEM;
		goto out;
	}
	/* DATA_READ of @frames blocks at 0: block_count and req_resp, BE. */
	req[506] = fl.frames >> 8;
	req[507] = fl.frames & 0xff;
	req[511] = 0x04;
	sg_init_one(&sg_out, req, VRPMB_FRAME_SIZE);
	sg_init_one(&sg_in, resp, fl.frames * VRPMB_FRAME_SIZE);
	fl.requests = fl.notifies = 0;

	mutex_lock(&q->lock);
	if (READ_ONCE(q->needs_reset))
		ret = vrpmb_queue_recover(q);
	if (!ret && q->broken)
		ret = -EIO;
	end = jiffies + fl.seconds * HZ;
	while (!ret && time_before(jiffies, end) && !signal_pending(current)) {
		while (!virtqueue_add_sgs(q->vq, sgs, 1, 1, q, GFP_KERNEL)) {
			inflight++;
			virtqueue_notify(q->vq);
			fl.notifies++;
		}
		wait_for_completion_timeout(&q->done, HZ / 100);
		while (virtqueue_get_buf(q->vq, &len)) {
			inflight--;
			fl.requests++;
		}
		if (READ_ONCE(q->needs_reset))
			break;
		cond_resched();
	}
	/* The device finishes what it holds before the buffers go. */
	end = jiffies + 20 * HZ;
	while (inflight && time_before(jiffies, end) &&
	       !READ_ONCE(q->needs_reset)) {
		wait_for_completion_timeout(&q->done, HZ / 10);
		while (virtqueue_get_buf(q->vq, &len)) {
			inflight--;
			fl.requests++;
		}
	}
	/* Whatever it still holds, a reset takes back. */
	if (inflight && vrpmb_queue_recover(q)) {
		req = resp = NULL;	/* still the device's: leaked */
		ret = -EIO;
	}
	mutex_unlock(&q->lock);
	if (!ret && copy_to_user(uarg, &fl, sizeof(fl)))
		ret = -EFAULT;
out:
	kfree(req);
	kfree(resp);
	return ret;
}

static long vrpmb_ioctl(struct file *f, unsigned int cmd, unsigned long arg)
{
	struct vrpmb *v = container_of(f->private_data, struct vrpmb, misc);
	struct vrpmb_info info = { 0 };

	switch (cmd) {
	case VRPMB_IOC_XFER:
		return vrpmb_xfer(v, (void __user *)arg, false);
	case VRPMB_IOC_XFER_SEGS:
		return vrpmb_xfer(v, (void __user *)arg, true);
	case VRPMB_IOC_FLOOD:
		return vrpmb_flood(v, (void __user *)arg);
	case VRPMB_IOC_INFO:
		info.capacity = v->capacity;
		info.max_wr_cnt = v->max_wr_cnt;
		info.max_rd_cnt = v->max_rd_cnt;
		mutex_lock(&v->q.lock);
		info.notifies = v->q.notifies;
		info.interrupts = v->q.interrupts;
		info.resets = v->q.resets;
		mutex_unlock(&v->q.lock);
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
	v->capacity = virtio_cread8(vdev, 0);
	v->max_wr_cnt = virtio_cread8(vdev, 1);
	v->max_rd_cnt = virtio_cread8(vdev, 2);
	ret = vrpmb_queue_init(&v->q, vdev);
	if (ret)
		goto err_ida;
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
	vrpmb_queue_fini(&v->q);
err_ida:
	ida_free(&vrpmb_ida, id);
	return ret;
}

static void vrpmb_remove(struct virtio_device *vdev)
{
	struct vrpmb *v = container_of(vdev->priv, struct vrpmb, q);
	int id;

	misc_deregister(&v->misc);
	vrpmb_queue_fini(&v->q);
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
	.config_changed = vrpmb_queue_config_changed,
};
module_virtio_driver(vrpmb_driver);

MODULE_DESCRIPTION("virtio-rpmb test driver (request frames from user space)");
MODULE_LICENSE("GPL");
