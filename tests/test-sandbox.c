// SPDX-License-Identifier: MIT
/*
 * A worker's confinement (backend/sandbox.c), in forked children: the
 * system call filter kills on anything not needed for serving, and (as
 * root) the chroot and the dropped identity keep a worker away from
 * every other guest's state and from root.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "device-types.h"
#include "guest-devices.h"
#include "guest-service.h"
#include "log.h"
#include "mmio-bus.h"
#include "rpmb-clients.h"
#include "rpmb-test-util.h"
#include "sandbox.h"
#include <seccomp.h>
#include "sim-driver.h"
#include "sim-vm.h"
#include "sim-worker.h"
#include "virtio-mmio.h"
#include "worker-msg.h"

/* Runs @fn in a child; returns its wait status. @fn writes to @out. */
static int in_child(void (*fn)(int out, void *arg), void *arg, char *buf,
		    size_t len)
{
	int p[2], status;
	ssize_t n;
	pid_t pid;

	assert_int_equal(pipe(p), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (!pid) {
		close(p[0]);
		fn(p[1], arg);
		_exit(0);
	}
	close(p[1]);
	/* Until EOF: closing early would kill the child with SIGPIPE. */
	for (size_t got = 0;; got += (size_t)n) {
		n = read(p[0], buf + got, len - 1 - got);
		if (n <= 0) {
			buf[got] = '\0';
			break;
		}
	}
	close(p[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	return status;
}

static void say(int out, const char *s)
{
	if (write(out, s, strlen(s)) < 0)
		_exit(3);
}

enum forbidden { F_SOCKET, F_EXECVE, F_IOCTL, F_FORK, F_PTRACE, F_TGKILL };

static void on_usr1(int sig)
{
}

static void filtered_child(int out, void *arg)
{
	enum forbidden what = *(enum forbidden *)arg;
	char err[256];
	int fd;

	pid_t parent = getppid();	/* not allowed under the filter */

	signal(SIGUSR1, on_usr1);
	if (sandbox_seccomp(NULL, err, sizeof(err))) {
		say(out, err);
		_exit(2);
	}
	/* What serving needs still works. */
	fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		_exit(4);
	close(fd);
	say(out, "alive;");
	switch (what) {
	case F_SOCKET:
		socket(AF_INET, SOCK_STREAM, 0);
		break;
	case F_EXECVE: {
		char *argv[] = { (char *)"/bin/true", NULL };

		execve("/bin/true", argv, NULL);
		break;
	}
	case F_IOCTL: {
		struct winsize ws;

		ioctl(out, TIOCGWINSZ, &ws);
		break;
	}
	case F_FORK:
		if (!fork())
			_exit(0);
		break;
	case F_PTRACE:
		kill(getppid(), 0);
		break;
	case F_TGKILL:
		/* Signalling itself is allowed; another process (of the same
		 * user: another guest's worker) is not. */
		if (raise(SIGUSR1))
			_exit(5);
		say(out, "raised;");
		syscall(SYS_tgkill, parent, parent, 0);
		break;
	}
	say(out, "survived");
}

static void seccomp_kills_forbidden_calls(void **state)
{
	static const enum forbidden calls[] = {
		F_SOCKET, F_EXECVE, F_IOCTL, F_FORK, F_PTRACE, F_TGKILL,
	};
	char buf[256];

	for (size_t i = 0; i < sizeof(calls) / sizeof(calls[0]); i++) {
		int status = in_child(filtered_child, (void *)&calls[i], buf,
				      sizeof(buf));

		if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGSYS)
			fail_msg("forbidden call %zu: status %#x, output '%s'", i,
				 status, buf);
		assert_string_equal(buf, calls[i] == F_TGKILL ? "alive;raised;" :
					 "alive;");
	}
}

static int report_fd;

static void report_nr(long nr, unsigned long arg0, unsigned long arg1)
{
	char buf[64];
	int n = snprintf(buf, sizeof(buf), "nr=%ld %lx %lx", nr, arg0, arg1);

	if (write(report_fd, buf, (size_t)n) < 0)
		_exit(3);
}

static void reporting_child(int out, void *arg)
{
	char err[256];

	report_fd = out;
	if (sandbox_seccomp(report_nr, err, sizeof(err)))
		_exit(2);
	socket(AF_INET, SOCK_STREAM, 0);
	say(out, "survived");
}

/*
 * The worker's reporter, as the supervisor reads it: a log line with the
 * call and its arguments (an ioctl's request tells which one it was).
 */
static void worker_reporting_child(int out, void *arg)
{
	int sock = *(int *)arg;
	char err[256];

	guest_service_violation_sock(sock);
	if (sandbox_seccomp(guest_service_report_violation, err, sizeof(err)))
		_exit(2);
	ioctl(0, 0x4711, 0);
	say(out, "survived");
}

/* With a reporter, the process says which call it was, then exits. */
static void violations_are_reported(void **state)
{
	char buf[64], want[128];
	int status = in_child(reporting_child, NULL, buf, sizeof(buf));
	int sv[2];
	struct wmsg m;

	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), SANDBOX_EXIT_VIOLATION);
	snprintf(want, sizeof(want), "nr=%d %x %x", SCMP_SYS(socket), AF_INET,
		 SOCK_STREAM);
	assert_string_equal(buf, want);

	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv), 0);
	status = in_child(worker_reporting_child, &sv[1], buf, sizeof(buf));
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), SANDBOX_EXIT_VIOLATION);
	assert_int_equal(wmsg_recv(sv[0], &m), 1);
	assert_int_equal(m.type, WMSG_LOG);
	snprintf(want, sizeof(want),
		 "worker: forbidden system call %d (arguments 0x0, 0x4711)",
		 SCMP_SYS(ioctl));
	assert_string_equal(m.u.log.text, want);
	close(sv[0]);
	close(sv[1]);
}

