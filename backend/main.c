// SPDX-License-Identifier: MIT
/*
 * xen-rpmb-backend: serves virtio devices (virtio-rpmb) to Xen guests.
 * This file is the process around the supervisor: command line and
 * configuration (reloaded on SIGHUP), logging, the single-instance lock
 * and pidfile, and the Xen handles the supervisor keeps.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "device-types.h"
#include "log.h"
#include "parse.h"
#include "supervisor.h"

struct options {
	const char *config_path;
	bool config_given;
	bool foreground;
	struct config overrides;	/* set only where the flag was given */
	bool set_store_dir, set_pidfile, set_level, set_log, set_lock;
};

/* Everything the process keeps besides the supervisor's own state. */
struct daemon {
	const struct options *opts;
	struct supervisor sup;
	int log_fd;			/* log file, or -1 */
	pid_t pid;			/* for log lines */
};

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: xen-rpmb-backend [OPTION]...\n"
		"Serve virtio-rpmb devices (virtio,device1c) to Xen guests.\n\n"
		"  -c, --config FILE     config file (default %s)\n"
		"  -s, --store-dir DIR   where per-guest RPMB stores live (default %s)\n"
		"  -f, --foreground      do not daemonise\n"
		"  -p, --pidfile FILE    write the process id to FILE\n"
		"  -l, --log-level LVL   err, warn, info or debug\n"
		"      --syslog          log to syslog (default when daemonised)\n"
		"      --stderr          log to stderr\n"
		"      --log-file FILE   log to FILE (reopened on SIGHUP)\n"
		"      --lock-file FILE  single-instance lock (default %s)\n"
		"  -h, --help            show this help and exit\n"
		"  -V, --version         show the version and exit\n\n"
		"Signals: SIGTERM/SIGINT stop cleanly, SIGHUP re-reads the config\n"
		"and reopens the log. See xen-rpmb-backend(8).\n",
		CONFIG_DEFAULT_PATH, CONFIG_DEFAULT_STORE_DIR,
		CONFIG_DEFAULT_LOCK_FILE);
}

static int parse_options(int argc, char **argv, struct options *o)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "store-dir", required_argument, NULL, 's' },
		{ "foreground", no_argument, NULL, 'f' },
		{ "pidfile", required_argument, NULL, 'p' },
		{ "log-level", required_argument, NULL, 'l' },
		{ "syslog", no_argument, NULL, 'S' },
		{ "stderr", no_argument, NULL, 'E' },
		{ "log-file", required_argument, NULL, 'L' },
		{ "lock-file", required_argument, NULL, 'K' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ 0 }
	};
	char err[256];
	int c;

	o->config_path = CONFIG_DEFAULT_PATH;
	config_defaults(&o->overrides);
	while ((c = getopt_long(argc, argv, "c:s:fp:l:hV", longopts, NULL)) != -1) {
		int ret = 0;

		switch (c) {
		case 'c':
			o->config_path = optarg;
			o->config_given = true;
			break;
		case 's':
			ret = config_set(&o->overrides, "store-dir", optarg, err, sizeof(err));
			o->set_store_dir = true;
			break;
		case 'f':
			o->foreground = true;
			break;
		case 'p':
			ret = config_set(&o->overrides, "pidfile", optarg, err, sizeof(err));
			o->set_pidfile = true;
			break;
		case 'l':
			ret = config_set(&o->overrides, "log-level", optarg, err, sizeof(err));
			o->set_level = true;
			break;
		case 'S':
		case 'E':
			ret = config_set(&o->overrides, "log",
					 c == 'S' ? "syslog" : "stderr", err,
					 sizeof(err));
			o->set_log = true;
			break;
		case 'L':
			ret = config_set(&o->overrides, "log", optarg, err, sizeof(err));
			o->set_log = true;
			break;
		case 'K':
			ret = config_set(&o->overrides, "lock-file", optarg, err,
					 sizeof(err));
			o->set_lock = true;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		case 'V':
			printf("xen-rpmb-backend %s\n", XEN_RPMB_VERSION);
			exit(0);
		default:
			usage(stderr);
			return -1;
		}
		if (ret) {
			fprintf(stderr, "xen-rpmb-backend: %s\n", err);
			return -1;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "xen-rpmb-backend: unexpected argument '%s'\n",
			argv[optind]);
		return -1;
	}
	return 0;
}

