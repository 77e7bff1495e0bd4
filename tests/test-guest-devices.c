// SPDX-License-Identifier: MIT
/*
 * A worker's device set (backend/guest-devices.c) over a simulated
 * hypervisor glue: the RPMB type and a second, test-only type (the echo
 * device) go through the same host code, from an ADD request to a device
 * served on the guest's bus and back, and failures leave nothing behind.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "guest-devices.h"
#include "log.h"
#include "rpmb-clients.h"
#include "rpmb-store.h"
#include "rpmb-test-util.h"
#include "sim-driver.h"
#include "sim-echo.h"
#include "virtio-mmio.h"
#include "virtio-rpmb.h"

#define BASE0		0x2000000ULL
#define BASE1		0x2000200ULL
#define GUEST_RAM	0x40000000ULL

/* The test-only kind of device: one new definition, one table row. */
static int echo_params(const struct config *cfg, const char *name,
		       const char *uuid, char *out, size_t len, char *err,
		       size_t errlen)
{
	snprintf(out, len, "-");
	return 0;
}

static struct virtio_dev *echo_create(unsigned int devid, const char *label,
				      const char *params, const char *dir,
				      void **state, char *err, size_t errlen)
{
	struct sim_echo *e = sim_echo_new(label);

	*state = NULL;
	return e ? sim_echo_dev(e) : NULL;
}

static void echo_destroy(struct virtio_dev *dev, void *state)
{
	virtio_dev_destroy(dev);
}

static const struct device_type echo_device_type = {
	.xs_type = "virtio,device7e57",
	.name = "echo",
	.params = echo_params,
	.create = echo_create,
	.destroy = echo_destroy,
};

static const struct device_type *const test_types[] = {
	&rpmb_device_type,
	&echo_device_type,
	NULL,
};

/* The simulated hypervisor: windows claimed, a guest RAM per device. */
struct sim_glue {
	uint64_t claimed[4];
	unsigned int nclaimed;
	struct sim_guest *ram[4];
	int fail_claim;
};

static int sg_claim(void *opaque, uint64_t base)
{
	struct sim_glue *s = opaque;

	if (s->fail_claim)
		return s->fail_claim;
	s->claimed[s->nclaimed++] = base;
	return 0;
}

static void sg_unclaim(void *opaque, uint64_t base)
{
	struct sim_glue *s = opaque;

	for (unsigned int i = 0; i < s->nclaimed; i++)
		if (s->claimed[i] == base)
			s->claimed[i] = s->claimed[--s->nclaimed];
}

static int sg_mem_new(void *opaque, unsigned int devid,
		      const struct wmsg_add *add, struct virtio_host *mem)
{
	struct sim_glue *s = opaque;

	s->ram[devid] = sim_guest_new(GUEST_RAM, SIM_RAM_SIZE);
	*mem = s->ram[devid]->host;
	return 0;
}

static void sg_mem_free(void *opaque, struct virtio_host *mem)
{
	struct sim_glue *s = opaque;

	for (int i = 0; i < 4; i++) {
		if (s->ram[i] && mem->opaque == s->ram[i]) {
			assert_int_equal(s->ram[i]->live_maps, 0);
			sim_guest_free(s->ram[i]);
			s->ram[i] = NULL;
		}
	}
}

static const struct guest_glue_ops sim_glue_ops = {
	.claim = sg_claim,
	.unclaim = sg_unclaim,
	.mem_new = sg_mem_new,
	.mem_free = sg_mem_free,
};

struct fx {
	char *dir;
	struct mmio_bus *bus;
	struct sim_glue glue;
	struct guest_devices *gd;
};

struct window {
	struct mmio_bus *bus;
	uint64_t base;
};

static uint64_t win_rd(void *opaque, uint64_t off, unsigned int size)
{
	struct window *w = opaque;

	return mmio_bus_read(w->bus, w->base + off, size);
}

static void win_wr(void *opaque, uint64_t off, unsigned int size, uint64_t v)
{
	struct window *w = opaque;

	mmio_bus_write(w->bus, w->base + off, size, v);
}

static int setup(void **state)
{
	struct fx *f = test_calloc(1, sizeof(*f));

	vr_log_set_level(VR_LOG_ERR);
	f->dir = rt_tempdir();
	f->bus = mmio_bus_new("guest test (dom7)", 2, 4);
	f->gd = guest_devices_new(test_types, f->dir, f->bus, &sim_glue_ops,
				  &f->glue);
	assert_non_null(f->gd);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	guest_devices_free(f->gd);
	mmio_bus_free(f->bus);
	assert_int_equal(f->glue.nclaimed, 0);
	rt_rmdir(f->dir);
	test_free(f);
	return 0;
}

static struct wmsg_add add_msg(const char *type, uint64_t base, const char *params)
{
	struct wmsg_add a = { .base = base, .irq = 33 };

	snprintf(a.type, sizeof(a.type), "%s", type);
	snprintf(a.label, sizeof(a.label), "guest test (dom7) %s", type);
	snprintf(a.params, sizeof(a.params), "%s", params);
	return a;
}

