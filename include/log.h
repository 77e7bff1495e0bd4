/* SPDX-License-Identifier: MIT */
/*
 * Process-wide logging. Shared code logs through here so the daemon can
 * send everything to syslog or stderr and tests can keep quiet.
 */
#ifndef VR_LOG_H
#define VR_LOG_H

#include <stdarg.h>
#include <stdbool.h>

enum vr_log_level {
	VR_LOG_ERR,
	VR_LOG_WARN,
	VR_LOG_INFO,
	VR_LOG_DEBUG,
};

typedef void (*vr_log_sink_fn)(enum vr_log_level level, const char *msg,
			       void *opaque);

void vr_log_set_level(enum vr_log_level level);
enum vr_log_level vr_log_get_level(void);
bool vr_log_enabled(enum vr_log_level level);

/* NULL restores the default sink (stderr). */
void vr_log_set_sink(vr_log_sink_fn sink, void *opaque);

/* Parses "err", "warn", "info", "debug"; returns -1 if unknown. */
int vr_log_level_parse(const char *name);

void vr_log(enum vr_log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void vr_vlog(enum vr_log_level level, const char *fmt, va_list ap);

#define log_err(...)	vr_log(VR_LOG_ERR, __VA_ARGS__)
#define log_warn(...)	vr_log(VR_LOG_WARN, __VA_ARGS__)
#define log_info(...)	vr_log(VR_LOG_INFO, __VA_ARGS__)
#define log_debug(...)						\
	do {							\
		if (vr_log_enabled(VR_LOG_DEBUG))		\
			vr_log(VR_LOG_DEBUG, __VA_ARGS__);	\
	} while (0)

/*
 * Guest-triggered complaints go through here: a misbehaving guest must not
 * be able to flood the log, so each call site is limited.
 */
#define log_guest(...)						\
	do {							\
		static unsigned int __vr_log_count;		\
		if (__vr_log_count < 32) {			\
			__vr_log_count++;			\
			vr_log(VR_LOG_WARN, __VA_ARGS__);	\
		}						\
	} while (0)

#endif /* VR_LOG_H */
