/* SPDX-License-Identifier: MIT */
/*
 * Serves kicked queues on a few threads of their own, fairly: each turn
 * serves at most one batch of one queue, then the queue goes to the back
 * of the line if it has more. A queue is never served by two threads at
 * once (its requests stay in order), different queues run in parallel,
 * and a kick only enqueues: whoever kicks (a vCPU's MMIO access) never
 * waits for the work.
 */
#ifndef SERVICE_POOL_H
#define SERVICE_POOL_H

#include <stdbool.h>

struct service_pool;

/*
 * One servable queue. @serve does at most @budget units of work and
 * returns true if more is left. Embedded in its owner; private fields
 * are the pool's.
 */
struct service_item {
	bool (*serve)(void *opaque, unsigned int budget);
	void *opaque;

	/* The pool's, under its lock. */
	bool queued;			/* in the line */
	bool running;			/* a thread serves it now */
	bool again;			/* kicked while running */
	bool cancelled;			/* not to be put back in line */
	struct service_item *next;
};

/* @nthreads workers, each turn at most @batch units. NULL on failure. */
struct service_pool *service_pool_new(unsigned int nthreads,
				      unsigned int batch);

/* Finishes the turns in progress, then stops the threads. */
void service_pool_free(struct service_pool *pool);

/* Thread-safe, never blocks on the work. */
void service_pool_kick(struct service_pool *pool, struct service_item *item);

/*
 * Takes @item out of the line and waits for a turn in progress to end;
 * after this, @item is never served again unless kicked anew. Call
 * before freeing what @item serves.
 */
void service_pool_cancel(struct service_pool *pool, struct service_item *item);

#endif /* SERVICE_POOL_H */
