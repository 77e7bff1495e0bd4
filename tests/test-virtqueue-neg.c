// SPDX-License-Identifier: MIT
/*
 * Malformed descriptor chains and rings from a simulated guest (test-side
 * RAM + driver) against the echo test device on the real transport: each
 * one must be completed with length 0 or put the device in NEEDS_RESET,
 * never crash, hang, leak a mapping or touch memory outside guest RAM.
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
#define DATA		(GUEST_BASE + SIM_DATA_OFF)
#define QSIZE		16

struct fixture {
	struct sim_guest *g;
	struct sim_echo *e;
	struct virtio_mmio *vm;
	struct sim_driver d;
};

/* Completions that never reached the device: malformed chains. */
static unsigned long bad_chains(struct fixture *f)
{
	return sim_driver_used_idx(&f->d) - f->e->chains;
}

static int setup_features(void **state, uint64_t features)
{
	struct fixture *f = test_calloc(1, sizeof(*f));

	vr_log_set_level(VR_LOG_ERR);
	f->g = sim_guest_new(GUEST_BASE, SIM_RAM_SIZE);
	f->e = sim_echo_new(NULL);
	f->vm = virtio_mmio_new(sim_echo_dev(f->e), &f->g->host);
	sim_driver_init_mmio(&f->d, f->g, f->vm);
	assert_int_equal(sim_driver_probe(&f->d, features, QSIZE), 0);
	*state = f;
	return 0;
}

static int setup(void **state)
{
	return setup_features(state, ~0ULL);
}

static int setup_no_indirect(void **state)
{
	return setup_features(state, ~SIM_F_INDIRECT);
}

