// SPDX-License-Identifier: MIT
/*
 * The system call list is what a worker's threads do while serving:
 * event loop and socket to the supervisor, SQLite and its files inside
 * the chroot, Xen's device files through the few ioctls that map guest
 * memory, inject interrupts, claim windows and signal event channels,
 * and what glibc and OpenSSL do underneath (memory, futexes, clocks,
 * randomness). Opening a socket, executing, creating threads or
 * processes, changing identity, ptrace and every other ioctl are not on
 * it. Everything that needs more (opening Xen handles, the ioreq page,
 * binding event channels) happens before the filter goes on.
 */
#include <errno.h>
#include <signal.h>
#include <ucontext.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <linux/capability.h>
#include <linux/ioctl.h>
#include <openssl/evp.h>
#include <seccomp.h>
#include <sqlite3.h>

#include "parse.h"
#include "sandbox.h"

void sandbox_prepare(void)
{
	EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	unsigned char seed;

	EVP_MAC_free(mac);
	sqlite3_initialize();
	sqlite3_randomness(1, &seed);
}

int sandbox_user(const char *spec, struct sandbox_id *id, char *err,
		 size_t errlen)
{
	const char *colon = strchr(spec, ':');
	uint64_t uid, gid;

	if (colon) {
		char num[32];
		size_t n = (size_t)(colon - spec);

		if (n >= sizeof(num))
			goto bad;
		memcpy(num, spec, n);
		num[n] = '\0';
		if (parse_u64(num, UINT32_MAX - 1, &uid) ||
		    parse_u64(colon + 1, UINT32_MAX - 1, &gid))
			goto bad;
		id->uid = (uid_t)uid;
		id->gid = (gid_t)gid;
	} else {
		struct passwd *pw = getpwnam(spec);

		if (!pw) {
			snprintf(err, errlen,
				 "no user '%s' for the workers (create it, e.g. with systemd-sysusers, or set worker-user = UID:GID)",
				 spec);
			return -ENOENT;
		}
		id->uid = pw->pw_uid;
		id->gid = pw->pw_gid;
	}
	if (!id->uid || !id->gid) {
		snprintf(err, errlen, "worker-user '%s' is root: refused", spec);
		return -EPERM;
	}
	return 0;
bad:
	snprintf(err, errlen, "worker-user '%s' is not a user name or UID:GID",
		 spec);
	return -EINVAL;
}

static int fail(char *err, size_t errlen, const char *what)
{
	int ret = -errno;

	snprintf(err, errlen, "%s: %s", what, strerror(errno));
	return ret ? ret : -EPERM;
}

int sandbox_enter(const char *dir, const struct sandbox_id *id, char *err,
		  size_t errlen)
{
	if (chdir(dir) || chroot(".") || chdir("/"))
		return fail(err, errlen, "chroot");
	/* Neither ptrace nor a core dump by anyone of the same uid. */
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0))
		return fail(err, errlen, "PR_SET_DUMPABLE");
	/* No capability can come back, whatever is executed. */
	for (int cap = 0; cap <= CAP_LAST_CAP; cap++)
		if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) && errno != EINVAL)
			return fail(err, errlen, "PR_CAPBSET_DROP");
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) &&
	    errno != EINVAL)
		return fail(err, errlen, "PR_CAP_AMBIENT");
	if (setgroups(0, NULL) || setresgid(id->gid, id->gid, id->gid) ||
	    setresuid(id->uid, id->uid, id->uid))
		return fail(err, errlen, "dropping to the worker user");
	/* Losing root also cleared the capability sets; check it stuck. */
	if (!setuid(0) || getuid() != id->uid || geteuid() != id->uid) {
		snprintf(err, errlen, "still able to regain root");
		return -EPERM;
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
		return fail(err, errlen, "PR_SET_NO_NEW_PRIVS");
	return 0;
}

static const char *const allowed[] = {
	/* event loop, the supervisor's socket, eventfds */
	"read", "write", "readv", "writev", "epoll_create1", "epoll_wait",
	"epoll_pwait", "epoll_ctl", "poll", "ppoll", "sendmsg", "sendto",
	"recvmsg", "recvfrom", "close",
	/* memory, threads that exist, time */
	"brk", "mmap", "munmap", "mprotect", "madvise", "mremap", "futex",
	"set_robust_list", "rseq", "sched_yield", "clock_gettime",
	"clock_nanosleep", "nanosleep", "gettimeofday", "getrandom",
	"getpid", "gettid", "getuid", "geteuid", "getgid", "getegid",
	"sysinfo", "rt_sigprocmask", "rt_sigreturn", "restart_syscall",
	"exit", "exit_group",
	/* the sanitizer runtimes (ASan's thread exit) */
	"sigaltstack",
	/* SQLite's files, inside the chroot */
	"openat", "open", "fstat", "newfstatat", "stat", "lstat", "statx",
	"lseek", "pread64", "pwrite64", "fsync", "fdatasync", "ftruncate",
	"fcntl", "flock", "unlink", "unlinkat", "link", "linkat", "access",
	"faccessat", "faccessat2", "getcwd", "readlink", "readlinkat",
	/* SQLite hands a new WAL to the database's owner (a no-op for us) */
	"fchown",
};