static void both_kinds_through_the_same_host(void **state)
{
	struct fx *f = *state;
	struct wmsg_add rpmb = add_msg("rpmb", BASE0,
				       "capacity=1 max_wr_cnt=8 max_rd_cnt=8");
	struct wmsg_add echo = add_msg("echo", BASE1, "-");
	struct window w0 = { f->bus, BASE0 }, w1 = { f->bus, BASE1 };
	struct rpmb_frame req, resp;
	struct sim_driver d0, d1;
	uint8_t in[16] = "echo through bus", out[16];
	struct sim_seg segs[2];
	uint32_t id, len;
	char err[256];

	assert_int_equal(guest_devices_add(f->gd, 0, &rpmb, err, sizeof(err)), 0);
	assert_int_equal(guest_devices_add(f->gd, 1, &echo, err, sizeof(err)), 0);
	assert_int_equal(guest_devices_count(f->gd), 2);
	assert_int_equal(f->glue.nclaimed, 2);

	/* The RPMB device answers OP-TEE's first request from its store. */
	sim_driver_init(&d0, f->glue.ram[0], &w0, win_rd, win_wr);
	d0.no_kick = false;
	assert_int_equal(sim_driver_probe(&d0, ~0ULL, 16), 0);
	assert_int_equal(sim_rd32(&d0, VIRTIO_MMIO_DEVICE_ID), VIRTIO_ID_RPMB);
	rc_frame(&req, RPMB_REQ_GET_WRITE_COUNTER);
	memcpy(sim_guest_ptr(f->glue.ram[0], GUEST_RAM + SIM_DATA_OFF), &req, 512);
	segs[0] = (struct sim_seg){ .addr = GUEST_RAM + SIM_DATA_OFF, .len = 512 };
	segs[1] = (struct sim_seg){ .addr = GUEST_RAM + SIM_DATA_OFF + 512,
				    .len = 512, .write = true };
	sim_driver_desc_table(&d0)[0] = (struct sim_desc){
		.addr = segs[0].addr, .len = 512, .flags = SIM_DESC_NEXT, .next = 1,
	};
	sim_driver_desc_table(&d0)[1] = (struct sim_desc){
		.addr = segs[1].addr, .len = 512, .flags = SIM_DESC_WRITE,
	};
	sim_driver_publish(&d0, 0);
	assert_true(sim_driver_wait_used(&d0, &id, &len, 2000));
	assert_int_equal(len, 512);
	memcpy(&resp, sim_guest_ptr(f->glue.ram[0], segs[1].addr), 512);
	assert_int_equal(rpmb_frame_result(&resp), RPMB_RES_NO_AUTH_KEY);

	/* The echo device, through the very same code. */
	sim_driver_init(&d1, f->glue.ram[1], &w1, win_rd, win_wr);
	assert_int_equal(sim_driver_probe(&d1, ~0ULL, 16), 0);
	assert_int_equal(sim_rd32(&d1, VIRTIO_MMIO_DEVICE_ID), SIM_ECHO_DEVICE_ID);
	memcpy(sim_guest_ptr(f->glue.ram[1], GUEST_RAM + SIM_DATA_OFF), in, 16);
	sim_driver_desc_table(&d1)[0] = (struct sim_desc){
		.addr = GUEST_RAM + SIM_DATA_OFF, .len = 16, .flags = SIM_DESC_NEXT,
		.next = 1,
	};
	sim_driver_desc_table(&d1)[1] = (struct sim_desc){
		.addr = GUEST_RAM + SIM_DATA_OFF + 64, .len = 16,
		.flags = SIM_DESC_WRITE,
	};
	sim_driver_publish(&d1, 0);
	assert_true(sim_driver_wait_used(&d1, &id, &len, 2000));
	assert_int_equal(len, 16);
	memcpy(out, sim_guest_ptr(f->glue.ram[1], GUEST_RAM + SIM_DATA_OFF + 64), 16);
	assert_memory_equal(in, out, 16);

	/* Removed: window let go, memory gone, the store closed and unlocked. */
	assert_int_equal(guest_devices_remove(f->gd, 0), 0);
	assert_int_equal(guest_devices_remove(f->gd, 0), -ENOENT);
	assert_int_equal(f->glue.nclaimed, 1);
	assert_null(f->glue.ram[0]);
	char path[512];
	struct rpmb_store *st;

	snprintf(path, sizeof(path), "%s/0.rpmb", f->dir);
	assert_int_equal(rpmb_store_open(path, RPMB_STORE_OPEN_EXISTING, NULL,
					 &st, err, sizeof(err)), 0);
	rpmb_store_close(st);
}

static void failures_leave_nothing(void **state)
{
	struct fx *f = *state;
	struct wmsg_add a;
	char err[256];

	a = add_msg("floppy", BASE0, "");
	assert_int_equal(guest_devices_add(f->gd, 0, &a, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "unknown device type"));
	a = add_msg("rpmb", BASE0, "capacity=1 max_wr_cnt=8");
	assert_int_not_equal(guest_devices_add(f->gd, 0, &a, err, sizeof(err)), 0);
	assert_non_null(strstr(err, "bad settings"));
	a = add_msg("rpmb", BASE0, "capacity=1 max_wr_cnt=8 max_rd_cnt=8");
	f->glue.fail_claim = -EEXIST;
	assert_int_not_equal(guest_devices_add(f->gd, 0, &a, err, sizeof(err)), 0);
	assert_non_null(strstr(err, "cannot claim"));
	f->glue.fail_claim = 0;
	assert_int_equal(guest_devices_count(f->gd), 0);
	assert_int_equal(f->glue.nclaimed, 0);
	assert_null(f->glue.ram[0]);
	/* Two devices in one window: the second is refused and let go. */
	assert_int_equal(guest_devices_add(f->gd, 0, &a, err, sizeof(err)), 0);
	a = add_msg("echo", BASE0 + 0x100, "-");
	assert_int_not_equal(guest_devices_add(f->gd, 1, &a, err, sizeof(err)), 0);
	assert_int_equal(guest_devices_count(f->gd), 1);
	assert_int_equal(f->glue.nclaimed, 1);
	assert_null(f->glue.ram[1]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(both_kinds_through_the_same_host, setup, teardown),
		cmocka_unit_test_setup_teardown(failures_leave_nothing, setup, teardown),
	};

	return cmocka_run_group_tests_name("guest-devices", tests, NULL, NULL);
}