static uint64_t vm_rd(void *opaque, uint64_t off, unsigned int size)
{
	return sim_vm_access(opaque, 0, 0x2000000 + off, size, false, 0);
}

static void vm_wr(void *opaque, uint64_t off, unsigned int size, uint64_t v)
{
	sim_vm_access(opaque, 0, 0x2000000 + off, size, true, v);
}

/*
 * A worker built as worker.c builds one (sim-worker.h), filter on and,
 * as root, confined: a device added, a guest's request served, a clean
 * stop. Any system call the filter forbids ends it with the call named.
 */
static void worker_serves_under_the_filter(void **state)
{
	struct sim_vm *vm = sim_vm_new(0x40000000, SIM_RAM_SIZE, 1);
	struct sim_worker_opts o = { .dir = rt_tempdir(), .confine = true,
				     .log_level = VR_LOG_ERR };
	struct rpmb_frame req[2], resp[1];
	struct sim_worker w;
	struct sim_driver d;
	int status;

	assert_int_equal(sim_worker_start(&w, vm, &o), 0);
	if (sim_worker_add(&w, 0, 0x2000000,
			   "capacity=1 max_wr_cnt=8 max_rd_cnt=8")) {
		status = sim_worker_stop(&w);
		fail_msg("not added: '%s' (worker status %#x)", w.last_log,
			 status);
	}
	sim_driver_init(&d, vm->ram, vm, vm_rd, vm_wr);
	d.wait_ms = 5000;
	assert_int_equal(sim_driver_probe(&d, ~0ULL, 16), 0);
	rc_request(&req[0], RPMB_REQ_PROGRAM_KEY, 0, 0, 0);
	memcpy(req[0].key_mac, rc_test_key, RPMB_KEY_SIZE);
	rc_request(&req[1], RPMB_REQ_RESULT_READ, 0, 0, 0);
	assert_int_equal(sim_rpmb_xfer(&d, req, 2, resp, 1, SIM_SPLIT_WHOLE,
				       false), 512);
	assert_int_equal(rpmb_frame_result(&resp[0]), RPMB_RES_OK);
	assert_true(sim_vm_wait_irq(vm, 0, 5000));

	status = sim_worker_stop(&w);
	if (!WIFEXITED(status) || WEXITSTATUS(status))
		fail_msg("worker status %#x, last said '%s'", status,
			 w.last_log);
	sim_vm_free(vm);
	rt_rmdir((char *)o.dir);
}

