// SPDX-License-Identifier: MIT
/*
 * virtio-mmio register file and status state machine, driven through a
 * simulated guest (test-side RAM + driver) against the echo test device.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "log.h"
#include "sim-driver.h"
#include "sim-echo.h"
#include "virtio-mmio.h"

#define GUEST_BASE	0x40000000ULL

struct fixture {
	struct sim_guest *g;
	struct sim_echo *e;
	struct virtio_mmio *vm;
	struct sim_driver d;
};

static int setup(void **state)
{
	struct fixture *f = test_calloc(1, sizeof(*f));

	vr_log_set_level(VR_LOG_ERR);
	f->g = sim_guest_new(GUEST_BASE, SIM_RAM_SIZE);
	f->e = sim_echo_new(NULL);
	assert_non_null(f->e);
	f->vm = virtio_mmio_new(sim_echo_dev(f->e), &f->g->host);
	assert_non_null(f->vm);
	sim_driver_init_mmio(&f->d, f->g, f->vm);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	virtio_mmio_free(f->vm);
	virtio_dev_destroy(sim_echo_dev(f->e));
	assert_int_equal(f->g->live_maps, 0);
	sim_guest_free(f->g);
	test_free(f);
	return 0;
}

static uint32_t rd(struct fixture *f, uint64_t off)
{
	return sim_rd32(&f->d, off);
}

static void wr(struct fixture *f, uint64_t off, uint32_t v)
{
	sim_wr32(&f->d, off, v);
}

static void identity_registers(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(rd(f, VIRTIO_MMIO_MAGIC_VALUE), 0x74726976);
	assert_int_equal(rd(f, VIRTIO_MMIO_VERSION_REG), 2);
	assert_int_equal(rd(f, VIRTIO_MMIO_DEVICE_ID), SIM_ECHO_DEVICE_ID);
	assert_int_equal(rd(f, VIRTIO_MMIO_VENDOR_ID_REG), VIRTIO_MMIO_VENDOR_ID);
	assert_int_equal(rd(f, VIRTIO_MMIO_STATUS), 0);
	assert_int_equal(rd(f, VIRTIO_MMIO_INTERRUPT_STATUS), 0);
	assert_int_equal(rd(f, VIRTIO_MMIO_CONFIG_GENERATION), 0);
	assert_int_equal(rd(f, VIRTIO_MMIO_SHM_LEN_LOW), 0xffffffff);
	assert_int_equal(rd(f, VIRTIO_MMIO_SHM_LEN_HIGH), 0xffffffff);
}

static void device_features(void **state)
{
	struct fixture *f = *state;

	wr(f, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
	assert_int_equal(rd(f, VIRTIO_MMIO_DEVICE_FEATURES),
			 (1u << VIRTIO_RING_F_INDIRECT_DESC) |
			 (1u << VIRTIO_RING_F_EVENT_IDX));
	wr(f, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 1);
	assert_int_equal(rd(f, VIRTIO_MMIO_DEVICE_FEATURES), 0x3); /* VERSION_1, ACCESS_PLATFORM */
	wr(f, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 7);
	assert_int_equal(rd(f, VIRTIO_MMIO_DEVICE_FEATURES), 0);
}

static void probe_like_linux(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(sim_driver_probe(&f->d, ~0ULL, 16), 0);
	assert_int_equal(rd(f, VIRTIO_MMIO_STATUS), 0xf);
	assert_int_equal(rd(f, VIRTIO_MMIO_QUEUE_READY), 1);
	assert_int_equal(rd(f, VIRTIO_MMIO_QUEUE_NUM_MAX), SIM_ECHO_QUEUE_MAX);
	assert_int_equal(f->d.features,
			 SIM_F_VERSION_1 | SIM_F_ACCESS_PLATFORM |
			 SIM_F_INDIRECT | SIM_F_EVENT_IDX);
}

