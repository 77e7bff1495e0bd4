// SPDX-License-Identifier: MIT
/*
 * One guest's MMIO bus (common/mmio-bus.c) with echo devices and
 * simulated guests: accesses reach the right window, a notify returns at
 * once while the request is served by the pool, registers stay prompt
 * while a request is in hand, a reset waits for it instead of unmapping
 * under it, and a guest that republishes without end does not keep
 * another device from being served.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "log.h"
#include "mmio-bus.h"
#include "sim-driver.h"
#include "sim-echo.h"
#include "virtio-mmio.h"

#define BASE0		0x2000000ULL
#define BASE1		0x2000200ULL
#define GUEST_RAM	0x40000000ULL
#define QSIZE		16

/* A guest device as its driver sees it: its own RAM, its window. */
struct gdev {
	struct mmio_bus *bus;
	uint64_t base;
	struct sim_guest *g;
	struct sim_echo *e;
	struct sim_driver d;
};

struct gate {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool open;
	bool entered;
};

struct fx {
	struct mmio_bus *bus;
	struct gdev dev[2];
	struct gate gate;
};

static uint64_t bus_rd(void *opaque, uint64_t off, unsigned int size)
{
	struct gdev *gd = opaque;

	return mmio_bus_read(gd->bus, gd->base + off, size);
}

