/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * The request queue of a virtio-rpmb device, driver side, shared by the
 * RPMB-subsystem driver (virtio_rpmb.c) and the project's test driver
 * (tests/e2e/guest/virtio_rpmb_test.c): one request at a time, each one
 * chain, waited for; and what the virtio core leaves to drivers, a device
 * that sets DEVICE_NEEDS_RESET (the backend lost the queue, e.g. its
 * worker for this guest was restarted): the request in hand fails with
 * -EIO and the next one resets the device and sets the queue up again.
 *
 * Header-only so that each module carries its own copy; a driver puts a
 * struct vrpmb_queue first in its private data and sets vdev->priv to it.
 */
#ifndef VIRTIO_RPMB_QUEUE_H
#define VIRTIO_RPMB_QUEUE_H

#include <linux/completion.h>
#include <linux/mutex.h>
#include <linux/scatterlist.h>
#include <linux/virtio.h>
#include <linux/virtio_config.h>

struct vrpmb_queue {
	struct virtio_device *vdev;
	struct virtqueue *vq;
	struct mutex lock;		/* one request at a time */
	struct completion done;
	bool broken;			/* a request timed out: buffers lost */
	bool needs_reset;		/* set from the config interrupt */
	u32 resets;			/* times the device asked for one */
	u64 notifies, interrupts;	/* for the test driver's counters */
};

static inline void vrpmb_queue_done(struct virtqueue *vq)
{
	struct vrpmb_queue *q = vq->vdev->priv;

	q->interrupts++;
	complete(&q->done);
}

/* Interrupt context: note it, and wake a request waiting in vain. */
static inline void vrpmb_queue_config_changed(struct virtio_device *vdev)
{
	struct vrpmb_queue *q = vdev->priv;

	if (q && vdev->config->get_status(vdev) & VIRTIO_CONFIG_S_NEEDS_RESET) {
		WRITE_ONCE(q->needs_reset, true);
		complete(&q->done);
	}
}

/* Probe: the queue, then DRIVER_OK. */
static inline int vrpmb_queue_init(struct vrpmb_queue *q,
				   struct virtio_device *vdev)
{
	q->vdev = vdev;
	mutex_init(&q->lock);
	init_completion(&q->done);
	vdev->priv = q;
	q->vq = virtio_find_single_vq(vdev, vrpmb_queue_done, "requestq");
	if (IS_ERR(q->vq)) {
		int ret = PTR_ERR(q->vq);

		q->vq = NULL;
		return ret;
	}
	virtio_device_ready(vdev);
	return 0;
}

static inline void vrpmb_queue_fini(struct vrpmb_queue *q)
{
	virtio_reset_device(q->vdev);
	if (q->vq)
		q->vdev->config->del_vqs(q->vdev);
	q->vq = NULL;
}

/*
 * Reset and set up again, as probe and the core's restore path do; after
 * the reset the device holds none of our buffers. Lock held.
 */
static inline int vrpmb_queue_recover(struct vrpmb_queue *q)
{
	struct virtio_device *vdev = q->vdev;
	int ret;

	vrpmb_queue_fini(q);
	WRITE_ONCE(q->needs_reset, false);
	q->broken = false;
	q->resets++;
	virtio_add_status(vdev, VIRTIO_CONFIG_S_ACKNOWLEDGE);
	virtio_add_status(vdev, VIRTIO_CONFIG_S_DRIVER);
	ret = vdev->config->finalize_features(vdev);
	if (ret)
		goto broken;
	virtio_add_status(vdev, VIRTIO_CONFIG_S_FEATURES_OK);
	if (!(vdev->config->get_status(vdev) & VIRTIO_CONFIG_S_FEATURES_OK)) {
		ret = -ENODEV;
		goto broken;
	}
	q->vq = virtio_find_single_vq(vdev, vrpmb_queue_done, "requestq");
	if (IS_ERR(q->vq)) {
		ret = PTR_ERR(q->vq);
		q->vq = NULL;
		goto broken;
	}
	virtio_device_ready(vdev);
	dev_info(&vdev->dev, "device reset at its request (%u so far)\n",
		 q->resets);
	return 0;
broken:
	q->broken = true;
	dev_err(&vdev->dev, "cannot set the device up again: %d\n", ret);
	return ret;
}

/*
 * One chain of @nout readable and @nin writable scatterlists, waited for
 * up to @timeout. Returns the bytes the device wrote, or a negative
 * errno; on -ETIMEDOUT the device still owns the buffers and the caller
 * must never free or reuse them. Takes the lock.
 */
static inline int vrpmb_queue_xfer(struct vrpmb_queue *q,
				   struct scatterlist **sgs, unsigned int nout,
				   unsigned int nin, unsigned long timeout)
{
	unsigned int len;
	void *token;
	int ret;

	mutex_lock(&q->lock);
	if (READ_ONCE(q->needs_reset)) {
		ret = vrpmb_queue_recover(q);
		if (ret)
			goto out;
	}
	ret = -EIO;
	if (q->broken)
		goto out;
	reinit_completion(&q->done);
	ret = virtqueue_add_sgs(q->vq, sgs, nout, nin, q, GFP_KERNEL);
	if (ret)
		goto out;
	if (virtqueue_kick_prepare(q->vq)) {
		q->notifies++;
		virtqueue_notify(q->vq);
	}
	/* An interrupt with nothing used (spurious, shared) waits again. */
	while (!(token = virtqueue_get_buf(q->vq, &len))) {
		if (READ_ONCE(q->needs_reset)) {
			/* Lost with the backend's state; the reset frees them. */
			dev_warn(&q->vdev->dev,
				 "request lost: the device needs a reset\n");
			ret = vrpmb_queue_recover(q) ?: -EIO;
			goto out;
		}
		if (!wait_for_completion_timeout(&q->done, timeout)) {
			q->broken = true;
			dev_err(&q->vdev->dev, "request timed out\n");
			ret = -ETIMEDOUT;
			goto out;
		}
	}
	ret = token == q ? (int)len : -EIO;
out:
	mutex_unlock(&q->lock);
	return ret;
}

#endif /* VIRTIO_RPMB_QUEUE_H */