static void features_ok_refused_without_version_1(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(sim_driver_probe(&f->d, SIM_F_INDIRECT, 16), -1);
	assert_false(rd(f, VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_FEATURES_OK);
	/* Queues cannot be enabled without FEATURES_OK. */
	wr(f, VIRTIO_MMIO_QUEUE_NUM, 16);
	wr(f, VIRTIO_MMIO_QUEUE_READY, 1);
	assert_int_equal(rd(f, VIRTIO_MMIO_QUEUE_READY), 0);
}

static void features_ok_refused_for_unoffered_bits(void **state)
{
	struct fixture *f = *state;

	wr(f, VIRTIO_MMIO_STATUS, 0);
	wr(f, VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
	wr(f, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
	wr(f, VIRTIO_MMIO_DRIVER_FEATURES, 1 | (1u << 2));	/* VERSION_1 + bit 34 */
	wr(f, VIRTIO_MMIO_STATUS, 0xb);
	assert_int_equal(rd(f, VIRTIO_MMIO_STATUS), 0x3);
	/* DRIVER_OK without FEATURES_OK is not accepted either. */
	wr(f, VIRTIO_MMIO_STATUS, 0x7);
	assert_int_equal(rd(f, VIRTIO_MMIO_STATUS), 0x3);
}

static void features_frozen_after_features_ok(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(sim_driver_probe(&f->d, SIM_F_VERSION_1, 16), 0);
	wr(f, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
	wr(f, VIRTIO_MMIO_DRIVER_FEATURES, 1u << VIRTIO_RING_F_EVENT_IDX);
	/* Still without EVENT_IDX: a kick is requested for every buffer. */
	struct sim_seg seg[2] = {
		{ GUEST_BASE + SIM_DATA_OFF, 16, false },
		{ GUEST_BASE + SIM_DATA_OFF + 64, 16, true },
	};
	assert_int_equal(sim_driver_submit(&f->d, seg, 2, false), 16);
	assert_int_equal(sim_driver_submit(&f->d, seg, 2, false), 16);
	assert_int_equal(f->d.kicks, 2);
}

static void status_bits_cannot_be_cleared(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(sim_driver_probe(&f->d, ~0ULL, 16), 0);
	wr(f, VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE);
	assert_int_equal(rd(f, VIRTIO_MMIO_STATUS), 0xf);
	wr(f, VIRTIO_MMIO_STATUS, 0x1ff);
	assert_int_equal(rd(f, VIRTIO_MMIO_STATUS), 0xf);
}

static void reset_clears_everything(void **state)
{
	struct fixture *f = *state;
	unsigned long resets = f->e->resets;

	assert_int_equal(sim_driver_probe(&f->d, ~0ULL, 16), 0);
	struct sim_seg seg[2] = {
		{ GUEST_BASE + SIM_DATA_OFF, 8, false },
		{ GUEST_BASE + SIM_DATA_OFF + 64, 8, true },
	};
	assert_int_equal(sim_driver_submit(&f->d, seg, 2, false), 8);
	assert_int_equal(f->g->irq_level, 1);
	wr(f, VIRTIO_MMIO_STATUS, 0);
	assert_int_equal(rd(f, VIRTIO_MMIO_STATUS), 0);
	assert_int_equal(rd(f, VIRTIO_MMIO_INTERRUPT_STATUS), 0);
	assert_int_equal(rd(f, VIRTIO_MMIO_QUEUE_READY), 0);
	assert_int_equal(rd(f, VIRTIO_MMIO_QUEUE_NUM), 0);
	assert_int_equal(f->g->irq_level, 0);
	assert_int_equal(f->g->live_maps, 0);
	assert_true(f->e->resets > resets);
	/* And it comes back up again. */
	assert_int_equal(sim_driver_probe(&f->d, ~0ULL, 16), 0);
	assert_int_equal(sim_driver_submit(&f->d, seg, 2, false), 8);
}

static void interrupt_status_and_ack(void **state)
{
	struct fixture *f = *state;
	struct sim_seg seg[2] = {
		{ GUEST_BASE + SIM_DATA_OFF, 4, false },
		{ GUEST_BASE + SIM_DATA_OFF + 64, 4, true },
	};

	assert_int_equal(sim_driver_probe(&f->d, SIM_F_VERSION_1, 16), 0);
	assert_int_equal(sim_driver_submit(&f->d, seg, 2, false), 4);
	assert_int_equal(f->g->irq_level, 1);
	assert_int_equal(rd(f, VIRTIO_MMIO_INTERRUPT_STATUS), VIRTIO_MMIO_INT_VRING);
	wr(f, VIRTIO_MMIO_INTERRUPT_ACK, VIRTIO_MMIO_INT_CONFIG);
	assert_int_equal(f->g->irq_level, 1);
	wr(f, VIRTIO_MMIO_INTERRUPT_ACK, VIRTIO_MMIO_INT_VRING);
	assert_int_equal(f->g->irq_level, 0);
	assert_int_equal(rd(f, VIRTIO_MMIO_INTERRUPT_STATUS), 0);
	/* InterruptStatus is read-only. */
	wr(f, VIRTIO_MMIO_INTERRUPT_STATUS, 3);
	assert_int_equal(rd(f, VIRTIO_MMIO_INTERRUPT_STATUS), 0);
}

static void config_space_reads(void **state)
{
	struct fixture *f = *state;
	struct virtio_mmio *dev = f->vm;

	assert_int_equal(virtio_mmio_read(dev, 0x100, 1), 0x11);
	assert_int_equal(virtio_mmio_read(dev, 0x103, 1), 0x44);
	assert_int_equal(virtio_mmio_read(dev, 0x102, 2), 0x4433);
	assert_int_equal(virtio_mmio_read(dev, 0x100, 4), 0x44332211);
	/* Past the end, misaligned, or too wide: ignored, reads 0. */
	assert_int_equal(virtio_mmio_read(dev, 0x104, 1), 0);
	assert_int_equal(virtio_mmio_read(dev, 0x103, 2), 0);
	assert_int_equal(virtio_mmio_read(dev, 0x101, 2), 0);
	assert_int_equal(virtio_mmio_read(dev, 0x100, 8), 0);
	assert_int_equal(virtio_mmio_read(dev, 0x1fc, 4), 0);
	/* Config space is read-only. */
	virtio_mmio_write(dev, 0x100, 1, 0x99);
	assert_int_equal(virtio_mmio_read(dev, 0x100, 1), 0x11);
}

static void wrong_sizes_and_alignment_ignored(void **state)
{
	struct fixture *f = *state;
	struct virtio_mmio *dev = f->vm;

	assert_int_equal(virtio_mmio_read(dev, VIRTIO_MMIO_MAGIC_VALUE, 2), 0);
	assert_int_equal(virtio_mmio_read(dev, VIRTIO_MMIO_MAGIC_VALUE, 8), 0);
	assert_int_equal(virtio_mmio_read(dev, 0x001, 4), 0);
	assert_int_equal(virtio_mmio_read(dev, 0x0f0, 4), 0);	/* unknown */
	virtio_mmio_write(dev, VIRTIO_MMIO_STATUS, 1, VIRTIO_STATUS_ACKNOWLEDGE);
	virtio_mmio_write(dev, VIRTIO_MMIO_STATUS + 1, 4, VIRTIO_STATUS_ACKNOWLEDGE);
	virtio_mmio_write(dev, VIRTIO_MMIO_STATUS, 8, VIRTIO_STATUS_ACKNOWLEDGE);
	assert_int_equal(rd(f, VIRTIO_MMIO_STATUS), 0);
	/* Read-only registers ignore writes. */
	wr(f, VIRTIO_MMIO_MAGIC_VALUE, 0);
	wr(f, VIRTIO_MMIO_DEVICE_ID, 1);
	wr(f, VIRTIO_MMIO_QUEUE_NUM_MAX, 1024);
	assert_int_equal(rd(f, VIRTIO_MMIO_MAGIC_VALUE), 0x74726976);
	assert_int_equal(rd(f, VIRTIO_MMIO_DEVICE_ID), SIM_ECHO_DEVICE_ID);
	assert_int_equal(rd(f, VIRTIO_MMIO_QUEUE_NUM_MAX), SIM_ECHO_QUEUE_MAX);
}

static void queue_registers(void **state)
{
	struct fixture *f = *state;

	wr(f, VIRTIO_MMIO_STATUS, 0);
	wr(f, VIRTIO_MMIO_QUEUE_SEL, 0);
	wr(f, VIRTIO_MMIO_QUEUE_NUM, SIM_ECHO_QUEUE_MAX * 2);	/* too big */
	assert_int_equal(rd(f, VIRTIO_MMIO_QUEUE_NUM), 0);
	wr(f, VIRTIO_MMIO_QUEUE_DESC_LOW, 0x1000);
	wr(f, VIRTIO_MMIO_QUEUE_DESC_HIGH, 0x2);
	assert_int_equal(rd(f, VIRTIO_MMIO_QUEUE_DESC_LOW), 0x1000);
	assert_int_equal(rd(f, VIRTIO_MMIO_QUEUE_DESC_HIGH), 0x2);
	/* A queue that does not exist reads as absent and ignores writes. */
	wr(f, VIRTIO_MMIO_QUEUE_SEL, 1);
	assert_int_equal(rd(f, VIRTIO_MMIO_QUEUE_NUM_MAX), 0);
	wr(f, VIRTIO_MMIO_QUEUE_NUM, 8);
	wr(f, VIRTIO_MMIO_QUEUE_READY, 1);
	assert_int_equal(rd(f, VIRTIO_MMIO_QUEUE_READY), 0);
	/* Notifying a queue that does not exist does nothing. */
	wr(f, VIRTIO_MMIO_QUEUE_NOTIFY, 5);
}

static void queue_frozen_while_ready(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(sim_driver_probe(&f->d, ~0ULL, 16), 0);
	wr(f, VIRTIO_MMIO_QUEUE_NUM, 8);
	wr(f, VIRTIO_MMIO_QUEUE_DESC_LOW, 0);
	assert_int_equal(rd(f, VIRTIO_MMIO_QUEUE_NUM), 16);
	assert_int_equal(rd(f, VIRTIO_MMIO_QUEUE_DESC_LOW),
			 (uint32_t)(GUEST_BASE + SIM_DESC_OFF));
	/* Disabling the queue releases its mappings. */
	wr(f, VIRTIO_MMIO_QUEUE_READY, 0);
	assert_int_equal(rd(f, VIRTIO_MMIO_QUEUE_READY), 0);
	assert_int_equal(f->g->live_maps, 0);
}

static void queue_outside_guest_ram_needs_reset(void **state)
{
	struct fixture *f = *state;

	wr(f, VIRTIO_MMIO_STATUS, 0);
	wr(f, VIRTIO_MMIO_STATUS, 3);
	wr(f, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
	wr(f, VIRTIO_MMIO_DRIVER_FEATURES, 1);
	wr(f, VIRTIO_MMIO_STATUS, 0xb);
	wr(f, VIRTIO_MMIO_QUEUE_NUM, 16);
	wr(f, VIRTIO_MMIO_QUEUE_DESC_LOW, 0x1000);	/* below guest RAM */
	wr(f, VIRTIO_MMIO_QUEUE_AVAIL_LOW, (uint32_t)(GUEST_BASE + SIM_AVAIL_OFF));
	wr(f, VIRTIO_MMIO_QUEUE_USED_LOW, (uint32_t)(GUEST_BASE + SIM_USED_OFF));
	wr(f, VIRTIO_MMIO_QUEUE_READY, 1);
	assert_int_equal(rd(f, VIRTIO_MMIO_QUEUE_READY), 0);
	assert_true(rd(f, VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_NEEDS_RESET);
	assert_int_equal(f->g->live_maps, 0);
	/* Reset recovers. */
	assert_int_equal(sim_driver_probe(&f->d, ~0ULL, 16), 0);
	assert_false(rd(f, VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_NEEDS_RESET);
}

static unsigned long flood_lines;

static void count_line(enum vr_log_level level, const char *msg, void *opaque)
{
	flood_lines++;
}

/*
 * A guest that breaks its queue and resets, 100,000 times over: what it
 * makes the daemon log stays within the device's budget (10 lines, then
 * nothing until the budget refills) however long it keeps at it.
 */
static void needs_reset_flood_is_rate_limited(void **state)
{
	struct fixture *f = *state;

	vr_log_set_level(VR_LOG_DEBUG);
	vr_log_set_sink(count_line, NULL);
	flood_lines = 0;
	for (int i = 0; i < 100000; i++) {
		wr(f, VIRTIO_MMIO_STATUS, 0);
		wr(f, VIRTIO_MMIO_STATUS, 3);
		wr(f, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
		wr(f, VIRTIO_MMIO_DRIVER_FEATURES, 1);
		wr(f, VIRTIO_MMIO_STATUS, 0xb);
		wr(f, VIRTIO_MMIO_QUEUE_NUM, 16);
		wr(f, VIRTIO_MMIO_QUEUE_DESC_LOW, 0x1000);	/* not RAM */
		wr(f, VIRTIO_MMIO_QUEUE_READY, 1);
	}
	assert_true(rd(f, VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_NEEDS_RESET);
	vr_log_set_sink(NULL, NULL);
	vr_log_set_level(VR_LOG_ERR);
	if (flood_lines > 20)
		fail_msg("100000 broken queues logged %lu lines", flood_lines);
}

static void bad_queue_size_and_alignment(void **state)
{
	struct fixture *f = *state;
	static const struct { uint32_t num, desc_off; } cases[] = {
		{ 0, SIM_DESC_OFF }, { 12, SIM_DESC_OFF }, { 16, SIM_DESC_OFF + 8 },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		wr(f, VIRTIO_MMIO_STATUS, 0);
		wr(f, VIRTIO_MMIO_STATUS, 3);
		wr(f, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
		wr(f, VIRTIO_MMIO_DRIVER_FEATURES, 1);
		wr(f, VIRTIO_MMIO_STATUS, 0xb);
		wr(f, VIRTIO_MMIO_QUEUE_NUM, cases[i].num);
		wr(f, VIRTIO_MMIO_QUEUE_DESC_LOW, (uint32_t)(GUEST_BASE + cases[i].desc_off));
		wr(f, VIRTIO_MMIO_QUEUE_AVAIL_LOW, (uint32_t)(GUEST_BASE + SIM_AVAIL_OFF));
		wr(f, VIRTIO_MMIO_QUEUE_USED_LOW, (uint32_t)(GUEST_BASE + SIM_USED_OFF));
		wr(f, VIRTIO_MMIO_QUEUE_READY, 1);
		assert_int_equal(rd(f, VIRTIO_MMIO_QUEUE_READY), 0);
		assert_true(rd(f, VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_NEEDS_RESET);
	}
}

static void notify_before_driver_ok_is_ignored(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(sim_driver_probe(&f->d, ~0ULL, 16), 0);
	wr(f, VIRTIO_MMIO_STATUS, 0);
	wr(f, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	assert_int_equal(f->e->chains, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(identity_registers, setup, teardown),
		cmocka_unit_test_setup_teardown(device_features, setup, teardown),
		cmocka_unit_test_setup_teardown(probe_like_linux, setup, teardown),
		cmocka_unit_test_setup_teardown(features_ok_refused_without_version_1, setup, teardown),
		cmocka_unit_test_setup_teardown(features_ok_refused_for_unoffered_bits, setup, teardown),
		cmocka_unit_test_setup_teardown(features_frozen_after_features_ok, setup, teardown),
		cmocka_unit_test_setup_teardown(status_bits_cannot_be_cleared, setup, teardown),
		cmocka_unit_test_setup_teardown(reset_clears_everything, setup, teardown),
		cmocka_unit_test_setup_teardown(interrupt_status_and_ack, setup, teardown),
		cmocka_unit_test_setup_teardown(config_space_reads, setup, teardown),
		cmocka_unit_test_setup_teardown(wrong_sizes_and_alignment_ignored, setup, teardown),
		cmocka_unit_test_setup_teardown(queue_registers, setup, teardown),
		cmocka_unit_test_setup_teardown(queue_frozen_while_ready, setup, teardown),
		cmocka_unit_test_setup_teardown(queue_outside_guest_ram_needs_reset, setup, teardown),
		cmocka_unit_test_setup_teardown(needs_reset_flood_is_rate_limited, setup, teardown),
		cmocka_unit_test_setup_teardown(bad_queue_size_and_alignment, setup, teardown),
		cmocka_unit_test_setup_teardown(notify_before_driver_ok_is_ignored, setup, teardown),
	};

	return cmocka_run_group_tests_name("virtio-mmio", tests, NULL, NULL);
}
