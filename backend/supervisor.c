// SPDX-License-Identifier: MIT
/*
 * The supervisor's event loop: xenstore watches, signals (signalfd,
 * SIGCHLD included), a one-second timer, and one socket per worker.
 * Events are level-triggered and each is handled a bounded amount per
 * turn, so a chatty worker or a burst of watches cannot keep the others
 * (or SIGTERM) waiting.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "supervisor.h"

#define TOKEN_DEVICES	"devices"
#define TOKEN_RELEASE	"release"
#define MAX_EVENTS	16
/* Worker messages handled per wake-up, per worker. */
#define MESSAGES_PER_TURN 64
/*
 * @releaseDomain is the real trigger for noticing dead guests; the timer
 * backs it up (a missed watch, a domain that was dying when we checked).
 */
#define DEAD_GUEST_CHECK_TICKS 5
/* On SIGTERM, workers get this long to stop before they are killed. */
#define STOP_DEADLINE_MS 12000

static int add_fd(struct supervisor *s, int fd, struct loop_src *src)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = src };

	return epoll_ctl(s->epoll_fd, EPOLL_CTL_ADD, fd, &ev);
}

static int setup_signals(struct supervisor *s)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGCHLD);
	if (sigprocmask(SIG_BLOCK, &set, NULL))
		return -1;
	/* A worker going away must not stop us by a broken pipe either. */
	signal(SIGPIPE, SIG_IGN);
	s->signal_fd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	return s->signal_fd < 0 ? -1 : 0;
}

static int setup_timer(struct supervisor *s)
{
	struct itimerspec its = {
		.it_interval = { .tv_sec = 1 },
		.it_value = { .tv_sec = 1 },
	};

	s->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (s->timer_fd < 0)
		return -1;
	return timerfd_settime(s->timer_fd, 0, &its, NULL);
}

static void on_xenstore(struct supervisor *s)
{
	char **vec;

	/* xs_check_watch() does not block: it drains what has arrived. */
	while ((vec = xs_check_watch(s->xs))) {
		if (!strcmp(vec[XS_WATCH_TOKEN], TOKEN_RELEASE))
			devices_check_dead_guests(s);
		else
			devices_on_watch(s, vec[XS_WATCH_PATH]);
		free(vec);
	}
}

static void reap_workers(struct supervisor *s)
{
	struct sguest *g;
	int status;
	pid_t pid;

	while ((g = guest_reap(s, &pid, &status)))
		devices_on_worker_exit(g, status);
}

static void begin_stop(struct supervisor *s, unsigned int signo)
{
	if (s->stopping)
		return;
	log_info("signal %u: shutting down", signo);
	s->stopping = true;
	s->stop_deadline = now_ms() + STOP_DEADLINE_MS;
	devices_stop_all(s);
}

static void on_signal(struct supervisor *s)
{
	struct signalfd_siginfo si;

	while (read(s->signal_fd, &si, sizeof(si)) == sizeof(si)) {
		switch (si.ssi_signo) {
		case SIGHUP:
			if (s->reload)
				s->reload(s, s->reload_opaque);
			if (!s->stopping)
				devices_retry(s, true);
			break;
		case SIGCHLD:
			reap_workers(s);
			break;
		default:
			begin_stop(s, si.ssi_signo);
			break;
		}
	}
}

static void on_timer(struct supervisor *s, unsigned int *ticks)
{
	uint64_t expirations;

	if (read(s->timer_fd, &expirations, sizeof(expirations)) <= 0)
		return;
	guests_enforce_deadlines(s);
	if (s->stopping)
		return;
	if (++*ticks % DEAD_GUEST_CHECK_TICKS == 0)
		devices_check_dead_guests(s);
	devices_retry(s, false);
}

static void on_worker(struct sguest *g)
{
	struct wmsg m;
	int ret = 0;

	if (g->dead)
		return;
	for (int i = 0; i < MESSAGES_PER_TURN && g->sock >= 0; i++) {
		ret = wmsg_recv(g->sock, &m);
		if (ret <= 0)
			break;
		devices_on_message(g, &m);
	}
	/* EOF: the worker is going; SIGCHLD says when it is gone. */
	if (ret < 0 && g->sock >= 0) {
		epoll_ctl(g->s->epoll_fd, EPOLL_CTL_DEL, g->sock, NULL);
		close(g->sock);
		g->sock = -1;
	}
}

static bool workers_left(struct supervisor *s)
{
	for (struct sguest *g = s->guests; g; g = g->next)
		if (g->pid)
			return true;
	return false;
}

int supervisor_run(struct supervisor *s)
{
	struct epoll_event events[MAX_EVENTS];
	unsigned int ticks = 0;

	s->src_xs.type = SRC_XS;
	s->src_signal.type = SRC_SIGNAL;
	s->src_timer.type = SRC_TIMER;
	s->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
	if (s->epoll_fd < 0 || setup_signals(s) || setup_timer(s) ||
	    add_fd(s, xs_fileno(s->xs), &s->src_xs) ||
	    add_fd(s, s->signal_fd, &s->src_signal) ||
	    add_fd(s, s->timer_fd, &s->src_timer)) {
		log_err("cannot set up the event loop: %m");
		return -1;
	}
	/*
	 * Watch before scanning: a device written between the two is then
	 * seen by the watch (and evaluating a device twice is harmless).
	 */
	if (!xs_watch(s->xs, s->root, TOKEN_DEVICES) ||
	    !xs_watch(s->xs, "@releaseDomain", TOKEN_RELEASE)) {
		log_err("cannot watch %s: %m", s->root);
		return -1;
	}
	devices_scan(s);
	log_info("watching %s", s->root);

	while (!s->stopping || (workers_left(s) && now_ms() < s->stop_deadline)) {
		int n = epoll_wait(s->epoll_fd, events, MAX_EVENTS, 1000);

		if (n < 0 && errno != EINTR) {
			log_err("epoll_wait: %m");
			break;
		}
		for (int i = 0; i < n; i++) {
			struct loop_src *src = events[i].data.ptr;

			switch (src->type) {
			case SRC_XS:
				on_xenstore(s);
				break;
			case SRC_SIGNAL:
				on_signal(s);
				break;
			case SRC_TIMER:
				on_timer(s, &ticks);
				break;
			case SRC_WORKER:
				on_worker(src->guest);
				break;
			}
		}
		guests_reap_zombies(s);
	}
	/* Workers past the deadline go now; their servers stay. */
	for (struct sguest *g = s->guests; g; g = g->next)
		if (g->pid)
			kill(g->pid, SIGKILL);
	while (workers_left(s)) {
		usleep(10000);
		reap_workers(s);
	}
	while (s->guests)
		devices_on_worker_exit(s->guests, 0);
	guests_reap_zombies(s);
	return s->stopping ? 0 : -1;
}
