// SPDX-License-Identifier: MIT
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rpmb-test-util.h"

char *rt_tempdir(void)
{
	const char *base = getenv("TMPDIR");
	char *dir;

	if (asprintf(&dir, "%s/rpmb-test-XXXXXX", base ? base : "/tmp") < 0)
		abort();
	if (!mkdtemp(dir))
		abort();
	return dir;
}

static int rm_entry(const char *path, const struct stat *sb, int flag,
		    struct FTW *ftw)
{
	return remove(path);
}

void rt_rmdir(char *dir)
{
	nftw(dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
	free(dir);
}

struct rpmb_store *rt_store(const char *dir, const char *name,
			    unsigned int capacity, unsigned int max_wr,
			    unsigned int max_rd)
{
	struct rpmb_store_params p = {
		.capacity = capacity, .max_wr_cnt = max_wr, .max_rd_cnt = max_rd,
	};
	struct rpmb_store *st;
	char path[512], err[256];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (rpmb_store_open(path, RPMB_STORE_CREATE_NEW, &p, &st, err, sizeof(err))) {
		fprintf(stderr, "rt_store: %s\n", err);
		abort();
	}
	return st;
}
