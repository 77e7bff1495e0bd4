// SPDX-License-Identifier: MIT
/*
 * The RPMB store: one SQLite database per device, in WAL mode with
 * synchronous=FULL, so a write's data and counter land in one transaction
 * that is durable (one WAL append + one fsync) before we return.
 *
 * Schema (application_id STORE_APP_ID, user_version STORE_VERSION):
 *   meta(id = 1, capacity, max_wr_cnt, max_rd_cnt, key BLOB NULL,
 *        write_counter)
 *   blocks(addr INTEGER PRIMARY KEY, data BLOB)   -- absent rows read as 0
 *
 * Reads come from SQLite, through a small page cache (CACHE_KIB):
 * a daemon serving many guests must not hold every store's data area
 * (up to 16 MiB each) in memory.
 *
 * No secure_delete: data blocks are updated in place and are not secret
 * here (the guest encrypts what it stores), and the key, once written, is
 * never deleted or overwritten. The key does sit in SQLite's page cache
 * while the store is open; SQLite offers no per-connection way to wipe
 * that, only our own copies are cleansed.
 *
 * Exclusion: an flock() on the database file keeps other processes (and
 * a second open in this process) out; locking_mode=EXCLUSIVE additionally
 * keeps out SQLite clients that ignore flock. Local file systems only.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <sqlite3.h>

#include "rpmb-store.h"

#define STORE_APP_ID	0x52504d42	/* "RPMB" */
/* SQLite's page cache per store: a write's pages and a read's stay hot. */
#define CACHE_KIB	128
#define STORE_VERSION	1
#define SQLITE_MAGIC	"SQLite format 3"

struct rpmb_store {
	char *path;
	char *wal_path;
	char *vfs;
	int lock_fd;
	sqlite3 *db;
	sqlite3_stmt *put_block;
	sqlite3_stmt *set_counter;
	sqlite3_stmt *get_blocks;
	struct rpmb_store_info info;
	uint8_t key[RPMB_KEY_SIZE];
	char errmsg[320];
};

static const char schema_sql[] =
	"CREATE TABLE meta(id INTEGER PRIMARY KEY CHECK (id = 1),"
	" capacity INTEGER NOT NULL, max_wr_cnt INTEGER NOT NULL,"
	" max_rd_cnt INTEGER NOT NULL, key BLOB,"
	" write_counter INTEGER NOT NULL);"
	"CREATE TABLE blocks(addr INTEGER PRIMARY KEY, data BLOB NOT NULL);";

static void set_err(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || !errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

static int errno_from_sqlite(int rc)
{
	switch (rc & 0xff) {
	case SQLITE_FULL:
		return -ENOSPC;
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return -EBUSY;
	case SQLITE_NOMEM:
		return -ENOMEM;
	case SQLITE_CORRUPT:
	case SQLITE_NOTADB:
		return -EPROTO;
	default:
		return -EIO;
	}
}

static int exec_sql(sqlite3 *db, const char *sql)
{
	return sqlite3_exec(db, sql, NULL, NULL, NULL);
}

static bool params_valid(const struct rpmb_store_params *p)
{
	return p->capacity >= 1 && p->capacity <= RPMB_CAPACITY_MAX &&
	       p->max_wr_cnt <= 255 && p->max_rd_cnt <= 255;
}

/*
 * A file of ours starts with SQLite's magic and carries our application
 * id. Checked before SQLite opens the file, so a foreign file is never
 * touched (SQLite could otherwise run a recovery on it).
 */
static int check_header(int fd, const char *path, char *err, size_t errlen)
{
	uint8_t hdr[100];
	uint32_t app_id;
	ssize_t n;

	n = pread(fd, hdr, sizeof(hdr), 0);
	if (n != (ssize_t)sizeof(hdr) || memcmp(hdr, SQLITE_MAGIC, 16)) {
		set_err(err, errlen, "%s: not an RPMB store", path);
		return -EPROTO;
	}
	app_id = (uint32_t)hdr[68] << 24 | (uint32_t)hdr[69] << 16 |
		 (uint32_t)hdr[70] << 8 | hdr[71];
	if (app_id != STORE_APP_ID) {
		set_err(err, errlen, "%s: not an RPMB store (a foreign SQLite file)",
			path);
		return -EPROTO;
	}
	return 0;
}

static char *wal_path_of(const char *path)
{
	char *wal;

	return asprintf(&wal, "%s-wal", path) < 0 ? NULL : wal;
}

static bool wal_exists(const char *path)
{
	char *wal = wal_path_of(path);
	bool ret = !wal || access(wal, F_OK) == 0;

	free(wal);
	return ret;
}

static int fsync_dir_of(const char *path)
{
	char *dir = strdup(path), *slash;
	int fd, ret = 0;

	if (!dir)
		return -ENOMEM;
	slash = strrchr(dir, '/');
	if (slash == dir)
		slash[1] = '\0';
	else if (slash)
		*slash = '\0';
	else
		strcpy(dir, ".");
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || fsync(fd))
		ret = -errno;
	if (fd >= 0)
		close(fd);
	free(dir);
	return ret;
}

