/* SPDX-License-Identifier: MIT */
/*
 * RPMB device emulation: turns a sequence of request frames into response
 * frames, as the virtio-rpmb device section and JEDEC eMMC RPMB specify.
 * Knows nothing of virtio transports or hypervisors.
 */
#ifndef RPMB_H
#define RPMB_H

#include <stddef.h>
#include <stdint.h>

#include "rpmb-frame.h"

struct guest_log;
struct rpmb_store;
struct rpmb_dev;

struct rpmb_config {
	uint8_t capacity;	/* 128 KiB units */
	uint8_t max_wr_cnt;
	uint8_t max_rd_cnt;
};

/*
 * Where response frames go: one call per frame, in order, each frame
 * complete (built and MACed in the device's own memory, never in the
 * guest's). A read answers with up to thousands of frames, so responses
 * are streamed rather than built whole. @put returns 0, or a negative
 * errno to say the frame could not be delivered; the device then stops
 * producing frames for this request (its effect, if any, stands: the
 * client can ask with RESULT_READ).
 */
struct rpmb_sink {
	int (*put)(void *opaque, size_t index, const struct rpmb_frame *frame);
	void *opaque;
};

/*
 * Creates a device on top of an open store. The store stays owned by the
 * caller and must outlive the device; so must @log, where complaints
 * about what the guest sent go (NULL: nowhere). Returns NULL on
 * allocation or crypto-library failure.
 */
struct rpmb_dev *rpmb_dev_new(struct rpmb_store *store, struct guest_log *log);

/* Frees the device and wipes the key it cached. NULL is fine. */
void rpmb_dev_free(struct rpmb_dev *dev);

void rpmb_dev_get_config(const struct rpmb_dev *dev, struct rpmb_config *cfg);

/*
 * Handles one request sequence: @nreq frames the guest sent, and room
 * for @room response frames it provided. Hands the response frames to
 * @sink and returns how many it produced (0 when the sequence asks for
 * no response, e.g. a DATA_WRITE without RESULT_READ). Never fails: every
 * problem becomes an RPMB result code in the response or in the stored
 * result. See README "RPMB behaviour" for what each request may carry.
 */
size_t rpmb_dev_process(struct rpmb_dev *dev,
			const struct rpmb_frame *req, size_t nreq,
			size_t room, const struct rpmb_sink *sink);

/* The same, into an array of @resp_cap frames (tests and tools). */
size_t rpmb_dev_process_frames(struct rpmb_dev *dev,
			       const struct rpmb_frame *req, size_t nreq,
			       struct rpmb_frame *resp, size_t resp_cap);

/* The largest request sequence (in frames) the device will ever accept. */
size_t rpmb_dev_max_req_frames(const struct rpmb_dev *dev);

#endif /* RPMB_H */
