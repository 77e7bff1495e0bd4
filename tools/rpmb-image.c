// SPDX-License-Identifier: MIT
/*
 * rpmb-image: create and inspect RPMB stores, and run one request
 * against a store exactly as the device would answer it.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "parse.h"
#include "rpmb-store.h"
#include "rpmb.h"

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: rpmb-image COMMAND [OPTION]... PATH\n"
		"\n"
		"  create --capacity SIZE [--max-wr-cnt N] [--max-rd-cnt N] PATH\n"
		"        new store (mode 0600); SIZE is 128K..16M in 128K steps\n"
		"        (K = KiB, M = MiB) or a bare count of 128 KiB units,\n"
		"        1..128; N is 1..255 (default %d)\n"
		"  program-key --key-file FILE PATH\n"
		"        program the store's authentication key offline, as a\n"
		"        factory programs an eMMC; FILE holds the 32-byte key raw\n"
		"        or as 64 hex digits; a second key is refused\n"
		"  info PATH\n"
		"        capacity, limits, whether a key is programmed, counter\n"
		"  export PATH FILE\n"
		"        write the raw data area (capacity bytes) to FILE\n"
		"  exec [--resp-frames N] PATH\n"
		"        read one request (512-byte frames) on stdin, write the\n"
		"        response frames to stdout as the device would; N is the\n"
		"        room for the response (default: block_count for\n"
		"        DATA_READ, 1 otherwise)\n"
		"\n"
		"Exit status: 0 ok; 1 store missing, locked, corrupt or not an\n"
		"RPMB store (then nothing is changed); 2 usage error.\n",
		RPMB_DEFAULT_MAX_WR_CNT);
}

static int open_existing(const char *path, struct rpmb_store **st)
{
	char err[512];
	int ret = rpmb_store_open(path, RPMB_STORE_OPEN_EXISTING, NULL, st, err,
				  sizeof(err));

	if (ret)
		fprintf(stderr, "rpmb-image: %s\n", err);
	return ret;
}

static int parse_count(const char *s, unsigned int min, unsigned int *out)
{
	uint64_t v;

	if (parse_u64(s, 255, &v) || v < min) {
		fprintf(stderr, "rpmb-image: '%s' is not a block count %u..255\n",
			s, min);
		return -1;
	}
	*out = (unsigned int)v;
	return 0;
}

static int cmd_create(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "capacity", required_argument, NULL, 'c' },
		{ "max-wr-cnt", required_argument, NULL, 'w' },
		{ "max-rd-cnt", required_argument, NULL, 'r' },
		{ 0 }
	};
	struct rpmb_store_params p = { 0 };
	struct rpmb_store *st;
	char err[512];
	int c;

	while ((c = getopt_long(argc, argv, "c:w:r:", opts, NULL)) != -1) {
		if (c == 'c' && parse_capacity(optarg, &p.capacity)) {
			fprintf(stderr, "rpmb-image: '%s' is not a capacity (128K..16M in 128K steps)\n",
				optarg);
			return 2;
		}
		if ((c == 'w' && parse_count(optarg, 1, &p.max_wr_cnt)) ||
		    (c == 'r' && parse_count(optarg, 1, &p.max_rd_cnt)) || c == '?')
			return 2;
	}
	if (!p.capacity || optind + 1 != argc) {
		usage(stderr);
		return 2;
	}
	if (rpmb_store_open(argv[optind], RPMB_STORE_CREATE_NEW, &p, &st, err,
			    sizeof(err))) {
		fprintf(stderr, "rpmb-image: %s\n", err);
		return 1;
	}
	rpmb_store_close(st);
	return 0;
}

/*
 * The key file: 32 raw bytes, or 64 hex digits and an optional newline.
 * Read with one read() into a buffer that is wiped, never echoed.
 */
