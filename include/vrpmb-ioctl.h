/* SPDX-License-Identifier: (GPL-2.0 OR MIT) */
/*
 * ABI between the test guest's virtio-rpmb driver (tests/e2e/guest) and
 * rpmb-guest: one ioctl sends one request sequence as one descriptor
 * chain and waits for the device's answer.
 */
#ifndef VRPMB_IOCTL_H
#define VRPMB_IOCTL_H

#ifdef __KERNEL__
#include <linux/types.h>
#else
#include <linux/ioctl.h>
#include <linux/types.h>
#endif

#define VRPMB_FRAME_SIZE	512
#define VRPMB_MAX_FRAMES	256

/* Put all request frames in one descriptor (default: one per frame). */
#define VRPMB_XFER_ONE_SG	(1u << 0)

/* Segments a request may be split into, each way (VRPMB_IOC_XFER_SEGS). */
#define VRPMB_MAX_SEGS		80

struct vrpmb_xfer {
	__u64 req;		/* user pointer: nreq frames */
	__u64 resp;		/* user pointer: room for nresp frames */
	__u32 nreq;
	__u32 nresp;
	__u32 flags;
	__u32 used;		/* out: bytes the device wrote */
};

/*
 * The same, with the buffer boundaries chosen by the caller: @out_len
 * bytes of request frames per device-readable descriptor, @in_len bytes
 * of response room per device-writable one (each list summing to
 * nreq x 512 and nresp x 512): how other frontends lay requests out.
 */
struct vrpmb_xfer_segs {
	struct vrpmb_xfer x;	/* flags unused */
	__u32 nout;
	__u32 nin;
	__u32 out_len[VRPMB_MAX_SEGS];
	__u32 in_len[VRPMB_MAX_SEGS];
};

struct vrpmb_info {
	__u8 capacity;		/* config space, as read by the driver */
	__u8 max_wr_cnt;
	__u8 max_rd_cnt;
	__u8 pad;
	__u32 resets;		/* times the device asked to be reset */
	__u64 notifies;		/* queue notifications the driver sent */
	__u64 interrupts;	/* used-buffer callbacks it received */
};

/*
 * A hostile guest (VRPMB_IOC_FLOOD): keep the queue full of @frames-block
 * reads for @seconds, putting each request back as soon as the device has
 * answered one and notifying every time, never looking at an answer.
 */
struct vrpmb_flood {
	__u32 seconds;
	__u32 frames;		/* response frames per request, 1..max_rd_cnt */
	__u64 requests;		/* out: requests the device answered */
	__u64 notifies;		/* out: notifications sent */
};

#define VRPMB_IOC_XFER	_IOWR('R', 0x40, struct vrpmb_xfer)
#define VRPMB_IOC_INFO	_IOR('R', 0x41, struct vrpmb_info)
#define VRPMB_IOC_XFER_SEGS	_IOWR('R', 0x42, struct vrpmb_xfer_segs)
#define VRPMB_IOC_FLOOD	_IOWR('R', 0x43, struct vrpmb_flood)

#endif /* VRPMB_IOCTL_H */
