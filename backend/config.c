// SPDX-License-Identifier: MIT
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "parse.h"

void config_defaults(struct config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	snprintf(cfg->store_dir, sizeof(cfg->store_dir), "%s",
		 CONFIG_DEFAULT_STORE_DIR);
	cfg->capacity = CONFIG_DEFAULT_CAPACITY;
	cfg->store_key = STORE_KEY_NAME;
	cfg->log_level = VR_LOG_INFO;
	snprintf(cfg->lock_file, sizeof(cfg->lock_file), "%s",
		 CONFIG_DEFAULT_LOCK_FILE);
	snprintf(cfg->worker_user, sizeof(cfg->worker_user), "%s",
		 CONFIG_DEFAULT_WORKER_USER);
	cfg->service_threads = CONFIG_DEFAULT_SERVICE_THREADS;
}

static int set_string(char *dst, const char *value, char *err, size_t errlen)
{
	if (!value[0] || strlen(value) >= CONFIG_STR_MAX) {
		snprintf(err, errlen, "value must be 1..%d characters",
			 CONFIG_STR_MAX - 1);
		return -EINVAL;
	}
	strcpy(dst, value);
	return 0;
}

static int set_path(char *dst, const char *value, char *err, size_t errlen)
{
	/* Relative paths would depend on the daemon's cwd, which is "/". */
	if (value[0] != '/') {
		snprintf(err, errlen, "'%s' is not an absolute path", value);
		return -EINVAL;
	}
	return set_string(dst, value, err, errlen);
}

static int set_count(unsigned int *dst, const char *value, char *err,
		     size_t errlen)
{
	uint64_t v;

	if (parse_u64(value, 255, &v) || v < 1) {
		snprintf(err, errlen, "'%s' is not a block count 1..255", value);
		return -EINVAL;
	}
	*dst = (unsigned int)v;
	return 0;
}

static int set_capacity(unsigned int *dst, const char *value, char *err,
			size_t errlen)
{
	if (parse_capacity(value, dst)) {
		snprintf(err, errlen,
			 "'%s' is not a capacity (128K..16M in 128K steps)",
			 value);
		return -EINVAL;
	}
	return 0;
}

static int set_override(struct config *cfg, const char *key,
			const char *value, char *err, size_t errlen)
{
	const char *id = key + strlen("guest.");
	const char *dot = strrchr(id, '.');
	struct guest_override *o = NULL;
	size_t idlen;

	if (!dot || strcmp(dot, ".capacity") || dot == id) {
		snprintf(err, errlen, "unknown key '%s' (guest.<name>.capacity)",
			 key);
		return -EINVAL;
	}
	idlen = (size_t)(dot - id);
	if (idlen >= CONFIG_STR_MAX) {
		snprintf(err, errlen, "guest name too long");
		return -EINVAL;
	}
	for (unsigned int i = 0; i < cfg->noverrides; i++)
		if (strlen(cfg->overrides[i].identity) == idlen &&
		    !strncmp(cfg->overrides[i].identity, id, idlen))
			o = &cfg->overrides[i];
	if (!o) {
		if (cfg->noverrides == CONFIG_MAX_OVERRIDES) {
			snprintf(err, errlen, "more than %d guest overrides",
				 CONFIG_MAX_OVERRIDES);
			return -EINVAL;
		}
		o = &cfg->overrides[cfg->noverrides++];
		memcpy(o->identity, id, idlen);
		o->identity[idlen] = '\0';
	}
	return set_capacity(&o->capacity, value, err, errlen);
}