static void bus_wr(void *opaque, uint64_t off, unsigned int size,
		   uint64_t value)
{
	struct gdev *gd = opaque;

	mmio_bus_write(gd->bus, gd->base + off, size, value);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* The echo device's handler waits here while a test holds it closed. */
static void wait_at_gate(void *arg)
{
	struct gate *gt = arg;

	pthread_mutex_lock(&gt->lock);
	gt->entered = true;
	pthread_cond_broadcast(&gt->cond);
	while (!gt->open)
		pthread_cond_wait(&gt->cond, &gt->lock);
	pthread_mutex_unlock(&gt->lock);
}

static void gate_open(struct gate *gt)
{
	pthread_mutex_lock(&gt->lock);
	gt->open = true;
	pthread_cond_broadcast(&gt->cond);
	pthread_mutex_unlock(&gt->lock);
}

static void gate_wait_entered(struct gate *gt)
{
	pthread_mutex_lock(&gt->lock);
	while (!gt->entered)
		pthread_cond_wait(&gt->cond, &gt->lock);
	pthread_mutex_unlock(&gt->lock);
}

static int setup(void **state)
{
	struct fx *f = test_calloc(1, sizeof(*f));

	vr_log_set_level(VR_LOG_ERR);
	pthread_mutex_init(&f->gate.lock, NULL);
	pthread_cond_init(&f->gate.cond, NULL);
	f->bus = mmio_bus_new("test guest", 2, 4);
	assert_non_null(f->bus);
	for (int i = 0; i < 2; i++) {
		struct gdev *gd = &f->dev[i];

		gd->bus = f->bus;
		gd->base = i ? BASE1 : BASE0;
		gd->g = sim_guest_new(GUEST_RAM, SIM_RAM_SIZE);
		gd->e = sim_echo_new(i ? "echo1" : "echo0");
		assert_int_equal(mmio_bus_add(f->bus, gd->base, sim_echo_dev(gd->e),
					      &gd->g->host), 0);
		sim_driver_init(&gd->d, gd->g, gd, bus_rd, bus_wr);
		assert_int_equal(sim_driver_probe(&gd->d, ~0ULL, QSIZE), 0);
	}
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	gate_open(&f->gate);
	for (int i = 0; i < 2; i++)
		virtio_dev_destroy(mmio_bus_remove(f->bus, f->dev[i].base));
	mmio_bus_free(f->bus);
	for (int i = 0; i < 2; i++) {
		assert_int_equal(f->dev[i].g->live_maps, 0);
		sim_guest_free(f->dev[i].g);
	}
	test_free(f);
	return 0;
}

/* Puts a 16-byte echo request on @gd's queue (readable, then writable). */
static void publish(struct gdev *gd, uint16_t head)
{
	struct sim_desc *desc = sim_driver_desc_table(&gd->d);
	uint64_t buf = GUEST_RAM + SIM_DATA_OFF + head * 64ULL;

	desc[2 * head] = (struct sim_desc){
		.addr = buf, .len = 16, .flags = SIM_DESC_NEXT, .next = 2 * head + 1,
	};
	desc[2 * head + 1] = (struct sim_desc){
		.addr = buf + 32, .len = 16, .flags = SIM_DESC_WRITE,
	};
	sim_driver_publish(&gd->d, 2 * head);
}

static void windows(void **state)
{
	const uint64_t bases[] = { 0x2000000, 0x2000400, 0x20ffe00 };

	assert_int_equal(mmio_find_window(bases, 3, 0x200, 0x2000000, 4), 0);
	assert_int_equal(mmio_find_window(bases, 3, 0x200, 0x20001fc, 4), 0);
	assert_int_equal(mmio_find_window(bases, 3, 0x200, 0x20001f8, 8), 0);
	assert_int_equal(mmio_find_window(bases, 3, 0x200, 0x2000400, 1), 1);
	assert_int_equal(mmio_find_window(bases, 3, 0x200, 0x20fffff, 1), 2);
	/* The gap between windows, and straddling a window's end. */
	assert_int_equal(mmio_find_window(bases, 3, 0x200, 0x2000200, 4), -1);
	assert_int_equal(mmio_find_window(bases, 3, 0x200, 0x20001fe, 4), -1);
	assert_int_equal(mmio_find_window(bases, 3, 0x200, 0x1fffffc, 8), -1);
	assert_int_equal(mmio_find_window(bases, 0, 0x200, 0x2000000, 4), -1);
	/* No wrap-around near the top of the address space. */
	const uint64_t top[] = { UINT64_MAX - 0x1ff };

	assert_int_equal(mmio_find_window(top, 1, 0x200, UINT64_MAX - 7, 8), 0);
	assert_int_equal(mmio_find_window(top, 1, 0x200, UINT64_MAX - 3, 8), -1);
	assert_int_equal(mmio_find_window(top, 1, 0x200, 0, 8), -1);
}

static void accesses_reach_their_window(void **state)
{
	struct fx *f = *state;
	struct sim_echo *other = sim_echo_new("x");

	assert_int_equal(mmio_bus_read(f->bus, BASE0 + VIRTIO_MMIO_DEVICE_ID, 4),
			 SIM_ECHO_DEVICE_ID);
	assert_int_equal(mmio_bus_read(f->bus, BASE1 + VIRTIO_MMIO_MAGIC_VALUE, 4),
			 VIRTIO_MMIO_MAGIC);
	/* Nothing at 0x2000400; a straddling access hits nothing either. */
	assert_int_equal(mmio_bus_read(f->bus, BASE1 + 0x200, 4), ~0ULL);
	assert_int_equal(mmio_bus_read(f->bus, BASE0 + 0x1fe, 4), ~0ULL);
	mmio_bus_write(f->bus, 0x3000000, 4, 1);
	/* Overlapping windows are refused. */
	assert_int_equal(mmio_bus_add(f->bus, BASE0 + 0x100, sim_echo_dev(other),
				      &f->dev[0].g->host), -EEXIST);
	assert_null(mmio_bus_remove(f->bus, 0x2000400));
	virtio_dev_destroy(sim_echo_dev(other));
}

/*
 * A notify is a doorbell: it returns while the request is still being
 * handled (here held at a gate), and registers answer meanwhile.
 */
static void notify_returns_before_the_work(void **state)
{
	struct fx *f = *state;
	struct gdev *gd = &f->dev[0];
	uint32_t id, len;
	double t0;

	gd->e->while_handling = wait_at_gate;
	gd->e->while_handling_arg = &f->gate;
	t0 = now();
	publish(gd, 0);			/* the QUEUE_NOTIFY write */
	assert_true(now() - t0 < 0.5);
	gate_wait_entered(&f->gate);
	/* In hand, not answered: the used ring is still empty. */
	assert_false(sim_driver_take_used(&gd->d, &id, &len));
	t0 = now();
	assert_int_equal(sim_rd32(&gd->d, VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_DRIVER_OK,
			 VIRTIO_STATUS_DRIVER_OK);
	assert_int_equal(sim_rd32(&gd->d, VIRTIO_MMIO_INTERRUPT_STATUS), 0);
	assert_true(now() - t0 < 0.5);
	gate_open(&f->gate);
	assert_true(sim_driver_wait_used(&gd->d, &id, &len, 2000));
	assert_int_equal(id, 0);
	assert_int_equal(len, 16);
	assert_true(sim_driver_ack_irq(&gd->d) & VIRTIO_MMIO_INT_VRING);
}

struct resetter {
	struct gdev *gd;
	double done_at;
};

static void *reset_device(void *arg)
{
	struct resetter *r = arg;

	sim_wr32(&r->gd->d, VIRTIO_MMIO_STATUS, 0);
	r->done_at = now();
	return NULL;
}

/*
 * A reset with a request in hand waits for it: the request finishes with
 * its buffers mapped and its answer written, and only then are the rings
 * let go.
 */
static void reset_waits_for_the_request(void **state)
{
	struct fx *f = *state;
	struct gdev *gd = &f->dev[0];
	struct resetter r = { .gd = gd };
	double opened;
	pthread_t t;

	gd->e->while_handling = wait_at_gate;
	gd->e->while_handling_arg = &f->gate;
	publish(gd, 0);
	gate_wait_entered(&f->gate);
	assert_int_equal(pthread_create(&t, NULL, reset_device, &r), 0);
	usleep(50000);
	assert_true(r.done_at == 0);	/* still waiting */
	opened = now();
	gate_open(&f->gate);
	pthread_join(t, NULL);
	assert_true(r.done_at >= opened);
	assert_int_equal(sim_rd32(&gd->d, VIRTIO_MMIO_STATUS), 0);
	/* The request was answered before the rings went. */
	assert_int_equal(sim_driver_used_idx(&gd->d), 1);
	assert_int_equal(gd->g->live_maps, 0);
}

struct republisher {
	struct gdev *gd;
	volatile bool stop;
	unsigned long published;
	double worst_notify;
};

/* A second vCPU that puts every answered chain straight back. */
static void *republish(void *arg)
{
	struct republisher *r = arg;
	uint32_t id, len;

	for (uint16_t h = 0; h < QSIZE / 2; h++)
		publish(r->gd, h);
	while (!r->stop) {
		if (!sim_driver_take_used(&r->gd->d, &id, &len)) {
			sched_yield();
			continue;
		}
		double t0 = now();

		publish(r->gd, (uint16_t)(id / 2));
		if (now() - t0 > r->worst_notify)
			r->worst_notify = now() - t0;
		r->published++;
	}
	return NULL;
}

/*
 * One device republishing without end: its notifies still return at
 * once, and the other device's requests are served all the while.
 */
static void republisher_does_not_starve_others(void **state)
{
	struct fx *f = *state;
	struct republisher r = { .gd = &f->dev[0] };
	struct gdev *victim = &f->dev[1];
	double worst = 0;
	pthread_t t;

	double end;
	int i = 0;

	assert_int_equal(pthread_create(&t, NULL, republish, &r), 0);
	usleep(20000);
	for (end = now() + 0.3; now() < end; i++) {
		uint32_t id, len;
		double t0 = now();

		publish(victim, (uint16_t)(i % (QSIZE / 2)));
		assert_true(sim_driver_wait_used(&victim->d, &id, &len, 2000));
		if (now() - t0 > worst)
			worst = now() - t0;
	}
	r.stop = true;
	pthread_join(t, NULL);
	print_message("republished %lu chains; worst notify %.3f ms; %d requests of the other device, worst %.3f ms\n",
		      r.published, r.worst_notify * 1e3, i, worst * 1e3);
	assert_true(r.published > 100);
	assert_true(r.worst_notify < 0.1);
	assert_true(worst < 0.5);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(windows),
		cmocka_unit_test_setup_teardown(accesses_reach_their_window, setup, teardown),
		cmocka_unit_test_setup_teardown(notify_returns_before_the_work, setup, teardown),
		cmocka_unit_test_setup_teardown(reset_waits_for_the_request, setup, teardown),
		cmocka_unit_test_setup_teardown(republisher_does_not_starve_others, setup, teardown),
	};

	return cmocka_run_group_tests_name("mmio-bus", tests, NULL, NULL);
}
