// SPDX-License-Identifier: MIT
/*
 * The service pool (common/service-pool.c): kicks never wait for the
 * work, one item is never served by two threads at once, each turn is
 * bounded, a busy item goes to the back of the line, cancel waits.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "service-pool.h"

struct counter {
	struct service_item item;
	pthread_mutex_t lock;
	unsigned int work_left;		/* units of work still to do */
	unsigned int served;		/* units done */
	unsigned int turns;
	unsigned int max_per_turn;
	int running;			/* threads inside serve() now */
	int max_running;
	unsigned int sleep_us;		/* per unit */
	/* Turn order of all counters, to see the line. */
	char *log;
	size_t *log_len;
	char tag;
};

static bool serve_counter(void *opaque, unsigned int budget)
{
	struct counter *c = opaque;
	unsigned int n = 0;
	bool more;

	pthread_mutex_lock(&c->lock);
	c->running++;
	if (c->running > c->max_running)
		c->max_running = c->running;
	c->turns++;
	if (c->log)
		c->log[(*c->log_len)++] = c->tag;
	pthread_mutex_unlock(&c->lock);
	while (n < budget) {
		pthread_mutex_lock(&c->lock);
		if (!c->work_left) {
			pthread_mutex_unlock(&c->lock);
			break;
		}
		c->work_left--;
		c->served++;
		pthread_mutex_unlock(&c->lock);
		n++;
		if (c->sleep_us)
			usleep(c->sleep_us);
	}
	pthread_mutex_lock(&c->lock);
	if (n > c->max_per_turn)
		c->max_per_turn = n;
	c->running--;
	more = c->work_left > 0;
	pthread_mutex_unlock(&c->lock);
	return more;
}

static void counter_init(struct counter *c, unsigned int work)
{
	memset(c, 0, sizeof(*c));
	pthread_mutex_init(&c->lock, NULL);
	c->work_left = work;
	c->item.serve = serve_counter;
	c->item.opaque = c;
}

static unsigned int served(struct counter *c)
{
	unsigned int n;

	pthread_mutex_lock(&c->lock);
	n = c->served;
	pthread_mutex_unlock(&c->lock);
	return n;
}

static bool wait_served(struct counter *c, unsigned int want)
{
	for (int i = 0; i < 5000; i++) {
		if (served(c) >= want)
			return true;
		usleep(1000);
	}
	return false;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* A kick returns before the work is done, and the work gets done. */
static void kick_does_not_wait(void **state)
{
	struct service_pool *p = service_pool_new(2, 4);
	struct counter c;
	double t0;

	counter_init(&c, 10);
	c.sleep_us = 20000;		/* 10 units: 200 ms of work */
	t0 = now();
	service_pool_kick(p, &c.item);
	assert_true(now() - t0 < 0.05);
	assert_true(wait_served(&c, 10));
	/* Four per turn: 10 units take three turns. */
	assert_int_equal(c.max_per_turn, 4);
	assert_int_equal(c.turns, 3);
	service_pool_free(p);
}

/* Kicked again and again from another thread: still one server at once. */
static void one_server_per_item(void **state)
{
	struct service_pool *p = service_pool_new(4, 2);
	struct counter c;

	counter_init(&c, 2000);
	c.sleep_us = 50;
	for (int i = 0; i < 2000; i++)
		service_pool_kick(p, &c.item);
	assert_true(wait_served(&c, 2000));
	assert_int_equal(c.max_running, 1);
	service_pool_free(p);
}

/*
 * One item that always has more, one that has a little: with a single
 * thread, the second is served after at most one turn of the first.
 */
static void busy_item_goes_to_the_back(void **state)
{
	struct service_pool *p = service_pool_new(1, 3);
	struct counter busy, small;
	char log[4096];
	size_t len = 0;
	const char *first_s;

	counter_init(&busy, 600);
	counter_init(&small, 3);
	busy.log = small.log = log;
	busy.log_len = small.log_len = &len;
	busy.tag = 'B';
	small.tag = 's';
	busy.sleep_us = 100;
	size_t at_kick;

	service_pool_kick(p, &busy.item);
	usleep(2000);
	pthread_mutex_lock(&busy.lock);
	at_kick = len;
	pthread_mutex_unlock(&busy.lock);
	service_pool_kick(p, &small.item);
	assert_true(wait_served(&small, 3));
	assert_true(wait_served(&busy, 600));
	service_pool_free(p);
	log[len] = '\0';
	first_s = strchr(log, 's');
	assert_non_null(first_s);
	/* At most the turn in progress and the one it queued before. */
	assert_true((size_t)(first_s - log) <= at_kick + 2);
	assert_int_equal(busy.max_per_turn, 3);
}

/* Cancel returns only once the turn in progress has ended. */
static void cancel_waits_for_the_turn(void **state)
{
	struct service_pool *p = service_pool_new(1, 1);
	struct counter c;

	counter_init(&c, 1000000);
	c.sleep_us = 2000;
	service_pool_kick(p, &c.item);
	usleep(5000);
	service_pool_cancel(p, &c.item);
	pthread_mutex_lock(&c.lock);
	assert_int_equal(c.running, 0);
	pthread_mutex_unlock(&c.lock);
	/* And it is not served again. */
	unsigned int n = served(&c);

	usleep(20000);
	assert_int_equal(served(&c), n);
	service_pool_free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(kick_does_not_wait),
		cmocka_unit_test(one_server_per_item),
		cmocka_unit_test(busy_item_goes_to_the_back),
		cmocka_unit_test(cancel_waits_for_the_turn),
	};

	return cmocka_run_group_tests_name("service-pool", tests, NULL, NULL);
}
