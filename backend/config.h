/* SPDX-License-Identifier: MIT */
/*
 * Daemon settings: built-in defaults, then the config file
 * (/etc/xen/xen-rpmb-backend.conf), then command-line options.
 *
 * File format: "key = value" lines, '#' comments. Keys:
 *   store-dir, capacity, max-wr-cnt, max-rd-cnt, store-key (name|uuid),
 *   log-level (err|warn|info|debug), log (stderr|syslog|/absolute/file),
 *   pidfile, lock-file, worker-user (name or UID:GID),
 *   service-threads (per guest, 1..16),
 *   guest.<name-or-uuid>.capacity   (per-guest override)
 */
#ifndef BACKEND_CONFIG_H
#define BACKEND_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include "log.h"

#define CONFIG_DEFAULT_PATH	"/etc/xen/xen-rpmb-backend.conf"
#define CONFIG_DEFAULT_STORE_DIR "/var/lib/xen-rpmb"
#define CONFIG_DEFAULT_CAPACITY	8	/* 1 MiB */
#define CONFIG_MAX_OVERRIDES	64
#define CONFIG_STR_MAX		256
/* One daemon per domain: two would fight over the same xenstore nodes. */
#define CONFIG_DEFAULT_LOCK_FILE "/run/xen-rpmb-backend.lock"
/* Guests' workers run as this user (see sandbox.h). */
#define CONFIG_DEFAULT_WORKER_USER "xen-rpmb"
/* Threads serving one guest's queues: its devices run in parallel. */
#define CONFIG_DEFAULT_SERVICE_THREADS 2
#define CONFIG_MAX_SERVICE_THREADS 16

/* What names a guest's directory: its domain name or its UUID. */
enum store_key {
	STORE_KEY_NAME,
	STORE_KEY_UUID,
};

struct guest_override {
	char identity[CONFIG_STR_MAX];
	unsigned int capacity;
};

struct config {
	char store_dir[CONFIG_STR_MAX];
	char pidfile[CONFIG_STR_MAX];
	unsigned int capacity;
	unsigned int max_wr_cnt;
	unsigned int max_rd_cnt;
	enum store_key store_key;
	enum vr_log_level log_level;
	bool syslog;
	char log_file[CONFIG_STR_MAX];	/* non-empty: log there (wins) */
	char lock_file[CONFIG_STR_MAX];
	char worker_user[CONFIG_STR_MAX];
	unsigned int service_threads;
	unsigned int noverrides;
	struct guest_override overrides[CONFIG_MAX_OVERRIDES];
};

void config_defaults(struct config *cfg);

/* Applies one "key = value" setting; @err says why not. */
int config_set(struct config *cfg, const char *key, const char *value,
	       char *err, size_t errlen);

/*
 * Reads a config file over @cfg. A missing file is fine when @optional.
 * On error, @err holds "file:line: reason" and @cfg may be half-updated:
 * callers parse into a copy.
 */
int config_load(struct config *cfg, const char *path, bool optional,
		char *err, size_t errlen);

/*
 * The capacity (128 KiB units) a guest's stores are created with: the
 * override for @identity (a name or a UUID), else the default.
 */
unsigned int config_capacity_for(const struct config *cfg,
				 const char *identity);

#endif /* BACKEND_CONFIG_H */