int config_set(struct config *cfg, const char *key, const char *value,
	       char *err, size_t errlen)
{
	int level;

	if (!strcmp(key, "store-dir"))
		return set_path(cfg->store_dir, value, err, errlen);
	if (!strcmp(key, "pidfile"))
		return set_path(cfg->pidfile, value, err, errlen);
	if (!strcmp(key, "lock-file"))
		return set_path(cfg->lock_file, value, err, errlen);
	if (!strcmp(key, "capacity"))
		return set_capacity(&cfg->capacity, value, err, errlen);
	if (!strcmp(key, "max-wr-cnt"))
		return set_count(&cfg->max_wr_cnt, value, err, errlen);
	if (!strcmp(key, "max-rd-cnt"))
		return set_count(&cfg->max_rd_cnt, value, err, errlen);
	if (!strcmp(key, "worker-user"))
		return set_string(cfg->worker_user, value, err, errlen);
	if (!strcmp(key, "service-threads")) {
		uint64_t v;

		if (parse_u64(value, CONFIG_MAX_SERVICE_THREADS, &v) || !v) {
			snprintf(err, errlen, "'%s' is not a thread count 1..%d",
				 value, CONFIG_MAX_SERVICE_THREADS);
			return -EINVAL;
		}
		cfg->service_threads = (unsigned int)v;
		return 0;
	}
	if (!strncmp(key, "guest.", 6))
		return set_override(cfg, key, value, err, errlen);
	if (!strcmp(key, "store-key")) {
		if (!strcmp(value, "name") || !strcmp(value, "uuid")) {
			cfg->store_key = value[0] == 'n' ? STORE_KEY_NAME :
							   STORE_KEY_UUID;
			return 0;
		}
		snprintf(err, errlen, "store-key must be 'name' or 'uuid'");
		return -EINVAL;
	}
	if (!strcmp(key, "log-level")) {
		level = vr_log_level_parse(value);
		if (level < 0) {
			snprintf(err, errlen,
				 "log-level must be err, warn, info or debug");
			return -EINVAL;
		}
		cfg->log_level = (enum vr_log_level)level;
		return 0;
	}
	if (!strcmp(key, "log")) {
		if (!strcmp(value, "syslog") || !strcmp(value, "stderr")) {
			cfg->syslog = value[0] == 's' && value[1] == 'y';
			cfg->log_file[0] = '\0';
			return 0;
		}
		if (value[0] == '/') {
			cfg->syslog = false;
			return set_path(cfg->log_file, value, err, errlen);
		}
		snprintf(err, errlen,
			 "log must be 'stderr', 'syslog' or an absolute file name");
		return -EINVAL;
	}
	snprintf(err, errlen, "unknown key '%s'", key);
	return -EINVAL;
}

static char *trim(char *s)
{
	char *end;

	while (isspace((unsigned char)*s))
		s++;
	end = s + strlen(s);
	while (end > s && isspace((unsigned char)end[-1]))
		*--end = '\0';
	return s;
}

static int parse_line(struct config *cfg, char *line, char *err, size_t errlen)
{
	char *hash = strchr(line, '#'), *eq, *key, *value;

	if (hash)
		*hash = '\0';
	key = trim(line);
	if (!*key)
		return 0;
	eq = strchr(key, '=');
	if (!eq) {
		snprintf(err, errlen, "expected 'key = value'");
		return -EINVAL;
	}
	*eq = '\0';
	key = trim(key);
	value = trim(eq + 1);
	if (!*key || !*value) {
		snprintf(err, errlen, "expected 'key = value'");
		return -EINVAL;
	}
	return config_set(cfg, key, value, err, errlen);
}

int config_load(struct config *cfg, const char *path, bool optional,
		char *err, size_t errlen)
{
	char line[1024], why[256];
	unsigned int lineno = 0;
	FILE *f = fopen(path, "re");
	int ret = 0;

	if (!f) {
		if (optional && errno == ENOENT)
			return 0;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -errno;
	}
	while (fgets(line, sizeof(line), f)) {
		lineno++;
		if (!strchr(line, '\n') && !feof(f)) {
			snprintf(err, errlen, "%s:%u: line too long", path, lineno);
			ret = -EINVAL;
			break;
		}
		if (parse_line(cfg, line, why, sizeof(why))) {
			snprintf(err, errlen, "%s:%u: %s", path, lineno, why);
			ret = -EINVAL;
			break;
		}
	}
	fclose(f);
	return ret;
}

unsigned int config_capacity_for(const struct config *cfg,
				 const char *identity)
{
	for (unsigned int i = 0; i < cfg->noverrides; i++)
		if (!strcmp(cfg->overrides[i].identity, identity))
			return cfg->overrides[i].capacity;
	return cfg->capacity;
}