static int setup_no_event_idx(void **state)
{
	return setup_features(state, ~SIM_F_EVENT_IDX);
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

static struct sim_desc *desc(struct fixture *f)
{
	return sim_driver_desc_table(&f->d);
}

static long publish_and_take(struct fixture *f, uint16_t head)
{
	uint32_t id, len;

	sim_driver_publish(&f->d, head);
	if (!sim_driver_take_used(&f->d, &id, &len))
		return -1;
	assert_int_equal(id, head);
	return len;
}

static bool needs_reset(struct fixture *f)
{
	return sim_rd32(&f->d, VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_NEEDS_RESET;
}

/* After a bad chain, a good one must still work. */
static void assert_still_works(struct fixture *f)
{
	struct sim_seg seg[2] = { { DATA, 32, false }, { DATA + 512, 32, true } };

	memset(sim_guest_ptr(f->g, DATA), 0x5a, 32);
	assert_int_equal(sim_driver_submit(&f->d, seg, 2, false), 32);
	assert_memory_equal(sim_guest_ptr(f->g, DATA + 512),
			    sim_guest_ptr(f->g, DATA), 32);
}

static void good_chain_baseline(void **state)
{
	struct fixture *f = *state;

	assert_still_works(f);
	assert_int_equal(bad_chains(f), 0);
}

static void next_index_out_of_range(void **state)
{
	struct fixture *f = *state;

	desc(f)[0] = (struct sim_desc) { DATA, 16, SIM_DESC_NEXT, QSIZE };
	assert_int_equal(publish_and_take(f, 0), 0);
	assert_int_equal(bad_chains(f), 1);
	assert_still_works(f);
}

static void head_index_out_of_range(void **state)
{
	struct fixture *f = *state;

	sim_driver_publish(&f->d, QSIZE + 3);
	assert_true(needs_reset(f));
	assert_int_equal(f->e->chains, 0);
}

static void chain_loop(void **state)
{
	struct fixture *f = *state;

	desc(f)[0] = (struct sim_desc) { DATA, 16, SIM_DESC_NEXT, 1 };
	desc(f)[1] = (struct sim_desc) { DATA, 16, SIM_DESC_NEXT, 0 };
	assert_int_equal(publish_and_take(f, 0), 0);
	desc(f)[2] = (struct sim_desc) { DATA, 16, SIM_DESC_NEXT, 2 };
	assert_int_equal(publish_and_take(f, 2), 0);
	assert_int_equal(bad_chains(f), 2);
	assert_still_works(f);
}

static void readable_after_writable(void **state)
{
	struct fixture *f = *state;

	desc(f)[0] = (struct sim_desc) { DATA, 16, SIM_DESC_WRITE | SIM_DESC_NEXT, 1 };
	desc(f)[1] = (struct sim_desc) { DATA + 64, 16, 0, 0 };
	assert_int_equal(publish_and_take(f, 0), 0);
	assert_int_equal(bad_chains(f), 1);
}

static void huge_and_wrapping_lengths(void **state)
{
	struct fixture *f = *state;

	desc(f)[0] = (struct sim_desc) { DATA, 0xffffffff, 0, 0 };
	assert_int_equal(publish_and_take(f, 0), 0);
	desc(f)[0] = (struct sim_desc) { ~0ULL - 8, 64, 0, 0 };
	assert_int_equal(publish_and_take(f, 0), 0);
	/* Lengths that add up past the cap across several descriptors. */
	for (uint16_t i = 0; i < 4; i++)
		desc(f)[i] = (struct sim_desc) { DATA, 0x7fffffff,
						 SIM_DESC_NEXT, (uint16_t)(i + 1) };
	desc(f)[3].flags = 0;
	assert_int_equal(publish_and_take(f, 0), 0);
	assert_int_equal(bad_chains(f), 3);
	assert_still_works(f);
}

static void zero_length_buffers_carry_nothing(void **state)
{
	struct fixture *f = *state;

	desc(f)[0] = (struct sim_desc) { DATA, 0, SIM_DESC_NEXT, 1 };
	desc(f)[1] = (struct sim_desc) { DATA + 512, 0, SIM_DESC_WRITE, 0 };
	assert_int_equal(publish_and_take(f, 0), 0);
	assert_int_equal(bad_chains(f), 0);
}

static void buffers_outside_guest_ram(void **state)
{
	struct fixture *f = *state;
	unsigned long refused = f->g->refused;

	desc(f)[0] = (struct sim_desc) { GUEST_BASE - 4096, 64, SIM_DESC_NEXT, 1 };
	desc(f)[1] = (struct sim_desc) { DATA, 64, SIM_DESC_WRITE, 0 };
	assert_int_equal(publish_and_take(f, 0), 0);
	desc(f)[0] = (struct sim_desc) { DATA, 64, SIM_DESC_NEXT, 1 };
	desc(f)[1] = (struct sim_desc) { GUEST_BASE + SIM_RAM_SIZE - 8, 64,
					 SIM_DESC_WRITE, 0 };
	assert_int_equal(publish_and_take(f, 0), 0);
	assert_true(f->g->refused >= refused + 2);
	assert_still_works(f);
}

static void read_only_buffer_offered_for_writing(void **state)
{
	struct fixture *f = *state;
	struct sim_seg seg[2] = { { DATA, 32, false }, { DATA + 512, 32, true } };

	f->g->ro_start = DATA + 512;
	f->g->ro_len = 4096;
	assert_int_equal(sim_driver_submit(&f->d, seg, 2, false), 0);
	f->g->ro_len = 0;
	assert_still_works(f);
}

static void nested_indirect(void **state)
{
	struct fixture *f = *state;
	struct sim_desc *table = sim_guest_ptr(f->g, GUEST_BASE + SIM_INDIRECT_OFF);

	table[0] = (struct sim_desc) { GUEST_BASE + SIM_INDIRECT_OFF, 32,
				       SIM_DESC_INDIRECT, 0 };
	table[1] = (struct sim_desc) { DATA, 16, 0, 0 };
	desc(f)[0] = (struct sim_desc) { GUEST_BASE + SIM_INDIRECT_OFF, 32,
					 SIM_DESC_INDIRECT, 0 };
	assert_int_equal(publish_and_take(f, 0), 0);
	assert_int_equal(bad_chains(f), 1);
	assert_still_works(f);
}

static void indirect_with_next(void **state)
{
	struct fixture *f = *state;
	struct sim_desc *table = sim_guest_ptr(f->g, GUEST_BASE + SIM_INDIRECT_OFF);

	table[0] = (struct sim_desc) { DATA, 16, 0, 0 };
	desc(f)[0] = (struct sim_desc) { GUEST_BASE + SIM_INDIRECT_OFF, 16,
					 SIM_DESC_INDIRECT | SIM_DESC_NEXT, 1 };
	desc(f)[1] = (struct sim_desc) { DATA, 16, SIM_DESC_WRITE, 0 };
	assert_int_equal(publish_and_take(f, 0), 0);
	/* An indirect descriptor in the middle of a chain is also refused. */
	desc(f)[0] = (struct sim_desc) { DATA, 16, SIM_DESC_NEXT, 1 };
	desc(f)[1] = (struct sim_desc) { GUEST_BASE + SIM_INDIRECT_OFF, 16,
					 SIM_DESC_INDIRECT, 0 };
	assert_int_equal(publish_and_take(f, 0), 0);
	assert_int_equal(bad_chains(f), 2);
}

static void bad_indirect_lengths(void **state)
{
	struct fixture *f = *state;
	static const uint32_t lens[] = { 0, 15, 17, 16 * 100000 };

	for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		desc(f)[0] = (struct sim_desc) { GUEST_BASE + SIM_INDIRECT_OFF,
						 lens[i], SIM_DESC_INDIRECT, 0 };
		assert_int_equal(publish_and_take(f, 0), 0);
	}
	/* A table that is not in guest RAM. */
	desc(f)[0] = (struct sim_desc) { 0x1000, 32, SIM_DESC_INDIRECT, 0 };
	assert_int_equal(publish_and_take(f, 0), 0);
	assert_int_equal(bad_chains(f), 5);
	assert_still_works(f);
}

static void indirect_loop_and_range(void **state)
{
	struct fixture *f = *state;
	struct sim_desc *table = sim_guest_ptr(f->g, GUEST_BASE + SIM_INDIRECT_OFF);

	table[0] = (struct sim_desc) { DATA, 16, SIM_DESC_NEXT, 1 };
	table[1] = (struct sim_desc) { DATA, 16, SIM_DESC_NEXT, 0 };
	desc(f)[0] = (struct sim_desc) { GUEST_BASE + SIM_INDIRECT_OFF, 32,
					 SIM_DESC_INDIRECT, 0 };
	assert_int_equal(publish_and_take(f, 0), 0);
	table[1].next = 2;	/* past the 2-entry table */
	assert_int_equal(publish_and_take(f, 0), 0);
	assert_int_equal(bad_chains(f), 2);
}

static void indirect_refused_when_not_negotiated(void **state)
{
	struct fixture *f = *state;
	struct sim_seg seg[2] = { { DATA, 16, false }, { DATA + 512, 16, true } };

	assert_int_equal(sim_driver_submit(&f->d, seg, 2, true), 0);
	assert_int_equal(bad_chains(f), 1);
	assert_still_works(f);
}

static void avail_index_jump(void **state)
{
	struct fixture *f = *state;
	uint16_t *avail = sim_guest_ptr(f->g, GUEST_BASE + SIM_AVAIL_OFF);

	avail[1] = (uint16_t)(f->d.avail_idx + QSIZE + 1);
	sim_wr32(&f->d, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	assert_true(needs_reset(f));
	assert_int_equal(f->e->chains, 0);
	/* Notifies are ignored until the driver resets the device. */
	sim_wr32(&f->d, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	assert_int_equal(f->e->chains, 0);
	assert_int_equal(sim_driver_probe(&f->d, ~0ULL, QSIZE), 0);
	assert_still_works(f);
}

static void index_wraps_at_16_bits(void **state)
{
	struct fixture *f = *state;

	/* 70000 requests take both ring indices through 0xffff -> 0. */
	for (int i = 0; i < 70000; i++) {
		struct sim_seg seg[2] = { { DATA, 4, false }, { DATA + 512, 4, true } };

		if (sim_driver_submit(&f->d, seg, 2, i & 1) != 4)
			fail_msg("request %d failed", i);
	}
	assert_int_equal(f->e->chains, 70000);
}

static void reset_with_request_queued(void **state)
{
	struct fixture *f = *state;
	uint16_t *avail = sim_guest_ptr(f->g, GUEST_BASE + SIM_AVAIL_OFF);

	desc(f)[0] = (struct sim_desc) { DATA, 16, SIM_DESC_NEXT, 1 };
	desc(f)[1] = (struct sim_desc) { DATA + 512, 16, SIM_DESC_WRITE, 0 };
	avail[2] = 0;
	avail[1] = 1;		/* made available, never kicked */
	sim_wr32(&f->d, VIRTIO_MMIO_STATUS, 0);
	assert_int_equal(f->g->live_maps, 0);
	sim_wr32(&f->d, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	assert_int_equal(f->e->chains, 0);
	assert_int_equal(sim_driver_probe(&f->d, ~0ULL, QSIZE), 0);
	assert_still_works(f);
	assert_int_equal(f->e->chains, 1);
}

static void no_interrupt_flag_respected(void **state)
{
	struct fixture *f = *state;
	uint16_t *avail = sim_guest_ptr(f->g, GUEST_BASE + SIM_AVAIL_OFF);
	struct sim_seg seg[2] = { { DATA, 4, false }, { DATA + 512, 4, true } };

	avail[0] = 1;	/* VRING_AVAIL_F_NO_INTERRUPT */
	assert_int_equal(sim_driver_submit(&f->d, seg, 2, false), 4);
	assert_int_equal(f->g->irq_raises, 0);
	avail[0] = 0;
	assert_int_equal(sim_driver_submit(&f->d, seg, 2, false), 4);
	assert_int_equal(f->g->irq_raises, 1);
}

static void event_idx_suppresses_interrupts(void **state)
{
	struct fixture *f = *state;
	uint16_t *avail = sim_guest_ptr(f->g, GUEST_BASE + SIM_AVAIL_OFF);
	struct sim_seg seg[2] = { { DATA, 4, false }, { DATA + 512, 4, true } };

	assert_int_equal(sim_driver_submit(&f->d, seg, 2, false), 4);
	assert_int_equal(f->g->irq_raises, 1);
	sim_driver_ack_irq(&f->d);
	/* Driver asks for an interrupt only once used idx passes 10. */
	f->d.manual_used_event = true;
	avail[2 + QSIZE] = 10;
	for (int i = 0; i < 5; i++) {
		uint32_t id, len;

		sim_driver_publish(&f->d, 0);
		assert_int_equal(sim_driver_take_used(&f->d, &id, &len), 1);
	}
	assert_int_equal(f->g->irq_raises, 1);
	assert_int_equal(sim_driver_ack_irq(&f->d), 0);
	/* Used idx goes 6 -> 11 -> 12: the move past 10 interrupts. */
	for (int i = 0; i < 6; i++) {
		uint32_t id, len;

		sim_driver_publish(&f->d, 0);
		assert_int_equal(sim_driver_take_used(&f->d, &id, &len), 1);
	}
	assert_int_equal(f->g->irq_raises, 2);
}

/* The driver adds a chain while the device handles the one it kicked for. */
static void publish_second_chain(void *arg)
{
	struct fixture *f = arg;

	f->e->while_handling = NULL;
	f->d.no_kick = true;	/* a kick now would re-enter the device */
	sim_driver_publish(&f->d, 2);
	f->d.no_kick = false;
}

static void chain_added_while_handling_is_not_lost(void **state)
{
	struct fixture *f = *state;
	struct sim_desc *d = desc(f);
	uint32_t id, len;

	d[0] = (struct sim_desc) { DATA, 8, SIM_DESC_NEXT, 1 };
	d[1] = (struct sim_desc) { DATA + 512, 8, SIM_DESC_WRITE, 0 };
	d[2] = (struct sim_desc) { DATA + 1024, 8, SIM_DESC_NEXT, 3 };
	d[3] = (struct sim_desc) { DATA + 1536, 8, SIM_DESC_WRITE, 0 };
	f->e->while_handling = publish_second_chain;
	f->e->while_handling_arg = f;
	sim_driver_publish(&f->d, 0);
	assert_int_equal(f->d.kicks, 1);
	/* Both complete on that one kick: the device looks again before idling. */
	assert_int_equal(f->e->chains, 2);
	assert_int_equal(sim_driver_take_used(&f->d, &id, &len), 1);
	assert_int_equal(id, 0);
	assert_int_equal(sim_driver_take_used(&f->d, &id, &len), 1);
	assert_int_equal(id, 2);
	/* And the device, now idle, asks for a kick on the next one. */
	assert_int_equal(publish_and_take(f, 0), 8);
	assert_true(f->d.kick_wanted);
	assert_int_equal(f->d.kicks, 2);
}

struct avail_event_log {
	struct fixture *f;
	uint16_t seen[3];
	unsigned int n;
};

static uint16_t avail_event(struct fixture *f)
{
	uint8_t *used = sim_guest_ptr(f->g, GUEST_BASE + SIM_USED_OFF);
	uint16_t event;

	memcpy(&event, used + 4 + 8 * QSIZE, 2);
	return event;
}

static void log_avail_event(void *arg)
{
	struct avail_event_log *log = arg;

	if (log->n < 3)
		log->seen[log->n++] = avail_event(log->f);
}

/* With several chains queued, the kick is re-armed only for the last. */
static void kick_rearmed_after_a_batch(void **state)
{
	struct fixture *f = *state;
	struct sim_desc *d = desc(f);
	struct avail_event_log log = { .f = f };
	uint32_t id, len;

	d[0] = (struct sim_desc) { DATA, 8, SIM_DESC_NEXT, 1 };
	d[1] = (struct sim_desc) { DATA + 512, 8, SIM_DESC_WRITE, 0 };
	f->d.no_kick = true;
	for (int i = 0; i < 3; i++)
		sim_driver_publish(&f->d, 0);
	f->d.no_kick = false;
	f->e->while_handling = log_avail_event;
	f->e->while_handling_arg = &log;
	sim_wr32(&f->d, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	f->e->while_handling = NULL;
	for (int i = 0; i < 3; i++)
		assert_int_equal(sim_driver_take_used(&f->d, &id, &len), 1);
	/* Untouched while more were queued; set as the last one was taken. */
	assert_int_equal(log.n, 3);
	assert_int_equal(log.seen[0], 0);
	assert_int_equal(log.seen[1], 0);
	assert_int_equal(log.seen[2], 3);
	assert_int_equal(avail_event(f), 3);
	assert_int_equal(f->g->irq_raises, 1);
	assert_int_equal(publish_and_take(f, 0), 8);
	assert_true(f->d.kick_wanted);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(good_chain_baseline, setup, teardown),
		cmocka_unit_test_setup_teardown(next_index_out_of_range, setup, teardown),
		cmocka_unit_test_setup_teardown(head_index_out_of_range, setup, teardown),
		cmocka_unit_test_setup_teardown(chain_loop, setup, teardown),
		cmocka_unit_test_setup_teardown(readable_after_writable, setup, teardown),
		cmocka_unit_test_setup_teardown(huge_and_wrapping_lengths, setup, teardown),
		cmocka_unit_test_setup_teardown(zero_length_buffers_carry_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(buffers_outside_guest_ram, setup, teardown),
		cmocka_unit_test_setup_teardown(read_only_buffer_offered_for_writing, setup, teardown),
		cmocka_unit_test_setup_teardown(nested_indirect, setup, teardown),
		cmocka_unit_test_setup_teardown(indirect_with_next, setup, teardown),
		cmocka_unit_test_setup_teardown(bad_indirect_lengths, setup, teardown),
		cmocka_unit_test_setup_teardown(indirect_loop_and_range, setup, teardown),
		cmocka_unit_test_setup_teardown(indirect_refused_when_not_negotiated, setup_no_indirect, teardown),
		cmocka_unit_test_setup_teardown(avail_index_jump, setup, teardown),
		cmocka_unit_test_setup_teardown(index_wraps_at_16_bits, setup, teardown),
		cmocka_unit_test_setup_teardown(reset_with_request_queued, setup, teardown),
		cmocka_unit_test_setup_teardown(no_interrupt_flag_respected, setup_no_event_idx, teardown),
		cmocka_unit_test_setup_teardown(event_idx_suppresses_interrupts, setup, teardown),
		cmocka_unit_test_setup_teardown(chain_added_while_handling_is_not_lost, setup, teardown),
		cmocka_unit_test_setup_teardown(kick_rearmed_after_a_batch, setup, teardown),
	};

	return cmocka_run_group_tests_name("virtqueue-negative", tests, NULL, NULL);
}
