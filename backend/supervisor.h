/* SPDX-License-Identifier: MIT */
/*
 * The privileged supervisor: the only part of the daemon that holds
 * xenstore and unrestricted Xen handles, and it never touches guest
 * input. It watches xenstore for virtio devices (devices.c), keeps one
 * unprivileged worker process per guest (guests.c) that serves the
 * guest's devices, restarts a worker that dies, and writes the device
 * states the toolstack waits for. This header holds the state those
 * files share; supervisor.c runs the event loop.
 */
#ifndef BACKEND_SUPERVISOR_H
#define BACKEND_SUPERVISOR_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <xendevicemodel.h>
#include <xenstore.h>

#include "config.h"
#include "dev-state.h"
#include "device-types.h"
#include "log.h"
#include "sandbox.h"
#include "vdev-keys.h"
#include "worker-msg.h"

/* libxl hands out one SPI per device from 33..43. */
#define MAX_DEVICES_PER_GUEST	(VIRTIO_MMIO_SPI_LAST - VIRTIO_MMIO_SPI_FIRST + 1)

struct supervisor;
struct sguest;

/* What an epoll event points at. */
enum loop_src_type { SRC_XS, SRC_SIGNAL, SRC_TIMER, SRC_WORKER };

struct loop_src {
	enum loop_src_type type;
	struct sguest *guest;		/* SRC_WORKER only */
};

enum sdev_state {
	SDEV_STARTING,		/* waiting for the worker to add it */
	SDEV_SERVING,		/* the worker serves it */
	SDEV_REMOVING,		/* waiting for the worker to remove it */
	SDEV_FAILED,		/* on the failed list, retried later */
};

/* What to write once a device is removed. */
enum sdev_close {
	SDEV_CLOSE_GONE,	/* nodes gone or guest dead: nothing */
	SDEV_CLOSE_STATE6,	/* the toolstack asked: state 6 */
};

struct sdev {
	struct vdev_keys keys;		/* frontend_id, devid, base, irq, grants */
	const struct device_type *type;
	char path[128];			/* backend directory in xenstore */
	char label[WMSG_LABEL_LEN];	/* "guest NAME (domF) rpmbN", for logs */
	char params[WMSG_PARAMS_LEN];	/* the type's settings */
	enum sdev_state state;
	enum sdev_close close;		/* SDEV_REMOVING */
	unsigned int failures;		/* SDEV_FAILED: setups failed in a row */
	uint64_t retry_at;		/* SDEV_FAILED: monotonic ms */
	struct sdev *next;
};

/*
 * In a driver domain a closed device's directory is ours to remove, but
 * only once libxl has read its state 6 and removed the frontend; removed
 * earlier, libxl finds the directory gone and reports a failure.
 */
struct closing {
	char path[128];			/* the backend directory */
	uint64_t remove_at;		/* libxl has read the 6 by then */
	struct closing *next;
};

struct sguest {
	struct supervisor *s;
	unsigned int domid;
	char *name;			/* identity at the worker's start */
	char *uuid;
	char label[64];			/* "guest NAME (domF)" */
	char dir[CONFIG_STR_MAX + 96];	/* its directory of device state */

	pid_t pid;			/* its worker, 0 if none runs */
	int sock;			/* to the worker, -1 if none */
	struct loop_src src;
	int ioservid;			/* the worker's ioreq server, or -1 */
	bool ready;			/* the worker said so, identity checked */
	bool stopping;			/* STOP sent */
	bool destroy;			/* ...and the server is to go */
	uint64_t started_at;		/* monotonic ms */
	uint64_t kill_at;		/* stopping: SIGKILL then */
	unsigned int restarts;		/* in a row, for the back-off */
	uint64_t respawn_at;		/* no worker: start one then (0: no) */
	struct guest_log wlog;		/* the worker's own log lines */

	struct sdev *devices;
	unsigned int ndevices;
	bool dead;			/* freed once this epoll batch is done */
	struct sguest *next;
};

struct supervisor {
	struct config cfg;
	unsigned int self_domid;
	char root[64];			/* /local/domain/<self>/backend/virtio */
	const struct device_type *const *types;
	struct sandbox_id worker_id;
	bool sandbox;			/* confine workers (root only) */

	struct xs_handle *xs;
	/* Unrestricted: destroys servers that workers could not. */
	xendevicemodel_handle *xdm;

	struct sguest *guests;
	struct sguest *zombies;		/* guest_free()d during this batch */
	struct sdev *failed;		/* setups that failed; see dev-state.h */
	struct closing *closing;	/* driver domain: closed directories
					   still to be removed */

	int epoll_fd;
	int signal_fd;
	int timer_fd;
	struct loop_src src_xs, src_signal, src_timer;
	bool stopping;
	uint64_t stop_deadline;
	/* SIGHUP: re-read the configuration (main.c). */
	void (*reload)(struct supervisor *s, void *opaque);
	void *reload_opaque;
};

/* guests.c: guests and their workers. */
uint64_t now_ms(void);
struct sguest *guest_find(struct supervisor *s, unsigned int domid);
/* Finds or starts the guest's worker; NULL on failure (logged). */
struct sguest *guest_get(struct supervisor *s, unsigned int domid);
int guest_send(struct sguest *g, const struct wmsg *m);
/* Asks the worker to finish; @destroy: its ioreq server goes too. */
void guest_stop(struct sguest *g, bool destroy);
/* A worker that has not stopped by its deadline is killed. */
void guests_enforce_deadlines(struct supervisor *s);
/* Reaps exited workers; returns them for devices.c to act on. */
struct sguest *guest_reap(struct supervisor *s, pid_t *pid, int *status);
/* Starts the worker of a guest whose back-off has run out. */
int guest_respawn(struct sguest *g);
/* Forgets the guest; its memory goes at guests_reap_zombies(). */
void guest_free(struct sguest *g);
/* After an epoll batch: an event for a freed guest may be in it. */
void guests_reap_zombies(struct supervisor *s);
bool guest_domain_exists(struct supervisor *s, unsigned int domid);

/* devices.c: the xenstore-driven lifecycle and the workers' answers. */
void devices_scan(struct supervisor *s);
void devices_on_watch(struct supervisor *s, const char *path);
void devices_on_message(struct sguest *g, const struct wmsg *m);
void devices_on_worker_exit(struct sguest *g, int status);
void devices_check_dead_guests(struct supervisor *s);
void devices_retry(struct supervisor *s, bool all);
void devices_stop_all(struct supervisor *s);

/* supervisor.c: runs until SIGTERM/SIGINT; 0 after a clean stop. */
int supervisor_run(struct supervisor *s);

#endif /* BACKEND_SUPERVISOR_H */