/* Defaults, then the file, then the command line. */
static int load_config(struct config *cfg, const struct options *cmdline)
{
	char err[512];

	config_defaults(cfg);
	if (config_load(cfg, cmdline->config_path, !cmdline->config_given, err,
			sizeof(err))) {
		log_err("%s", err);
		return -1;
	}
	if (cmdline->set_store_dir)
		strcpy(cfg->store_dir, cmdline->overrides.store_dir);
	if (cmdline->set_pidfile)
		strcpy(cfg->pidfile, cmdline->overrides.pidfile);
	if (cmdline->set_level)
		cfg->log_level = cmdline->overrides.log_level;
	if (cmdline->set_lock)
		strcpy(cfg->lock_file, cmdline->overrides.lock_file);
	if (cmdline->set_log) {
		cfg->syslog = cmdline->overrides.syslog;
		strcpy(cfg->log_file, cmdline->overrides.log_file);
	} else if (!cmdline->foreground && !cfg->log_file[0]) {
		/* A daemon has no stderr worth writing to. */
		cfg->syslog = true;
	}
	return 0;
}

static void syslog_sink(enum vr_log_level level, const char *msg, void *opaque)
{
	static const int prio[] = {
		[VR_LOG_ERR] = LOG_ERR, [VR_LOG_WARN] = LOG_WARNING,
		[VR_LOG_INFO] = LOG_INFO, [VR_LOG_DEBUG] = LOG_DEBUG,
	};

	syslog(prio[level], "%s", msg);
}

static void file_sink(enum vr_log_level level, const char *msg, void *opaque)
{
	struct daemon *d = opaque;
	static const char *const names[] = {
		[VR_LOG_ERR] = "error", [VR_LOG_WARN] = "warning",
		[VR_LOG_INFO] = "info", [VR_LOG_DEBUG] = "debug",
	};
	char stamp[32] = "";
	struct timespec ts;
	struct tm tm;

	clock_gettime(CLOCK_REALTIME, &ts);
	if (localtime_r(&ts.tv_sec, &tm))
		strftime(stamp, sizeof(stamp), "%Y-%m-%d %H:%M:%S", &tm);
	/* One write per line (O_APPEND): lines never interleave. */
	dprintf(d->log_fd, "%s.%03ld [%ld] %s: %s\n", stamp,
		ts.tv_nsec / 1000000, (long)d->pid, names[level], msg);
}

/* SIGHUP reopens the file, so logrotate can move it away. */
static int open_log_file(struct daemon *d, const char *path)
{
	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);

	if (fd < 0)
		return -1;
	if (d->log_fd >= 0)
		close(d->log_fd);
	d->log_fd = fd;
	return 0;
}

static void apply_logging(struct daemon *d, const struct config *cfg)
{
	vr_log_set_level(cfg->log_level);
	if (cfg->log_file[0]) {
		closelog();
		if (open_log_file(d, cfg->log_file)) {
			vr_log_set_sink(NULL, NULL);
			log_err("cannot open log file %s: %m; logging to stderr",
				cfg->log_file);
			return;
		}
		vr_log_set_sink(file_sink, d);
	} else if (cfg->syslog) {
		closelog();
		openlog("xen-rpmb-backend", LOG_PID, LOG_DAEMON);
		vr_log_set_sink(syslog_sink, NULL);
	} else {
		vr_log_set_sink(NULL, NULL);
	}
}

static void reload(struct supervisor *s, void *opaque)
{
	struct daemon *d = opaque;
	struct config cfg;

	if (load_config(&cfg, d->opts)) {
		apply_logging(d, &s->cfg);	/* still reopen the log */
		log_err("SIGHUP: keeping the old configuration");
		return;
	}
	/*
	 * Fixed for the life of the process: it holds one, wrote the other,
	 * and its workers run as the third.
	 */
	if (strcmp(cfg.lock_file, s->cfg.lock_file) ||
	    strcmp(cfg.pidfile, s->cfg.pidfile) ||
	    strcmp(cfg.worker_user, s->cfg.worker_user))
		log_warn("SIGHUP: lock-file, pidfile and worker-user changes need a restart");
	strcpy(cfg.lock_file, s->cfg.lock_file);
	strcpy(cfg.pidfile, s->cfg.pidfile);
	strcpy(cfg.worker_user, s->cfg.worker_user);
	s->cfg = cfg;
	apply_logging(d, &s->cfg);
	if (mkdir(s->cfg.store_dir, 0700) && errno != EEXIST)
		log_err("cannot create %s: %m", s->cfg.store_dir);
	log_info("configuration reloaded; it applies to new devices");
}