static int init_new_db(const char *tmp, const struct rpmb_store_params *p,
		       const char *vfs)
{
	char sql[256];
	sqlite3 *db;
	int rc;

	rc = sqlite3_open_v2(tmp, &db, SQLITE_OPEN_READWRITE, vfs);
	if (rc == SQLITE_OK) {
		snprintf(sql, sizeof(sql),
			 "PRAGMA application_id=%d; PRAGMA user_version=%d;"
			 "PRAGMA synchronous=FULL;", STORE_APP_ID, STORE_VERSION);
		rc = exec_sql(db, sql);
	}
	if (rc == SQLITE_OK)
		rc = exec_sql(db, "BEGIN");
	if (rc == SQLITE_OK)
		rc = exec_sql(db, schema_sql);
	if (rc == SQLITE_OK) {
		snprintf(sql, sizeof(sql),
			 "INSERT INTO meta VALUES(1, %u, %u, %u, NULL, 0)",
			 p->capacity,
			 p->max_wr_cnt ? p->max_wr_cnt : RPMB_DEFAULT_MAX_WR_CNT,
			 p->max_rd_cnt ? p->max_rd_cnt : RPMB_DEFAULT_MAX_RD_CNT);
		rc = exec_sql(db, sql);
	}
	if (rc == SQLITE_OK)
		rc = exec_sql(db, "COMMIT");
	/* WAL mode is recorded in the file; closing checkpoints it. */
	if (rc == SQLITE_OK)
		rc = exec_sql(db, "PRAGMA journal_mode=WAL");
	if (sqlite3_close(db) != SQLITE_OK && rc == SQLITE_OK)
		rc = SQLITE_IOERR;
	return rc == SQLITE_OK ? 0 : errno_from_sqlite(rc);
}

/*
 * A store is built under a temporary name and linked into place, so a
 * crash during creation never leaves a half-made store behind, and an
 * existing one is never replaced.
 */
static int create_store(const char *path, const struct rpmb_store_params *p,
			const char *vfs, char *err, size_t errlen)
{
	size_t len = strlen(path) + 16;
	char *tmp = malloc(len);
	int fd, ret;

	if (!tmp)
		return -ENOMEM;
	/*
	 * A WAL left behind by a deleted store would be replayed into the new
	 * one when it is first opened, mixing in the old key and counter.
	 */
	if (wal_exists(path)) {
		set_err(err, errlen,
			"%s: a stale %s-wal exists without its store; move it away",
			path, path);
		free(tmp);
		return -EPROTO;
	}
	snprintf(tmp, len, "%s.new-XXXXXX", path);
	fd = mkstemp(tmp);	/* 0600 */
	if (fd < 0) {
		ret = -errno;
		set_err(err, errlen, "%s: %s", path, strerror(errno));
		free(tmp);
		return ret;
	}
	close(fd);
	ret = init_new_db(tmp, p, vfs);
	if (!ret) {
		fd = open(tmp, O_RDONLY | O_CLOEXEC);
		if (fd < 0 || fsync(fd))
			ret = -EIO;
		if (fd >= 0)
			close(fd);
	}
	if (!ret && link(tmp, path))
		ret = -errno;
	if (ret)
		set_err(err, errlen, "%s: cannot create: %s", path,
			strerror(-ret));
	unlink(tmp);
	free(tmp);
	if (!ret) {
		ret = fsync_dir_of(path);
		if (ret)
			set_err(err, errlen, "%s: cannot sync its directory: %s",
				path, strerror(-ret));
	}
	return ret;
}

