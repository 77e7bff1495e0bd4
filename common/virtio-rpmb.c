// SPDX-License-Identifier: MIT
/*
 * virtio-rpmb (device id 28): one request queue; each chain carries the
 * request frames (device-readable) followed by room for the response
 * frames (device-writable). Frames may be split across descriptors in any
 * way, so they are gathered into a bounce buffer first: the guest cannot
 * change a frame while the RPMB core looks at it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "rpmb.h"
#include "virtio-rpmb.h"

#define RPMB_QUEUE_SIZE	128
/*
 * Response frames are built in private memory and copied to the guest
 * this many at a time: one mapping per batch rather than per frame,
 * without holding a whole (up to 4 MiB) read response.
 */
#define RESP_STAGE	16

struct virtio_rpmb {
	struct virtio_dev vdev;		/* first: the transport sees only this */
	struct rpmb_dev *rpmb;
	struct rpmb_config config;
	size_t max_req_frames;
	struct rpmb_frame *req;

	/* Delivery of the response being produced (see resp_put). */
	struct virtqueue *vq;
	const struct vq_chain *chain;
	struct vq_cursor cursor;
	struct rpmb_frame stage[RESP_STAGE];
	size_t staged;
	bool resp_failed;
};

static struct virtio_rpmb *to_vr(struct virtio_dev *dev)
{
	return (struct virtio_rpmb *)dev;
}

static void rpmb_get_config(struct virtio_dev *dev, uint8_t *config)
{
	struct virtio_rpmb *vr = to_vr(dev);

	config[0] = vr->config.capacity;
	config[1] = vr->config.max_wr_cnt;
	config[2] = vr->config.max_rd_cnt;
}

static int resp_flush(struct virtio_rpmb *vr)
{
	int ret = 0;

	if (vr->staged && !vr->resp_failed)
		ret = vq_scatter_at(vr->vq, vr->chain, &vr->cursor, vr->stage,
				    vr->staged * RPMB_FRAME_SIZE);
	vr->staged = 0;
	if (ret)
		vr->resp_failed = true;
	return ret;
}

static int resp_put(void *opaque, size_t index, const struct rpmb_frame *frame)
{
	struct virtio_rpmb *vr = opaque;

	vr->stage[vr->staged++] = *frame;
	return vr->staged == RESP_STAGE ? resp_flush(vr) : 0;
}

/* Returns the number of bytes written to the guest's response buffers. */
static uint32_t rpmb_handle_chain(struct virtio_dev *dev, unsigned int queue,
				  struct virtqueue *vq,
				  const struct vq_chain *chain)
{
	struct virtio_rpmb *vr = to_vr(dev);
	struct rpmb_sink sink = { .put = resp_put, .opaque = vr };
	size_t nreq, nresp;

	if (!chain->readable_len || chain->readable_len % RPMB_FRAME_SIZE ||
	    chain->readable_len / RPMB_FRAME_SIZE > vr->max_req_frames) {
		guest_log(&dev->log, "request of %u bytes is not 1..%zu frames",
			  chain->readable_len, vr->max_req_frames);
		return 0;
	}
	nreq = chain->readable_len / RPMB_FRAME_SIZE;
	if (vq_gather(vq, chain, vr->req, chain->readable_len)) {
		/* Part of a PROGRAM_KEY frame may have arrived. */
		explicit_bzero(vr->req, chain->readable_len);
		return 0;
	}

	vr->vq = vq;
	vr->chain = chain;
	vq_cursor_init(chain, &vr->cursor);
	vr->staged = 0;
	vr->resp_failed = false;
	nresp = rpmb_dev_process(vr->rpmb, vr->req, nreq,
				 chain->writable_len / RPMB_FRAME_SIZE, &sink);
	resp_flush(vr);
	/* A PROGRAM_KEY request carries the key in clear. */
	if (rpmb_frame_req_resp(vr->req) == RPMB_REQ_PROGRAM_KEY)
		explicit_bzero(vr->req, nreq * RPMB_FRAME_SIZE);
	/* The staged responses need no wiping: they are the guest's answer. */
	if (vr->resp_failed) {
		/* The request took effect; the guest can ask with RESULT_READ. */
		guest_log(&dev->log, "response could not be delivered");
		return 0;
	}
	return (uint32_t)(nresp * RPMB_FRAME_SIZE);
}

static void rpmb_destroy(struct virtio_dev *dev)
{
	struct virtio_rpmb *vr = to_vr(dev);

	rpmb_dev_free(vr->rpmb);
	/* Request frames may hold a key being programmed. */
	if (vr->req)
		explicit_bzero(vr->req, vr->max_req_frames * sizeof(*vr->req));
	free(vr->req);
	virtio_dev_fini(dev);
	free(vr);
}

static const struct virtio_dev_ops rpmb_ops = {
	.type = "rpmb",
	.device_id = VIRTIO_ID_RPMB,
	.features = 0,		/* virtio-rpmb defines no feature bits */
	.num_queues = 1,
	.queue_max = RPMB_QUEUE_SIZE,
	.config_size = 3,
	.get_config = rpmb_get_config,
	.handle_chain = rpmb_handle_chain,
	.destroy = rpmb_destroy,
};

struct virtio_dev *virtio_rpmb_new(struct rpmb_store *store, const char *name)
{
	struct virtio_rpmb *vr = calloc(1, sizeof(*vr));

	if (!vr)
		return NULL;
	virtio_dev_init(&vr->vdev, &rpmb_ops, name ? name : "virtio-rpmb");
	vr->rpmb = rpmb_dev_new(store, &vr->vdev.log);
	if (!vr->rpmb)
		goto fail;
	rpmb_dev_get_config(vr->rpmb, &vr->config);
	vr->max_req_frames = rpmb_dev_max_req_frames(vr->rpmb);
	vr->req = calloc(vr->max_req_frames, sizeof(*vr->req));
	if (!vr->req)
		goto fail;
	return &vr->vdev;
fail:
	log_err("%s: cannot create device", virtio_dev_name(&vr->vdev));
	rpmb_destroy(&vr->vdev);
	return NULL;
}
