// SPDX-License-Identifier: MIT
/*
 * The single event loop: xenstore watches, every guest's ioreq event
 * channels (one xenevtchn handle for all), signals and a slow timer.
 * Requests are handled to completion in the loop, fsync included: a vCPU
 * waits for its MMIO access anyway, and one thread keeps every device's
 * state free of locking.
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
#define DEAD_GUEST_CHECK_SECONDS 5

enum { SRC_XS, SRC_EVTCHN, SRC_SIGNAL, SRC_TIMER };

static int add_fd(struct daemon *d, int fd, int src)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u32 = (uint32_t)src };

	return epoll_ctl(d->epoll_fd, EPOLL_CTL_ADD, fd, &ev);
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

	while ((vec = xs_check_watch(d->xs))) {
		if (!strcmp(vec[XS_WATCH_TOKEN], TOKEN_RELEASE))
			devices_check_dead_guests(d);
		else
			devices_on_watch(d, vec[XS_WATCH_PATH]);
		free(vec);
	}
}

static void on_evtchn(struct daemon *d)
{
	xenevtchn_port_or_error_t port;

	/* The fd reports one pending port per read. */
	port = xenevtchn_pending(d->xce);
	if (port < 0)
		return;
	xenevtchn_unmask(d->xce, (evtchn_port_t)port);
	guest_handle_port(d, (evtchn_port_t)port);
}

static void on_signal(struct daemon *d)
{
	struct signalfd_siginfo si;

	while (read(d->signal_fd, &si, sizeof(si)) == sizeof(si)) {
		if (si.ssi_signo == SIGHUP) {
			daemon_reload(d);
		} else {
			log_info("signal %u: shutting down", si.ssi_signo);
			d->stopping = true;
		}
	}
}

static void on_timer(struct daemon *d)
{
	uint64_t ticks;

	if (read(d->timer_fd, &ticks, sizeof(ticks)) > 0)
		devices_check_dead_guests(d);
}

int daemon_run(struct daemon *d)
{
	struct epoll_event events[16];

	d->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
	if (d->epoll_fd < 0 || setup_signals(d) || setup_timer(d) ||
	    add_fd(d, xs_fileno(d->xs), SRC_XS) ||
	    add_fd(d, xenevtchn_fd(d->xce), SRC_EVTCHN) ||
	    add_fd(d, d->signal_fd, SRC_SIGNAL) ||
	    add_fd(d, d->timer_fd, SRC_TIMER)) {
		log_err("cannot set up the event loop: %m");
		return -1;
	}
	if (!xs_watch(d->xs, d->root, TOKEN_DEVICES) ||
	    !xs_watch(d->xs, "@releaseDomain", TOKEN_RELEASE)) {
		log_err("cannot watch %s: %m", d->root);
		return -1;
	}
	devices_scan(d);
	log_info("watching %s", d->root);

	while (!d->stopping) {
		int n = epoll_wait(d->epoll_fd, events, 16, -1);

		if (n < 0 && errno != EINTR) {
			log_err("epoll_wait: %m");
			break;
		}
		for (int i = 0; i < n; i++) {
			switch (events[i].data.u32) {
			case SRC_XS:
				on_xenstore(d);
				break;
			case SRC_EVTCHN:
				on_evtchn(d);
				break;
			case SRC_SIGNAL:
				on_signal(d);
				break;
			case SRC_TIMER:
				on_timer(d);
				break;
			}
		}
	}
	devices_teardown_all(d);
	return 0;
}