/*
 * flock() rather than a POSIX lock: POSIX locks belong to the process and
 * would not keep a second open in this process out. (Closing this fd on
 * failure still drops SQLite's own POSIX locks if this process has the
 * store open already; the flock held by that first open keeps excluding
 * every user of this API.)
 */
static int lock_file(struct rpmb_store *st, char *err, size_t errlen)
{
	struct stat sb;
	int ret;

	st->lock_fd = open(st->path, O_RDWR | O_CLOEXEC);
	if (st->lock_fd < 0) {
		ret = -errno;
		set_err(err, errlen, "%s: %s", st->path, strerror(-ret));
		return ret;
	}
	if (fstat(st->lock_fd, &sb) || !S_ISREG(sb.st_mode)) {
		set_err(err, errlen, "%s: not an RPMB store (not a regular file)",
			st->path);
		return -EPROTO;
	}
	if (flock(st->lock_fd, LOCK_EX | LOCK_NB)) {
		ret = errno == EWOULDBLOCK ? -EBUSY : -errno;
		set_err(err, errlen, "%s: %s", st->path,
			ret == -EBUSY ? "in use by another process" :
			strerror(-ret));
		return ret;
	}
	return 0;
}

static void close_db(struct rpmb_store *st)
{
	sqlite3_finalize(st->put_block);
	sqlite3_finalize(st->set_counter);
	sqlite3_finalize(st->get_blocks);
	st->put_block = NULL;
	st->set_counter = NULL;
	st->get_blocks = NULL;
	if (st->db)
		sqlite3_close(st->db);
	st->db = NULL;
}

static int query_int(sqlite3 *db, const char *sql, int64_t *out)
{
	sqlite3_stmt *s;
	int rc = sqlite3_prepare_v2(db, sql, -1, &s, NULL);

	if (rc == SQLITE_OK) {
		rc = sqlite3_step(s);
		if (rc == SQLITE_ROW) {
			*out = sqlite3_column_int64(s, 0);
			rc = SQLITE_OK;
		} else if (rc == SQLITE_DONE) {
			rc = SQLITE_CORRUPT;
		}
	}
	sqlite3_finalize(s);
	return rc;
}

/* Whether a PRAGMA's first answer is the text @want. */
static bool pragma_says(sqlite3 *db, const char *pragma, const char *want)
{
	sqlite3_stmt *s;
	bool ok = false;

	if (sqlite3_prepare_v2(db, pragma, -1, &s, NULL) != SQLITE_OK)
		return false;
	if (sqlite3_step(s) == SQLITE_ROW)
		ok = !strcmp((const char *)sqlite3_column_text(s, 0), want);
	sqlite3_finalize(s);
	return ok;
}

static bool quick_check_ok(sqlite3 *db)
{
	return pragma_says(db, "PRAGMA quick_check", "ok");
}

/*
 * Our stores are always in WAL mode (the mode is recorded in the file);
 * asking again repairs one that someone converted, since the
 * durability and cost reasoning here assume WAL.
 */
static bool wal_mode_ok(sqlite3 *db)
{
	return pragma_says(db, "PRAGMA journal_mode=WAL", "wal");
}

static int load_meta(struct rpmb_store *st)
{
	sqlite3_stmt *s;
	int64_t cap, wr, rd, ctr;
	int rc, ret = -EPROTO;

	rc = sqlite3_prepare_v2(st->db,
		"SELECT capacity, max_wr_cnt, max_rd_cnt, key, write_counter"
		" FROM meta WHERE id = 1", -1, &s, NULL);
	if (rc != SQLITE_OK)
		return -EPROTO;
	if (sqlite3_step(s) != SQLITE_ROW)
		goto out;
	cap = sqlite3_column_int64(s, 0);
	wr = sqlite3_column_int64(s, 1);
	rd = sqlite3_column_int64(s, 2);
	ctr = sqlite3_column_int64(s, 4);
	if (cap < 1 || cap > RPMB_CAPACITY_MAX || wr < 1 || wr > 255 ||
	    rd < 1 || rd > 255 || ctr < 0 || ctr > RPMB_COUNTER_MAX)
		goto out;
	st->info.capacity = (unsigned int)cap;
	st->info.max_wr_cnt = (unsigned int)wr;
	st->info.max_rd_cnt = (unsigned int)rd;
	st->info.write_counter = (uint32_t)ctr;
	st->info.key_programmed = false;
	if (sqlite3_column_type(s, 3) != SQLITE_NULL) {
		if (sqlite3_column_bytes(s, 3) != RPMB_KEY_SIZE)
			goto out;
		memcpy(st->key, sqlite3_column_blob(s, 3), RPMB_KEY_SIZE);
		st->info.key_programmed = true;
	}
	ret = 0;
out:
	sqlite3_finalize(s);
	return ret;
}