static int read_key_file(const char *path, uint8_t key[RPMB_KEY_SIZE])
{
	uint8_t buf[2 * RPMB_KEY_SIZE + 2];
	struct stat sb;
	ssize_t n;
	int fd, ret = -1;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "rpmb-image: %s: %s\n", path, strerror(errno));
		return -1;
	}
	if (!fstat(fd, &sb) && (sb.st_mode & 077))
		fprintf(stderr, "rpmb-image: warning: %s is readable by others\n",
			path);
	n = read(fd, buf, sizeof(buf));
	close(fd);
	if (n == RPMB_KEY_SIZE) {
		memcpy(key, buf, RPMB_KEY_SIZE);
		ret = 0;
	} else if (n == 2 * RPMB_KEY_SIZE ||
		   (n == 2 * RPMB_KEY_SIZE + 1 && buf[n - 1] == '\n')) {
		ret = 0;
		for (int i = 0; i < RPMB_KEY_SIZE && !ret; i++) {
			char hex[3] = { (char)buf[2 * i], (char)buf[2 * i + 1], 0 };
			char *end;

			key[i] = (uint8_t)strtoul(hex, &end, 16);
			if (!isxdigit((unsigned char)hex[0]) ||
			    !isxdigit((unsigned char)hex[1]) || *end)
				ret = -1;
		}
	}
	explicit_bzero(buf, sizeof(buf));
	if (ret) {
		explicit_bzero(key, RPMB_KEY_SIZE);
		fprintf(stderr, "rpmb-image: %s: not a key (32 bytes, or 64 hex digits)\n",
			path);
	}
	return ret;
}

static int cmd_program_key(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "key-file", required_argument, NULL, 'k' },
		{ 0 }
	};
	uint8_t key[RPMB_KEY_SIZE];
	const char *key_file = NULL;
	struct rpmb_store *st;
	int c, ret;

	while ((c = getopt_long(argc, argv, "k:", opts, NULL)) != -1) {
		if (c != 'k')
			return 2;
		key_file = optarg;
	}
	if (!key_file || optind + 1 != argc) {
		usage(stderr);
		return 2;
	}
	if (read_key_file(key_file, key))
		return 1;
	if (open_existing(argv[optind], &st)) {
		explicit_bzero(key, sizeof(key));
		return 1;
	}
	ret = rpmb_store_program_key(st, key);
	explicit_bzero(key, sizeof(key));
	if (ret == -EEXIST)
		fprintf(stderr, "rpmb-image: %s: a key is programmed already (it is one-time programmable)\n",
			argv[optind]);
	else if (ret)
		fprintf(stderr, "rpmb-image: %s\n", rpmb_store_last_error(st));
	rpmb_store_close(st);
	return ret ? 1 : 0;
}

static int cmd_info(int argc, char **argv)
{
	struct rpmb_store_info info;
	struct rpmb_store *st;

	if (argc != 2) {
		usage(stderr);
		return 2;
	}
	if (open_existing(argv[1], &st))
		return 1;
	rpmb_store_get_info(st, &info);
	printf("capacity: %u KiB (%u units of 128 KiB, %u blocks)\n",
	       info.capacity * 128, info.capacity,
	       info.capacity * RPMB_BLOCKS_PER_UNIT);
	printf("max-wr-cnt: %u\nmax-rd-cnt: %u\n", info.max_wr_cnt,
	       info.max_rd_cnt);
	printf("key: %s\n", info.key_programmed ? "programmed" : "not programmed");
	printf("write-counter: %u%s\n", info.write_counter,
	       info.write_counter == RPMB_COUNTER_MAX ? " (expired)" : "");
	rpmb_store_close(st);
	return 0;
}

static int cmd_export(int argc, char **argv)
{
	uint8_t buf[255 * RPMB_BLOCK_SIZE];
	struct rpmb_store_info info;
	struct rpmb_store *st;
	unsigned int nblocks, addr, n;
	FILE *out;
	int ret = 0;

	if (argc != 3) {
		usage(stderr);
		return 2;
	}
	if (open_existing(argv[1], &st))
		return 1;
	out = fopen(argv[2], "wbx");
	if (!out) {
		fprintf(stderr, "rpmb-image: %s: %s\n", argv[2], strerror(errno));
		rpmb_store_close(st);
		return 1;
	}
	rpmb_store_get_info(st, &info);
	nblocks = info.capacity * RPMB_BLOCKS_PER_UNIT;
	for (addr = 0; addr < nblocks && !ret; addr += n) {
		n = nblocks - addr < 255 ? nblocks - addr : 255;
		if (rpmb_store_read(st, addr, n, buf) ||
		    fwrite(buf, RPMB_BLOCK_SIZE, n, out) != n)
			ret = 1;
	}
	if (fclose(out) || ret) {
		fprintf(stderr, "rpmb-image: %s: write failed\n", argv[2]);
		unlink(argv[2]);
		ret = 1;
	}
	rpmb_store_close(st);
	return ret;
}

