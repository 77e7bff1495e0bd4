// SPDX-License-Identifier: MIT
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "faulty-vfs.h"

struct faulty_file {
	sqlite3_file base;		/* must be first: SQLite's view */
	sqlite3_file *real;
};

static sqlite3_vfs *real_vfs;
static sqlite3_vfs faulty_vfs;
static sqlite3_io_methods faulty_methods;
static int armed_op = -1;
static unsigned int countdown;
static int fired;
static int sticky;

static int should_fail(enum faulty_op op)
{
	if (armed_op < 0 || (fired && !sticky))
		return 0;
	if (armed_op == FAULTY_WRITE_FULL ? op != FAULTY_WRITE : (int)op != armed_op)
		return 0;
	if (fired)
		return 1;
	if (--countdown)
		return 0;
	fired = 1;
	return 1;
}

static sqlite3_file *real(sqlite3_file *f)
{
	return ((struct faulty_file *)f)->real;
}

static int f_close(sqlite3_file *f)
{
	sqlite3_file *r = real(f);
	int rc = r->pMethods ? r->pMethods->xClose(r) : SQLITE_OK;

	free(r);
	return rc;
}

static int f_read(sqlite3_file *f, void *buf, int n, sqlite3_int64 off)
{
	return real(f)->pMethods->xRead(real(f), buf, n, off);
}

static int f_write(sqlite3_file *f, const void *buf, int n, sqlite3_int64 off)
{
	if (should_fail(FAULTY_WRITE))
		return armed_op == FAULTY_WRITE_FULL ? SQLITE_FULL :
						       SQLITE_IOERR_WRITE;
	return real(f)->pMethods->xWrite(real(f), buf, n, off);
}

static int f_truncate(sqlite3_file *f, sqlite3_int64 size)
{
	return real(f)->pMethods->xTruncate(real(f), size);
}

static int f_sync(sqlite3_file *f, int flags)
{
	/* Like a failed fsync: the data may or may not have reached disk. */
	int rc = real(f)->pMethods->xSync(real(f), flags);

	return should_fail(FAULTY_SYNC) ? SQLITE_IOERR_FSYNC : rc;
}

static int f_size(sqlite3_file *f, sqlite3_int64 *size)
{
	return real(f)->pMethods->xFileSize(real(f), size);
}

static int f_lock(sqlite3_file *f, int l)
{
	return real(f)->pMethods->xLock(real(f), l);
}

static int f_unlock(sqlite3_file *f, int l)
{
	return real(f)->pMethods->xUnlock(real(f), l);
}

static int f_check_lock(sqlite3_file *f, int *out)
{
	return real(f)->pMethods->xCheckReservedLock(real(f), out);
}

static int f_fcntl(sqlite3_file *f, int op, void *arg)
{
	return real(f)->pMethods->xFileControl(real(f), op, arg);
}

static int f_sector(sqlite3_file *f)
{
	return real(f)->pMethods->xSectorSize(real(f));
}

static int f_caps(sqlite3_file *f)
{
	return real(f)->pMethods->xDeviceCharacteristics(real(f));
}

static int f_open(sqlite3_vfs *vfs, const char *name, sqlite3_file *file,
		  int flags, int *out_flags)
{
	struct faulty_file *ff = (struct faulty_file *)file;
	int rc;

	ff->real = calloc(1, (size_t)real_vfs->szOsFile);
	if (!ff->real)
		return SQLITE_NOMEM;
	rc = real_vfs->xOpen(real_vfs, name, ff->real, flags, out_flags);
	if (rc != SQLITE_OK) {
		free(ff->real);
		ff->real = NULL;
		file->pMethods = NULL;
		return rc;
	}
	file->pMethods = &faulty_methods;
	return SQLITE_OK;
}

static int f_delete(sqlite3_vfs *v, const char *name, int sync_dir)
{
	return real_vfs->xDelete(real_vfs, name, sync_dir);
}

static int f_access(sqlite3_vfs *v, const char *name, int flags, int *out)
{
	return real_vfs->xAccess(real_vfs, name, flags, out);
}

static int f_full_path(sqlite3_vfs *v, const char *name, int n, char *out)
{
	return real_vfs->xFullPathname(real_vfs, name, n, out);
}

static int f_random(sqlite3_vfs *v, int n, char *out)
{
	return real_vfs->xRandomness(real_vfs, n, out);
}

static int f_sleep(sqlite3_vfs *v, int us)
{
	return real_vfs->xSleep(real_vfs, us);
}

static int f_time(sqlite3_vfs *v, double *out)
{
	return real_vfs->xCurrentTime(real_vfs, out);
}

static int f_last_error(sqlite3_vfs *v, int n, char *out)
{
	return real_vfs->xGetLastError(real_vfs, n, out);
}

int faulty_vfs_register(void)
{
	if (real_vfs)
		return 0;
	real_vfs = sqlite3_vfs_find(NULL);
	if (!real_vfs)
		return -1;
	faulty_methods = (sqlite3_io_methods) {
		.iVersion = 1,
		.xClose = f_close, .xRead = f_read, .xWrite = f_write,
		.xTruncate = f_truncate, .xSync = f_sync, .xFileSize = f_size,
		.xLock = f_lock, .xUnlock = f_unlock,
		.xCheckReservedLock = f_check_lock, .xFileControl = f_fcntl,
		.xSectorSize = f_sector, .xDeviceCharacteristics = f_caps,
	};
	faulty_vfs = (sqlite3_vfs) {
		.iVersion = 1,
		.szOsFile = sizeof(struct faulty_file),
		.mxPathname = real_vfs->mxPathname,
		.zName = FAULTY_VFS_NAME,
		.xOpen = f_open, .xDelete = f_delete, .xAccess = f_access,
		.xFullPathname = f_full_path,
		.xRandomness = f_random, .xSleep = f_sleep,
		.xCurrentTime = f_time, .xGetLastError = f_last_error,
	};
	return sqlite3_vfs_register(&faulty_vfs, 0) == SQLITE_OK ? 0 : -1;
}

void faulty_vfs_arm(enum faulty_op op, unsigned int nth)
{
	armed_op = (int)op;
	countdown = nth;
	fired = 0;
	sticky = 0;
}

void faulty_vfs_arm_sticky(enum faulty_op op, unsigned int nth)
{
	faulty_vfs_arm(op, nth);
	sticky = 1;
}

void faulty_vfs_disarm(void)
{
	armed_op = -1;
	fired = 0;
	sticky = 0;
}

int faulty_vfs_fired(void)
{
	return fired;
}