/* Every block row must be in range and whole: checked once, at open. */
static int check_blocks(struct rpmb_store *st)
{
	int64_t bad = 0;
	char sql[160];

	snprintf(sql, sizeof(sql),
		 "SELECT count(*) FROM blocks WHERE addr < 0 OR addr >= %u"
		 " OR length(data) != %d OR typeof(data) != 'blob'",
		 st->info.capacity * RPMB_BLOCKS_PER_UNIT, RPMB_BLOCK_SIZE);
	if (query_int(st->db, sql, &bad) != SQLITE_OK || bad)
		return -EPROTO;
	return 0;
}

static int open_db(struct rpmb_store *st, char *err, size_t errlen)
{
	int64_t app_id = 0, version = 0;
	int rc, ret;

	/*
	 * NOMUTEX: a store is only ever in one thread's hands (its device's,
	 * and a device is served by one thread at a time), so SQLite's
	 * per-connection mutex only costs time: ~5% of a one-block read.
	 */
	rc = sqlite3_open_v2(st->path, &st->db,
			     SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, st->vfs);
	if (rc != SQLITE_OK) {
		set_err(err, errlen, "%s: %s", st->path, sqlite3_errstr(rc));
		return errno_from_sqlite(rc);
	}
	/*
	 * EXCLUSIVE locking keeps the WAL index in our memory (no -shm file)
	 * and keeps other processes out even if they ignore our flock.
	 * SQLite's default checkpoint interval (1000 pages) keeps checkpoint
	 * fsyncs rare; after the first one the WAL is rewritten in place, so
	 * a commit's fsync carries no file-size change.
	 */
	rc = exec_sql(st->db, "PRAGMA locking_mode=EXCLUSIVE;"
			      "PRAGMA synchronous=FULL;");
	if (rc == SQLITE_OK) {
		char sql[48];

		snprintf(sql, sizeof(sql), "PRAGMA cache_size=-%d", CACHE_KIB);
		rc = exec_sql(st->db, sql);
	}
	if (rc == SQLITE_OK)
		rc = query_int(st->db, "PRAGMA application_id", &app_id);
	if (rc == SQLITE_OK)
		rc = query_int(st->db, "PRAGMA user_version", &version);
	if (rc != SQLITE_OK && errno_from_sqlite(rc) != -EPROTO) {
		set_err(err, errlen, "%s: %s", st->path, sqlite3_errmsg(st->db));
		return errno_from_sqlite(rc);
	}
	/* quick_check reads every page: ~16 ms for a full 16 MiB store. */
	if (rc != SQLITE_OK || app_id != STORE_APP_ID ||
	    version != STORE_VERSION || !quick_check_ok(st->db)) {
		set_err(err, errlen, "%s: corrupt or unsupported RPMB store",
			st->path);
		return -EPROTO;
	}
	if (!wal_mode_ok(st->db)) {
		set_err(err, errlen, "%s: cannot use WAL mode: %s", st->path,
			sqlite3_errmsg(st->db));
		return -EIO;
	}
	ret = load_meta(st);
	if (!ret)
		ret = check_blocks(st);
	if (ret) {
		set_err(err, errlen, "%s: corrupt RPMB store", st->path);
		return ret;
	}
	rc = sqlite3_prepare_v3(st->db,
		"INSERT INTO blocks(addr, data) VALUES(?, ?)"
		" ON CONFLICT(addr) DO UPDATE SET data = excluded.data", -1,
		SQLITE_PREPARE_PERSISTENT, &st->put_block, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_prepare_v3(st->db,
			"UPDATE meta SET write_counter = ? WHERE id = 1", -1,
			SQLITE_PREPARE_PERSISTENT, &st->set_counter, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_prepare_v3(st->db,
			"SELECT addr, data FROM blocks WHERE addr >= ? AND addr < ?"
			" ORDER BY addr", -1, SQLITE_PREPARE_PERSISTENT,
			&st->get_blocks, NULL);
	if (rc != SQLITE_OK) {
		set_err(err, errlen, "%s: %s", st->path, sqlite3_errstr(rc));
		return errno_from_sqlite(rc);
	}
	return 0;
}

int rpmb_store_open_vfs(const char *path, enum rpmb_store_open_mode mode,
			const struct rpmb_store_params *params, const char *vfs,
			struct rpmb_store **out, char *err, size_t errlen)
{
	struct rpmb_store *st;
	bool exists = access(path, F_OK) == 0;
	int ret;

	*out = NULL;
	if (mode == RPMB_STORE_OPEN_EXISTING && !exists) {
		set_err(err, errlen, "%s: no such store", path);
		return -ENOENT;
	}
	if (mode == RPMB_STORE_CREATE_NEW && exists) {
		set_err(err, errlen, "%s: already exists", path);
		return -EEXIST;
	}
	if (!exists) {
		if (!params || !params_valid(params)) {
			set_err(err, errlen, "%s: invalid store parameters", path);
			return -EINVAL;
		}
		ret = create_store(path, params, vfs, err, errlen);
		/* -EEXIST: another process created it first; open theirs. */
		if (ret && !(ret == -EEXIST && mode == RPMB_STORE_OPEN_OR_CREATE))
			return ret;
	}

	st = calloc(1, sizeof(*st));
	if (!st)
		return -ENOMEM;
	st->lock_fd = -1;
	st->path = strdup(path);
	st->wal_path = wal_path_of(path);
	st->vfs = vfs ? strdup(vfs) : NULL;
	if (!st->path || !st->wal_path || (vfs && !st->vfs))
		ret = -ENOMEM;
	else
		ret = lock_file(st, err, errlen);
	/* Under the lock, so the file cannot be swapped after the check. */
	if (!ret)
		ret = check_header(st->lock_fd, path, err, errlen);
	if (!ret)
		ret = open_db(st, err, errlen);
	if (ret) {
		rpmb_store_close(st);
		return ret;
	}
	*out = st;
	return 0;
}

int rpmb_store_open(const char *path, enum rpmb_store_open_mode mode,
		    const struct rpmb_store_params *params,
		    struct rpmb_store **out, char *err, size_t errlen)
{
	return rpmb_store_open_vfs(path, mode, params, NULL, out, err, errlen);
}

void rpmb_store_close(struct rpmb_store *st)
{
	if (!st)
		return;
	close_db(st);
	if (st->lock_fd >= 0)
		close(st->lock_fd);
	OPENSSL_cleanse(st->key, sizeof(st->key));
	free(st->path);
	free(st->wal_path);
	free(st->vfs);
	free(st);
}

void rpmb_store_get_info(const struct rpmb_store *st,
			 struct rpmb_store_info *info)
{
	*info = st->info;
}

int rpmb_store_get_key(const struct rpmb_store *st, uint8_t key[RPMB_KEY_SIZE])
{
	if (!st->info.key_programmed)
		return -ENOKEY;
	memcpy(key, st->key, RPMB_KEY_SIZE);
	return 0;
}

const char *rpmb_store_last_error(const struct rpmb_store *st)
{
	return st->errmsg;
}

/*
 * After a failed write the connection is closed and reopened. Why: with
 * WAL, a commit whose fsync failed may already have put valid frames,
 * commit frame included, into the -wal file. This connection ignores them
 * (its in-memory WAL index never advanced and the rollback restored it),
 * but any fresh WAL index -- a reopen, or a restart after a crash -- is
 * rebuilt by scanning the file and would replay them: the write we
 * reported as failed would appear.
 *
 * Closing the last connection checkpoints only the frames its index knows
 * (the committed ones) into the database, syncs it, and deletes the WAL,
 * so the failed frames are gone for good; the directory is synced so the
 * deletion survives a power cut too. Reopening then reloads exactly what
 * is on disk.
 *
 * If the WAL is still there after the close, the checkpoint or the delete
 * failed too (the disk keeps failing). A reopen could then replay the
 * failed write, so the store is left closed instead: every later call
 * fails with -EIO until the store is opened again. The failed write's
 * outcome is then as undetermined as after a power cut in mid-write --
 * still all or nothing, and the counter still never goes back.
 */
/* The path still names the file we locked (nobody swapped it). */
static bool still_our_file(struct rpmb_store *st)
{
	struct stat locked, named;

	return !fstat(st->lock_fd, &locked) && !stat(st->path, &named) &&
	       locked.st_dev == named.st_dev && locked.st_ino == named.st_ino;
}

static int recover_after_failure(struct rpmb_store *st)
{
	struct rpmb_store_info before = st->info;
	char err[256];
	int ret;

	close_db(st);
	if (access(st->wal_path, F_OK) == 0) {
		snprintf(st->errmsg, sizeof(st->errmsg),
			 "%s: could not discard a failed write; store closed, reopen it",
			 st->path);
		return -EIO;
	}
	fsync_dir_of(st->path);
	/*
	 * Reopened by path, so checked as at first open (it may have been
	 * replaced or rewritten meanwhile), and it must be the same store:
	 * same file, same geometry and key, a counter that did not go back.
	 */
	if (!still_our_file(st)) {
		snprintf(st->errmsg, sizeof(st->errmsg),
			 "%s: replaced while open; store closed", st->path);
		return -EIO;
	}
	ret = check_header(st->lock_fd, st->path, err, sizeof(err));
	if (!ret)
		ret = open_db(st, err, sizeof(err));
	if (!ret && (!still_our_file(st) ||
		     st->info.capacity != before.capacity ||
		     st->info.max_wr_cnt != before.max_wr_cnt ||
		     st->info.max_rd_cnt != before.max_rd_cnt ||
		     st->info.key_programmed != before.key_programmed ||
		     st->info.write_counter < before.write_counter)) {
		snprintf(err, sizeof(err), "%s: another store than before",
			 st->path);
		ret = -EPROTO;
	}
	if (ret) {
		close_db(st);
		st->info = before;
		snprintf(st->errmsg, sizeof(st->errmsg), "reopen failed: %s", err);
	}
	return ret;
}

/* Any SQLite error in a write: roll back, recover, keep the first reason. */
static int fail(struct rpmb_store *st, const char *what, int rc)
{
	char why[sizeof(st->errmsg)];

	snprintf(why, sizeof(why), "%s: %s: %s", st->path, what,
		 st->db ? sqlite3_errmsg(st->db) : sqlite3_errstr(rc));
	if (st->db)
		exec_sql(st->db, "ROLLBACK");
	if (recover_after_failure(st)) {
		size_t n = strlen(why);

		set_err(why + n, sizeof(why) - n, " (%s)", st->errmsg);
	}
	memcpy(st->errmsg, why, sizeof(why));
	return errno_from_sqlite(rc);
}

static int store_closed(struct rpmb_store *st)
{
	if (st->db)
		return 0;
	if (!st->errmsg[0])
		snprintf(st->errmsg, sizeof(st->errmsg),
			 "%s: store closed after an I/O error", st->path);
	return -EIO;
}

static int check_range(struct rpmb_store *st, unsigned int addr,
		       unsigned int count)
{
	uint64_t nblocks = (uint64_t)st->info.capacity * RPMB_BLOCKS_PER_UNIT;

	if (!count || count > 255 || (uint64_t)addr + count > nblocks) {
		snprintf(st->errmsg, sizeof(st->errmsg),
			 "blocks %u+%u outside the store", addr, count);
		return -EINVAL;
	}
	return 0;
}

int rpmb_store_read(struct rpmb_store *st, unsigned int addr,
		    unsigned int count, uint8_t *out)
{
	int rc, ret = check_range(st, addr, count);

	if (ret)
		return ret;
	ret = store_closed(st);
	if (ret)
		return ret;
	/* Blocks never written have no row: they read as zeros. */
	memset(out, 0, (size_t)count * RPMB_BLOCK_SIZE);
	/* Left reset by the last read: ready to bind. */
	sqlite3_bind_int64(st->get_blocks, 1, addr);
	sqlite3_bind_int64(st->get_blocks, 2, (int64_t)addr + count);
	while ((rc = sqlite3_step(st->get_blocks)) == SQLITE_ROW) {
		int64_t a = sqlite3_column_int64(st->get_blocks, 0);
		const void *blob = sqlite3_column_blob(st->get_blocks, 1);

		/* The query bounds addr; the size was checked at open. */
		if (a < addr || a >= (int64_t)addr + count || !blob ||
		    sqlite3_column_bytes(st->get_blocks, 1) != RPMB_BLOCK_SIZE) {
			rc = SQLITE_CORRUPT;
			break;
		}
		memcpy(out + (size_t)(a - addr) * RPMB_BLOCK_SIZE, blob,
		       RPMB_BLOCK_SIZE);
	}
	sqlite3_reset(st->get_blocks);
	if (rc != SQLITE_DONE) {
		snprintf(st->errmsg, sizeof(st->errmsg), "%s: read: %s", st->path,
			 sqlite3_errstr(rc));
		return errno_from_sqlite(rc);
	}
	return 0;
}

static int put_block(struct rpmb_store *st, unsigned int addr,
		     const uint8_t *data)
{
	int rc;

	sqlite3_reset(st->put_block);
	sqlite3_bind_int64(st->put_block, 1, addr);
	sqlite3_bind_blob(st->put_block, 2, data, RPMB_BLOCK_SIZE, SQLITE_STATIC);
	rc = sqlite3_step(st->put_block);
	sqlite3_reset(st->put_block);
	return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

int rpmb_store_write(struct rpmb_store *st, unsigned int addr,
		     unsigned int count, const uint8_t *data,
		     uint32_t new_counter)
{
	int rc, ret = check_range(st, addr, count);

	if (ret)
		return ret;
	ret = store_closed(st);
	if (ret)
		return ret;
	/* The core never does this; the store refuses it all the same. */
	if (new_counter <= st->info.write_counter) {
		snprintf(st->errmsg, sizeof(st->errmsg),
			 "write counter %u would not advance past %u",
			 new_counter, st->info.write_counter);
		return -EINVAL;
	}
	rc = exec_sql(st->db, "BEGIN IMMEDIATE");
	if (rc != SQLITE_OK)
		return fail(st, "begin", rc);
	for (unsigned int i = 0; i < count; i++) {
		rc = put_block(st, addr + i, data + (size_t)i * RPMB_BLOCK_SIZE);
		if (rc != SQLITE_OK)
			return fail(st, "write block", rc);
	}
	sqlite3_reset(st->set_counter);
	sqlite3_bind_int64(st->set_counter, 1, new_counter);
	rc = sqlite3_step(st->set_counter);
	sqlite3_reset(st->set_counter);
	if (rc != SQLITE_DONE)
		return fail(st, "write counter", rc);
	rc = exec_sql(st->db, "COMMIT");
	if (rc != SQLITE_OK)
		return fail(st, "commit", rc);
	st->info.write_counter = new_counter;
	return 0;
}

int rpmb_store_program_key(struct rpmb_store *st,
			   const uint8_t key[RPMB_KEY_SIZE])
{
	sqlite3_stmt *s;
	int rc, ret;

	if (st->info.key_programmed)
		return -EEXIST;
	ret = store_closed(st);
	if (ret)
		return ret;
	rc = sqlite3_prepare_v2(st->db,
		"UPDATE meta SET key = ? WHERE id = 1 AND key IS NULL", -1, &s,
		NULL);
	if (rc != SQLITE_OK)
		return fail(st, "program key", rc);
	sqlite3_bind_blob(s, 1, key, RPMB_KEY_SIZE, SQLITE_STATIC);
	rc = sqlite3_step(s);
	sqlite3_finalize(s);
	/* Autocommit: done means committed and synced. */
	if (rc != SQLITE_DONE)
		return fail(st, "program key", rc);
	if (sqlite3_changes(st->db) != 1) {
		snprintf(st->errmsg, sizeof(st->errmsg),
			 "%s: a key is on disk already", st->path);
		return -EEXIST;
	}
	memcpy(st->key, key, RPMB_KEY_SIZE);
	st->info.key_programmed = true;
	return 0;
}
