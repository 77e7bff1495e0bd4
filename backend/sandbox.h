/* SPDX-License-Identifier: MIT */
/*
 * What a guest's worker gives up once its Xen handles are open and
 * restricted: the file system beyond its guest's directory (chroot),
 * root and every capability (a dedicated unprivileged user),
 * ptrace-ability and core dumps, new privileges (no_new_privs), and
 * every system call serving does not need (a seccomp filter that kills
 * the process on anything else).
 */
#ifndef BACKEND_SANDBOX_H
#define BACKEND_SANDBOX_H

#include <stddef.h>
#include <sys/types.h>

struct sandbox_id {
	uid_t uid;
	gid_t gid;
};

/*
 * The workers' user: a name from the password database, or "UID:GID".
 * Root is refused. Look it up before forking (NSS needs the file
 * system). 0, or -errno with @err.
 */
int sandbox_user(const char *spec, struct sandbox_id *id, char *err,
		 size_t errlen);

/*
 * Loads what the libraries would otherwise load on first use, from
 * files the chroot hides: OpenSSL's HMAC provider, SQLite's state and
 * its randomness. Call before sandbox_enter().
 */
void sandbox_prepare(void);

/*
 * Confines the calling process to @dir (chroot; it becomes "/"), drops
 * to @id with no capabilities, not dumpable, no new privileges. Needs
 * root. 0, or -errno with @err (then nothing is safe: exit).
 */
int sandbox_enter(const char *dir, const struct sandbox_id *id, char *err,
		  size_t errlen);

/* A process a violation ended this way exits with this status. */
#define SANDBOX_EXIT_VIOLATION	159

/*
 * Installs the system call filter on every thread of the process:
 * anything not on the list ends it. Without @on_violation the kernel
 * kills it (SIGSYS); with it, @on_violation is called first, from a
 * signal handler (async-signal-safe code only), with the system call's
 * number and first two arguments (an ioctl's request is the second), and
 * the process exits with SANDBOX_EXIT_VIOLATION. Threads
 * must exist already: creating one is not on the list. 0, or -errno.
 */
int sandbox_seccomp(void (*on_violation)(long nr, unsigned long arg0,
					    unsigned long arg1),
		    char *err, size_t errlen);

#endif /* BACKEND_SANDBOX_H */
