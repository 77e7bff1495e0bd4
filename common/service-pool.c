// SPDX-License-Identifier: MIT
/*
 * A FIFO of kicked items and a few threads taking turns from it. The
 * line is the fairness: an item that still has work after its batch goes
 * to the back, behind everything kicked meanwhile.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>

#include "log.h"
#include "service-pool.h"

struct service_pool {
	pthread_mutex_t lock;
	pthread_cond_t work;		/* the line is not empty, or stopping */
	pthread_cond_t turn_done;	/* a turn ended (for cancel) */
	struct service_item *head, *tail;
	bool stopping;
	unsigned int batch;
	unsigned int nthreads;
	pthread_t *threads;
};

static void enqueue(struct service_pool *p, struct service_item *it)
{
	it->queued = true;
	it->next = NULL;
	if (p->tail)
		p->tail->next = it;
	else
		p->head = it;
	p->tail = it;
	pthread_cond_signal(&p->work);
}

static struct service_item *dequeue(struct service_pool *p)
{
	struct service_item *it = p->head;

	p->head = it->next;
	if (!p->head)
		p->tail = NULL;
	it->next = NULL;
	it->queued = false;
	return it;
}

static void *worker(void *arg)
{
	struct service_pool *p = arg;

	pthread_mutex_lock(&p->lock);
	for (;;) {
		struct service_item *it;
		bool more;

		while (!p->head && !p->stopping)
			pthread_cond_wait(&p->work, &p->lock);
		if (p->stopping)
			break;
		it = dequeue(p);
		it->running = true;
		it->again = false;
		pthread_mutex_unlock(&p->lock);
		more = it->serve(it->opaque, p->batch);
		pthread_mutex_lock(&p->lock);
		it->running = false;
		if ((more || it->again) && !it->queued && !it->cancelled)
			enqueue(p, it);
		pthread_cond_broadcast(&p->turn_done);
	}
	pthread_mutex_unlock(&p->lock);
	return NULL;
}

struct service_pool *service_pool_new(unsigned int nthreads,
				      unsigned int batch)
{
	struct service_pool *p = calloc(1, sizeof(*p));
	pthread_attr_t attr;

	if (!p || !nthreads || !batch) {
		free(p);
		return NULL;
	}
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->work, NULL);
	pthread_cond_init(&p->turn_done, NULL);
	p->batch = batch;
	p->threads = calloc(nthreads, sizeof(*p->threads));
	if (!p->threads) {
		service_pool_free(p);
		return NULL;
	}
	/* Serving needs little stack; keep the untouched reserve small. */
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, 256 * 1024);
	for (; p->nthreads < nthreads; p->nthreads++) {
		if (pthread_create(&p->threads[p->nthreads], &attr, worker, p)) {
			log_err("cannot start a service thread");
			pthread_attr_destroy(&attr);
			service_pool_free(p);
			return NULL;
		}
	}
	pthread_attr_destroy(&attr);
	return p;
}

void service_pool_free(struct service_pool *p)
{
	if (!p)
		return;
	pthread_mutex_lock(&p->lock);
	p->stopping = true;
	pthread_cond_broadcast(&p->work);
	pthread_mutex_unlock(&p->lock);
	for (unsigned int i = 0; i < p->nthreads; i++)
		pthread_join(p->threads[i], NULL);
	free(p->threads);
	pthread_cond_destroy(&p->turn_done);
	pthread_cond_destroy(&p->work);
	pthread_mutex_destroy(&p->lock);
	free(p);
}

void service_pool_kick(struct service_pool *p, struct service_item *it)
{
	pthread_mutex_lock(&p->lock);
	it->cancelled = false;
	if (it->running)
		it->again = true;	/* its thread puts it back in line */
	else if (!it->queued)
		enqueue(p, it);
	pthread_mutex_unlock(&p->lock);
}

void service_pool_cancel(struct service_pool *p, struct service_item *it)
{
	pthread_mutex_lock(&p->lock);
	/* The turn in progress must not put it back in line. */
	it->cancelled = true;
	if (it->queued) {
		struct service_item **pp = &p->head, *prev = NULL;

		while (*pp != it) {
			prev = *pp;
			pp = &(*pp)->next;
		}
		*pp = it->next;
		if (p->tail == it)
			p->tail = prev;
		it->queued = false;
		it->next = NULL;
	}
	while (it->running)
		pthread_cond_wait(&p->turn_done, &p->lock);
	pthread_mutex_unlock(&p->lock);
}
