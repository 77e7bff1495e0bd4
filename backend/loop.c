// SPDX-License-Identifier: MIT
/*
 * The single event loop: xenstore watches, each guest's event channel
 * handle, signals (signalfd) and a slow timer. Requests are handled to
 * completion in the loop, fsync included: a vCPU waits for its MMIO access
 * anyway, and one thread keeps every device's state free of locking.
 *
 * Events are level-triggered, so a fd with more work (several pending
 * ports, several watches) comes back on the next epoll_wait rather than
 * being drained here at the expense of the others.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "daemon.h"
#include "log.h"

#define TOKEN_DEVICES	"devices"
#define TOKEN_RELEASE	"release"
/*
 * @releaseDomain is the real trigger for noticing dead guests; the timer
 * only backs it up (a missed watch, a domain that was dying when we
 * checked). It also paces the retries of failed devices.
 */
#define DEAD_GUEST_CHECK_SECONDS 5
#define MAX_EVENTS	16

static int add_fd(struct daemon *d, int fd, struct loop_src *src)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = src };

	return epoll_ctl(d->epoll_fd, EPOLL_CTL_ADD, fd, &ev);
}

int loop_add_guest(struct daemon *d, struct guest *g)
{
	return add_fd(d, xenevtchn_fd(g->xce), &g->src);
}

void loop_del_guest(struct daemon *d, struct guest *g)
{
	epoll_ctl(d->epoll_fd, EPOLL_CTL_DEL, xenevtchn_fd(g->xce), NULL);
}

static int setup_signals(struct daemon *d)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	if (sigprocmask(SIG_BLOCK, &set, NULL))
		return -1;
	/* A guest must not be able to stop us by a broken pipe either. */
	signal(SIGPIPE, SIG_IGN);
	d->signal_fd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	return d->signal_fd < 0 ? -1 : 0;
}

static int setup_timer(struct daemon *d)
{
	struct itimerspec its = {
		.it_interval = { .tv_sec = DEAD_GUEST_CHECK_SECONDS },
		.it_value = { .tv_sec = DEAD_GUEST_CHECK_SECONDS },
	};

	d->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (d->timer_fd < 0)
		return -1;
	return timerfd_settime(d->timer_fd, 0, &its, NULL);
}

static void on_xenstore(struct daemon *d)
{
	char **vec;

	/* xs_check_watch() does not block: it drains what has arrived. */
	while ((vec = xs_check_watch(d->xs))) {
		if (!strcmp(vec[XS_WATCH_TOKEN], TOKEN_RELEASE))
			devices_check_dead_guests(d);
		else
			devices_on_watch(d, vec[XS_WATCH_PATH]);
		free(vec);
	}
}

static void on_signal(struct daemon *d)
{
	struct signalfd_siginfo si;

	while (read(d->signal_fd, &si, sizeof(si)) == sizeof(si)) {
		if (si.ssi_signo == SIGHUP) {
			daemon_reload(d);
			devices_retry_failed(d, true);
		} else {
			log_info("signal %u: shutting down", si.ssi_signo);
			d->stopping = true;
		}
	}
}

static void on_timer(struct daemon *d)
{
	uint64_t ticks;

	if (read(d->timer_fd, &ticks, sizeof(ticks)) > 0) {
		devices_check_dead_guests(d);
		devices_retry_failed(d, false);
	}
}

static void dispatch(struct daemon *d, struct loop_src *src)
{
	switch (src->type) {
	case SRC_XS:
		on_xenstore(d);
		break;
	case SRC_SIGNAL:
		on_signal(d);
		break;
	case SRC_TIMER:
		on_timer(d);
		break;
	case SRC_GUEST:
		/* Skips a guest torn down earlier in this batch. */
		guest_on_event(src->guest);
		break;
	}
}

int daemon_run(struct daemon *d)
{
	struct epoll_event events[MAX_EVENTS];

	d->src_xs.type = SRC_XS;
	d->src_signal.type = SRC_SIGNAL;
	d->src_timer.type = SRC_TIMER;
	d->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
	if (d->epoll_fd < 0 || setup_signals(d) || setup_timer(d) ||
	    add_fd(d, xs_fileno(d->xs), &d->src_xs) ||
	    add_fd(d, d->signal_fd, &d->src_signal) ||
	    add_fd(d, d->timer_fd, &d->src_timer)) {
		log_err("cannot set up the event loop: %m");
		return -1;
	}
	/*
	 * Watch before scanning: a device written between the two is then
	 * seen by the watch (and evaluating a device twice is harmless).
	 */
	if (!xs_watch(d->xs, d->root, TOKEN_DEVICES) ||
	    !xs_watch(d->xs, "@releaseDomain", TOKEN_RELEASE)) {
		log_err("cannot watch %s: %m", d->root);
		return -1;
	}
	devices_scan(d);
	guests_reap(d);
	log_info("watching %s", d->root);

	while (!d->stopping) {
		int n = epoll_wait(d->epoll_fd, events, MAX_EVENTS, -1);

		if (n < 0 && errno != EINTR) {
			log_err("epoll_wait: %m");
			break;
		}
		for (int i = 0; i < n; i++)
			dispatch(d, events[i].data.ptr);
		guests_reap(d);
	}
	devices_teardown_all(d);
	guests_reap(d);
	return d->stopping ? 0 : -1;
}