struct confine {
	const char *dir;
	struct sandbox_id id;
};

static void confined_child(int out, void *arg)
{
	struct confine *c = arg;
	char err[256], line[256];

	if (sandbox_enter(c->dir, &c->id, err, sizeof(err))) {
		say(out, err);
		_exit(2);
	}
	/* Its own state, yes; another guest's, by any path, no. */
	say(out, access("/0.rpmb", R_OK) ? "own:no;" : "own:yes;");
	say(out, open("../other/0.rpmb", O_RDONLY) < 0 ? "other:no;" : "other:yes;");
	say(out, open("/../other/0.rpmb", O_RDONLY) < 0 ? "other2:no;" : "other2:yes;");
	say(out, setuid(0) ? "root:no;" : "root:yes;");
	say(out, access("/proc/self/status", R_OK) ? "proc:no;" : "proc:yes;");
	snprintf(line, sizeof(line), "uid:%u;", (unsigned int)getuid());
	say(out, line);
}

static void confinement(void **state)
{
	char *base, mine[512], other[512], path[600], buf[512];
	struct confine c = { .id = { 65534, 65534 } };
	int status, fd;

	if (geteuid()) {
		print_message("not root: chroot and identity checks skipped\n");
		skip();
	}
	base = rt_tempdir();
	snprintf(mine, sizeof(mine), "%s/mine", base);
	snprintf(other, sizeof(other), "%s/other", base);
	assert_int_equal(mkdir(mine, 0700), 0);
	assert_int_equal(mkdir(other, 0700), 0);
	assert_int_equal(chown(mine, 65534, 65534), 0);
	snprintf(path, sizeof(path), "%s/0.rpmb", mine);
	fd = open(path, O_CREAT | O_WRONLY, 0600);
	assert_true(fd >= 0);
	assert_int_equal(fchown(fd, 65534, 65534), 0);
	close(fd);
	snprintf(path, sizeof(path), "%s/0.rpmb", other);
	fd = open(path, O_CREAT | O_WRONLY, 0600);
	close(fd);
	c.dir = mine;
	status = in_child(confined_child, &c, buf, sizeof(buf));
	if (!WIFEXITED(status))
		fail_msg("status %#x, output '%s'", status, buf);
	assert_string_equal(buf,
		"own:yes;other:no;other2:no;root:no;proc:no;uid:65534;");
	rt_rmdir(base);
}

static void worker_user(void **state)
{
	struct sandbox_id id;
	char err[256];

	assert_int_equal(sandbox_user("1000:1001", &id, err, sizeof(err)), 0);
	assert_int_equal(id.uid, 1000);
	assert_int_equal(id.gid, 1001);
	assert_int_equal(sandbox_user("0:0", &id, err, sizeof(err)), -EPERM);
	assert_int_equal(sandbox_user("5:0", &id, err, sizeof(err)), -EPERM);
	assert_int_equal(sandbox_user("root", &id, err, sizeof(err)), -EPERM);
	assert_int_equal(sandbox_user("no-such-user-xyz", &id, err, sizeof(err)),
			 -ENOENT);
	assert_non_null(strstr(err, "worker-user"));
	assert_int_equal(sandbox_user("1:x", &id, err, sizeof(err)), -EINVAL);
	assert_int_equal(sandbox_user(":1", &id, err, sizeof(err)), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(seccomp_kills_forbidden_calls),
		cmocka_unit_test(violations_are_reported),
		cmocka_unit_test(worker_serves_under_the_filter),
		cmocka_unit_test(confinement),
		cmocka_unit_test(worker_user),
	};

	return cmocka_run_group_tests_name("sandbox", tests, NULL, NULL);
}
