// SPDX-License-Identifier: MIT
#include <stdio.h>
#include <string.h>

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
