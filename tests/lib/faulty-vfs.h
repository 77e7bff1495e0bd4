/* SPDX-License-Identifier: MIT */
/*
 * Test double below a real interface: a SQLite VFS ("faulty") that wraps
 * the default one and makes a chosen write or sync fail, the way a full
 * or dying disk would. Process-wide, as SQLite VFSes are.
 */
#ifndef FAULTY_VFS_H
#define FAULTY_VFS_H

#define FAULTY_VFS_NAME	"faulty"

enum faulty_op {
	FAULTY_WRITE,		/* xWrite fails with SQLITE_IOERR_WRITE */
	FAULTY_WRITE_FULL,	/* xWrite fails with SQLITE_FULL (ENOSPC) */
	FAULTY_SYNC,		/* xSync fails with SQLITE_IOERR_FSYNC */
};

int faulty_vfs_register(void);

/* The @nth (from 1) operation of kind @op from now on fails, once. */
void faulty_vfs_arm(enum faulty_op op, unsigned int nth);
/* The same, but that one and every later one fail: a disk that stays bad. */
void faulty_vfs_arm_sticky(enum faulty_op op, unsigned int nth);
void faulty_vfs_disarm(void);
/* Whether the armed fault has fired. */
int faulty_vfs_fired(void);

#endif /* FAULTY_VFS_H */
