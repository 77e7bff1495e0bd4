// SPDX-License-Identifier: MIT
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "log.h"

static enum vr_log_level log_level = VR_LOG_INFO;
static vr_log_sink_fn log_sink;
static void *log_sink_opaque;

static const char *const level_names[] = {
	[VR_LOG_ERR] = "err",
	[VR_LOG_WARN] = "warn",
	[VR_LOG_INFO] = "info",
	[VR_LOG_DEBUG] = "debug",
};

void vr_log_set_level(enum vr_log_level level)
{
	log_level = level;
}

enum vr_log_level vr_log_get_level(void)
{
	return log_level;
}

bool vr_log_enabled(enum vr_log_level level)
{
	return level <= log_level;
}

void vr_log_set_sink(vr_log_sink_fn sink, void *opaque)
{
	log_sink = sink;
	log_sink_opaque = opaque;
}

int vr_log_level_parse(const char *name)
{
	for (size_t i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++)
		if (!strcmp(name, level_names[i]))
			return (int)i;
	if (!strcmp(name, "error"))
		return VR_LOG_ERR;
	if (!strcmp(name, "warning"))
		return VR_LOG_WARN;
	return -1;
}

void vr_vlog(enum vr_log_level level, const char *fmt, va_list ap)
{
	char msg[512];

	if (!vr_log_enabled(level))
		return;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (log_sink)
		log_sink(level, msg, log_sink_opaque);
	else
		fprintf(stderr, "%s: %s\n", level_names[level], msg);
}

void vr_log(enum vr_log_level level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vr_vlog(level, fmt, ap);
	va_end(ap);
}

static uint64_t monotonic_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static uint64_t (*guest_log_clock)(void) = monotonic_ms;

void guest_log_set_clock(uint64_t (*now_ms)(void))
{
	guest_log_clock = now_ms ? now_ms : monotonic_ms;
}

void guest_log_init_limits(struct guest_log *gl, const char *who,
			   unsigned int burst, unsigned int refill_ms)
{
	memset(gl, 0, sizeof(*gl));
	snprintf(gl->who, sizeof(gl->who), "%s", who);
	pthread_mutex_init(&gl->lock, NULL);
	gl->burst = burst;
	gl->refill_ms = refill_ms;
	gl->tokens = burst;
	gl->refilled_ms = guest_log_clock();
}

void guest_log_init(struct guest_log *gl, const char *who)
{
	guest_log_init_limits(gl, who, GUEST_LOG_BURST, GUEST_LOG_REFILL_MS);
}

void guest_log_fini(struct guest_log *gl)
{
	if (gl->total_dropped)
		vr_log(VR_LOG_WARN, "%s: %lu guest-caused log lines dropped in all",
		       gl->who, gl->total_dropped);
	pthread_mutex_destroy(&gl->lock);
}

static void guest_vlog(struct guest_log *gl, enum vr_log_level level,
		       const char *fmt, va_list ap)
{
	uint64_t now = guest_log_clock();
	unsigned long dropped = 0;
	char msg[400];

	pthread_mutex_lock(&gl->lock);
	if (now - gl->refilled_ms >= gl->refill_ms) {
		uint64_t n = (now - gl->refilled_ms) / gl->refill_ms;

		gl->tokens = n + gl->tokens > gl->burst ?
			     gl->burst : (unsigned int)(n + gl->tokens);
		gl->refilled_ms += n * gl->refill_ms;
	}
	if (!gl->tokens) {
		gl->dropped++;
		gl->total_dropped++;
		pthread_mutex_unlock(&gl->lock);
		return;
	}
	gl->tokens--;
	dropped = gl->dropped;
	gl->dropped = 0;
	pthread_mutex_unlock(&gl->lock);
	if (!vr_log_enabled(level))
		return;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (dropped)
		vr_log(level, "%s: %s (%lu lines dropped before this)", gl->who,
		       msg, dropped);
	else
		vr_log(level, "%s: %s", gl->who, msg);
}

void guest_log(struct guest_log *gl, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	guest_vlog(gl, VR_LOG_WARN, fmt, ap);
	va_end(ap);
}

void guest_log_at(struct guest_log *gl, enum vr_log_level level,
		  const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	guest_vlog(gl, level, fmt, ap);
	va_end(ap);
}
