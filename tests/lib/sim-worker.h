/* SPDX-License-Identifier: MIT */
/*
 * A guest's worker in a child process, built as backend/worker.c builds
 * one (libraries warmed, service threads, confinement and the system
 * call filter, the guest's devices, the serving loop) with only the
 * hypervisor below it simulated (sim-vm.h). The caller plays the
 * supervisor over the same messages (worker-msg.h).
 */
#ifndef SIM_WORKER_H
#define SIM_WORKER_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "log.h"
#include "sim-vm.h"
#include "worker-msg.h"

struct sim_worker {
	pid_t pid;
	int sock;			/* the supervisor's end */
	char last_log[WMSG_TEXT_LEN];	/* the last line the worker logged */
};

struct sim_worker_opts {
	const char *dir;		/* the guest's directory */
	unsigned int nthreads;		/* service threads (0: 2) */
	unsigned int batch;		/* chains per turn (0: the default) */
	/* The filter; and as root, chroot into dir and become nobody. */
	bool confine;
	enum vr_log_level log_level;	/* forwarded lines at or above */
};

/* Forks the worker for @vm. 0, or -errno. */
int sim_worker_start(struct sim_worker *w, struct sim_vm *vm,
		     const struct sim_worker_opts *o);

/*
 * Adds device @devid (an "rpmb" with @params) at @base; waits for the
 * answer. 0, or -1 with the worker's reason (or the last line it logged)
 * in last_log.
 */
int sim_worker_add(struct sim_worker *w, unsigned int devid, uint64_t base,
		   const char *params);

/* STOP, and waits for the exit. Returns the wait status. */
int sim_worker_stop(struct sim_worker *w);

#endif /* SIM_WORKER_H */
