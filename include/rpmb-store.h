/* SPDX-License-Identifier: MIT */
/*
 * Persistent, crash-safe state of one RPMB device: key, write counter and
 * data. Nothing here knows about frames, MACs or hypervisors.
 *
 * Every mutating call returns only once the change is durable, and each
 * one is atomic: after a crash the store holds either the old or the new
 * state. The counter passed to rpmb_store_write() is stored together with
 * the data in the same transaction.
 *
 * A store is not shared between threads: one caller at a time (the
 * service pool hands a device, and so its store, to one thread at once).
 */
#ifndef RPMB_STORE_H
#define RPMB_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rpmb-frame.h"

#define RPMB_DEFAULT_MAX_WR_CNT	32
#define RPMB_DEFAULT_MAX_RD_CNT	32

struct rpmb_store;

struct rpmb_store_params {
	unsigned int capacity;		/* 128 KiB units, 1..RPMB_CAPACITY_MAX */
	unsigned int max_wr_cnt;	/* 1..255, 0 = default */
	unsigned int max_rd_cnt;	/* 1..255, 0 = default */
};

struct rpmb_store_info {
	unsigned int capacity;		/* 128 KiB units */
	unsigned int max_wr_cnt;
	unsigned int max_rd_cnt;
	bool key_programmed;
	uint32_t write_counter;
};

enum rpmb_store_open_mode {
	RPMB_STORE_OPEN_EXISTING,	/* fail with -ENOENT if missing */
	RPMB_STORE_CREATE_NEW,		/* fail with -EEXIST if present */
	RPMB_STORE_OPEN_OR_CREATE,
};

/*
 * Opens (and locks) a store. @params is used only when a store is created.
 * Returns 0 or a negative errno; on failure a human-readable reason is
 * written to @err (which may be NULL). -EBUSY means another process holds
 * the store; -EPROTO means the file is not a store of ours or is corrupt.
 */
int rpmb_store_open(const char *path, enum rpmb_store_open_mode mode,
		    const struct rpmb_store_params *params,
		    struct rpmb_store **out, char *err, size_t errlen);

/*
 * The same, through the named SQLite VFS (NULL: the default). Tests use
 * this to put a fault-injecting VFS under a real store.
 */
int rpmb_store_open_vfs(const char *path, enum rpmb_store_open_mode mode,
			const struct rpmb_store_params *params, const char *vfs,
			struct rpmb_store **out, char *err, size_t errlen);

/* Closes the store and wipes any key material it held. NULL is fine. */
void rpmb_store_close(struct rpmb_store *st);

void rpmb_store_get_info(const struct rpmb_store *st,
			 struct rpmb_store_info *info);

/* -ENOKEY if no key has been programmed. */
int rpmb_store_get_key(const struct rpmb_store *st,
		       uint8_t key[RPMB_KEY_SIZE]);

/* -EEXIST if a key is already programmed; -EIO if it could not be stored. */
int rpmb_store_program_key(struct rpmb_store *st,
			   const uint8_t key[RPMB_KEY_SIZE]);

/*
 * Reads @count blocks starting at block @addr; unwritten blocks are zero.
 * From the store file, through a small page cache: memory does not grow
 * with the capacity.
 */
int rpmb_store_read(struct rpmb_store *st, unsigned int addr,
		    unsigned int count, uint8_t *out);

/*
 * Writes @count blocks at @addr and sets the write counter to
 * @new_counter, atomically and durably. On any failure (-EIO, -ENOSPC,
 * ...) the store keeps its previous key, counter and data. -EINVAL if
 * @count is not 1..255, the blocks lie outside the store, or
 * @new_counter is not above the current counter (it never goes back).
 *
 * Should the disk fail so badly that a failed write cannot be cleaned
 * up, the store stops serving: reads and writes give -EIO until it is
 * closed and opened again (then the write is either whole or absent).
 */
int rpmb_store_write(struct rpmb_store *st, unsigned int addr,
		     unsigned int count, const uint8_t *data,
		     uint32_t new_counter);

/* The reason for the last failed call, for logs. Never contains key bytes. */
const char *rpmb_store_last_error(const struct rpmb_store *st);

#endif /* RPMB_STORE_H */
