/* SPDX-License-Identifier: MIT */
/*
 * Process-wide logging. Shared code logs through here so the daemon can
 * send everything to syslog or stderr and tests can keep quiet.
 */
#ifndef VR_LOG_H
#define VR_LOG_H

#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>

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
 * Complaints a guest can cause, one budget per source (a device, or a
 * guest's ioreq stream): a token bucket of GUEST_LOG_BURST lines that
 * refills one line every GUEST_LOG_REFILL_MS. What is over budget is
 * counted, and the next line that gets through says how many were
 * dropped, so one guest can neither grow the log without bound nor
 * silence another guest's warnings (each has its own bucket). Every
 * line starts with @who, which names the guest and the device.
 * Thread-safe.
 */
#define GUEST_LOG_BURST		10
#define GUEST_LOG_REFILL_MS	6000

struct guest_log {
	char who[96];
	pthread_mutex_t lock;
	unsigned int burst;
	unsigned int refill_ms;
	unsigned int tokens;
	uint64_t refilled_ms;
	unsigned long dropped;
	unsigned long total_dropped;
};

void guest_log_init(struct guest_log *gl, const char *who);
/* The same with another budget: @burst lines, one more per @refill_ms. */
void guest_log_init_limits(struct guest_log *gl, const char *who,
			   unsigned int burst, unsigned int refill_ms);
/* Says how many lines were dropped in all, if any. */
void guest_log_fini(struct guest_log *gl);
void guest_log(struct guest_log *gl, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* The same at @level (guest_log is VR_LOG_WARN). */
void guest_log_at(struct guest_log *gl, enum vr_log_level level,
		  const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/*
 * Monotonic milliseconds; tests may replace the clock to age buckets
 * (NULL restores it).
 */
void guest_log_set_clock(uint64_t (*now_ms)(void));

#endif /* VR_LOG_H */