/*
 * Xen device ioctls used while serving: grant and foreign mappings,
 * interrupts and window claims, event channel signals. Numbers as
 * Linux's include/uapi/xen/{privcmd,gntdev,evtchn}.h encode them (a
 * stable ABI; those headers need kernel-internal types to include):
 * type, number and the size of the argument on a 64-bit build.
 */
static const unsigned long xen_ioctls[] = {
	_IOC(_IOC_NONE, 'P', 5, 16),	/* IOCTL_PRIVCMD_DM_OP */
	_IOC(_IOC_NONE, 'P', 4, 32),	/* IOCTL_PRIVCMD_MMAPBATCH_V2 */
	_IOC(_IOC_NONE, 'G', 0, 24),	/* IOCTL_GNTDEV_MAP_GRANT_REF */
	_IOC(_IOC_NONE, 'G', 1, 16),	/* IOCTL_GNTDEV_UNMAP_GRANT_REF */
	/* libxengnttab looks a mapping's offset up before unmapping it */
	_IOC(_IOC_NONE, 'G', 2, 24),	/* IOCTL_GNTDEV_GET_OFFSET_FOR_VADDR */
	_IOC(_IOC_NONE, 'E', 4, 4),	/* IOCTL_EVTCHN_NOTIFY */
	_IOC(_IOC_NONE, 'E', 3, 4),	/* IOCTL_EVTCHN_UNBIND */
};
_Static_assert(sizeof(void *) == 8, "the sizes above are 64-bit ones");

/* The signal handler has no argument to find it by. */
static void (*violation_hook)(long nr, unsigned long arg0, unsigned long arg1);

/* The forbidden call's first two arguments, from the trapped registers. */
static void call_args(void *uc, unsigned long *a0, unsigned long *a1)
{
	const ucontext_t *u = uc;

#if defined(__x86_64__)
	*a0 = (unsigned long)u->uc_mcontext.gregs[REG_RDI];
	*a1 = (unsigned long)u->uc_mcontext.gregs[REG_RSI];
#elif defined(__aarch64__)
	*a0 = u->uc_mcontext.regs[0];
	*a1 = u->uc_mcontext.regs[1];
#else
	(void)u;
	*a0 = *a1 = 0;
#endif
}

/* SECCOMP_RET_TRAP: tell, then go (the call itself never ran). */
static void on_sigsys(int sig, siginfo_t *si, void *uc)
{
	unsigned long a0, a1;

	if (violation_hook) {
		call_args(uc, &a0, &a1);
		violation_hook(si->si_syscall, a0, a1);
	}
	_exit(SANDBOX_EXIT_VIOLATION);
}

int sandbox_seccomp(void (*on_violation)(long nr, unsigned long arg0,
					    unsigned long arg1),
		    char *err, size_t errlen)
{
	scmp_filter_ctx ctx;
	int ret = 0;

	if (on_violation) {
		struct sigaction sa = { .sa_sigaction = on_sigsys,
					.sa_flags = SA_SIGINFO };

		violation_hook = on_violation;
		sigemptyset(&sa.sa_mask);
		if (sigaction(SIGSYS, &sa, NULL))
			return fail(err, errlen, "sigaction");
	}
	ctx = seccomp_init(on_violation ? SCMP_ACT_TRAP : SCMP_ACT_KILL_PROCESS);
	if (!ctx) {
		snprintf(err, errlen, "seccomp_init failed");
		return -ENOMEM;
	}
	for (size_t i = 0; i < sizeof(allowed) / sizeof(allowed[0]); i++) {
		int nr = seccomp_syscall_resolve_name(allowed[i]);

		/* Some names exist on one architecture only (open, stat). */
		if (nr == __NR_SCMP_ERROR || nr < 0)
			continue;
		ret = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0);
		if (ret)
			break;
	}
	/*
	 * Signals to its own threads only (abort(), the sanitizers): every
	 * worker runs as the same user, so another one is not off limits
	 * by uid alone.
	 */
	if (!ret) {
		struct scmp_arg_cmp self = {
			.arg = 0, .op = SCMP_CMP_EQ,
			.datum_a = (scmp_datum_t)getpid(), .datum_b = 0,
		};

		ret = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(tgkill), 1,
				       self);
	}
	for (size_t i = 0; !ret && i < sizeof(xen_ioctls) / sizeof(xen_ioctls[0]); i++)
		ret = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 1,
				       SCMP_A1(SCMP_CMP_MASKED_EQ, 0xffffffffUL,
					       xen_ioctls[i]));
	/* Every thread of the process, not just this one. */
	if (!ret)
		ret = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1);
	if (!ret)
		ret = seccomp_load(ctx);
	if (ret)
		snprintf(err, errlen, "seccomp: %s", strerror(-ret));
	seccomp_release(ctx);
	return ret;
}