/*
 * Two daemons in one domain would both serve the same device nodes, and
 * the second would take the first's ioreq servers for stale ones. The
 * lock lives as long as the process (the kernel drops it on any exit).
 */
static int take_lock(const char *path)
{
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);

	if (fd < 0) {
		log_err("cannot open lock file %s: %m", path);
		return -1;
	}
	if (flock(fd, LOCK_EX | LOCK_NB)) {
		if (errno == EWOULDBLOCK)
			log_err("another xen-rpmb-backend is running (%s is locked)",
				path);
		else
			log_err("cannot lock %s: %m", path);
		close(fd);
		return -1;
	}
	return fd;	/* kept open, never closed */
}

static int write_pidfile(const char *path)
{
	char buf[32];
	int fd, n;

	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -1;
	n = snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());
	if (write(fd, buf, (size_t)n) != n) {
		close(fd);
		return -1;
	}
	return close(fd);
}

static int open_xen(struct supervisor *s)
{
	unsigned int len;
	char *domid;
	uint64_t id;

	s->xs = xs_open(0);
	if (!s->xs) {
		log_err("cannot connect to xenstore: %m");
		return -1;
	}
	/* Relative path: our own /local/domain/<self>/domid, also in a domU. */
	domid = xs_read(s->xs, XBT_NULL, "domid", &len);
	if (!domid || parse_u64(domid, 0x7fef, &id)) {
		log_err("cannot read this domain's id from xenstore ('domid'): %s",
			domid ? "malformed" : strerror(errno));
		free(domid);
		return -1;
	}
	free(domid);
	s->self_domid = (unsigned int)id;
	snprintf(s->root, sizeof(s->root), "/local/domain/%u/backend/virtio",
		 s->self_domid);
	s->xdm = xendevicemodel_open(NULL, 0);
	if (!s->xdm) {
		log_err("cannot open the Xen device-model interface: %m");
		return -1;
	}
	log_info("domain %u, %s", s->self_domid,
		 s->self_domid ? "driver domain" : "dom0");
	return 0;
}

static void close_xen(struct supervisor *s)
{
	if (s->xdm)
		xendevicemodel_close(s->xdm);
	if (s->xs)
		xs_close(s->xs);
}

/*
 * Workers run as an unprivileged user, confined to their guest's
 * directory; a daemon not started as root (a test) cannot confine them.
 */
static int prepare_workers(struct supervisor *s)
{
	char err[256];

	if (geteuid()) {
		log_warn("not running as root: guests' workers run unconfined");
		return 0;
	}
	if (sandbox_user(s->cfg.worker_user, &s->worker_id, err, sizeof(err))) {
		log_err("%s", err);
		return -1;
	}
	s->sandbox = true;
	return 0;
}

int main(int argc, char **argv)
{
	static struct options opts;
	static struct daemon d = { .log_fd = -1 };
	struct supervisor *s = &d.sup;
	int ret = 1;

	if (parse_options(argc, argv, &opts))
		return 2;
	d.opts = &opts;
	if (load_config(&s->cfg, &opts))
		return 1;
	if (!opts.foreground && daemon(0, 0)) {
		perror("xen-rpmb-backend: daemon");
		return 1;
	}
	d.pid = getpid();
	apply_logging(&d, &s->cfg);
	if (take_lock(s->cfg.lock_file) < 0)
		return 1;
	if (mkdir(s->cfg.store_dir, 0700) && errno != EEXIST) {
		log_err("cannot create %s: %m", s->cfg.store_dir);
		return 1;
	}
	if (s->cfg.pidfile[0] && write_pidfile(s->cfg.pidfile)) {
		log_err("cannot write %s: %m", s->cfg.pidfile);
		return 1;
	}
	log_info("xen-rpmb-backend %s starting, state in %s", XEN_RPMB_VERSION,
		 s->cfg.store_dir);
	s->types = device_types;
	s->reload = reload;
	s->reload_opaque = &d;
	if (!prepare_workers(s) && !open_xen(s) && !supervisor_run(s))
		ret = 0;
	close_xen(s);
	if (s->cfg.pidfile[0])
		unlink(s->cfg.pidfile);
	log_info("stopped");
	return ret;
}