static size_t read_request(struct rpmb_frame *req, size_t max, int *bad)
{
	size_t n = fread(req, 1, max * RPMB_FRAME_SIZE + 1, stdin);

	*bad = !n || n % RPMB_FRAME_SIZE || n > max * RPMB_FRAME_SIZE;
	return n / RPMB_FRAME_SIZE;
}

static int put_stdout(void *opaque, size_t index, const struct rpmb_frame *f)
{
	return fwrite(f, RPMB_FRAME_SIZE, 1, stdout) == 1 ? 0 : -EIO;
}

static int cmd_exec(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "resp-frames", required_argument, NULL, 'n' },
		{ 0 }
	};
	unsigned int resp_frames = 0;
	struct rpmb_sink sink = { .put = put_stdout };
	struct rpmb_frame *req = NULL;
	struct rpmb_store *st;
	struct rpmb_dev *dev;
	size_t nreq, max_req = 0;
	int c, bad, ret = 1;

	while ((c = getopt_long(argc, argv, "n:", opts, NULL)) != -1)
		if (c != 'n' || parse_count(optarg, 1, &resp_frames))
			return 2;
	if (optind + 1 != argc) {
		usage(stderr);
		return 2;
	}
	if (open_existing(argv[optind], &st))
		return 1;
	dev = rpmb_dev_new(st, NULL);
	if (!dev)
		goto out;
	max_req = rpmb_dev_max_req_frames(dev);
	req = calloc(max_req + 1, sizeof(*req));
	if (!req)
		goto out;
	nreq = read_request(req, max_req, &bad);
	if (bad) {
		fprintf(stderr, "rpmb-image: stdin must hold 1..%zu whole 512-byte frames\n",
			max_req);
		goto out;
	}
	if (!resp_frames)
		resp_frames = rpmb_frame_req_resp(req) == RPMB_REQ_DATA_READ &&
			      rpmb_frame_block_count(req) ?
			      rpmb_frame_block_count(req) : 1;
	rpmb_dev_process(dev, req, nreq, resp_frames, &sink);
	if (ferror(stdout) || fflush(stdout)) {
		fprintf(stderr, "rpmb-image: cannot write the response\n");
		goto out;
	}
	ret = 0;
out:
	if (req)
		explicit_bzero(req, (max_req + 1) * sizeof(*req));
	free(req);
	rpmb_dev_free(dev);
	rpmb_store_close(st);
	return ret;
}

/* --help anywhere before a "--" (rpmb-image create --help, too). */
static bool wants_help(int argc, char **argv)
{
	for (int i = 1; i < argc && strcmp(argv[i], "--"); i++)
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help"))
			return true;
	return false;
}

int main(int argc, char **argv)
{
	vr_log_set_level(VR_LOG_WARN);
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (wants_help(argc, argv)) {
		usage(stdout);
		return 0;
	}
	if (!strcmp(argv[1], "create"))
		return cmd_create(argc - 1, argv + 1);
	if (!strcmp(argv[1], "info"))
		return cmd_info(argc - 1, argv + 1);
	if (!strcmp(argv[1], "program-key"))
		return cmd_program_key(argc - 1, argv + 1);
	if (!strcmp(argv[1], "export"))
		return cmd_export(argc - 1, argv + 1);
	if (!strcmp(argv[1], "exec"))
		return cmd_exec(argc - 1, argv + 1);
	fprintf(stderr, "rpmb-image: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return 2;
}
