/* SPDX-License-Identifier: MIT */
/* Strict parsing of numbers and sizes from xenstore and the config file. */
#ifndef BACKEND_PARSE_H
#define BACKEND_PARSE_H

#include <stdint.h>

/* Whole string must be a number (decimal, or 0x hex); no sign, no spaces. */
int parse_u64(const char *s, uint64_t max, uint64_t *out);

/*
 * An RPMB capacity: "128K", "4M", "16M" (multiples of 128 KiB, at most
 * 16 MiB) or a bare count of 128 KiB units (1..128). Gives the units.
 */
int parse_capacity(const char *s, unsigned int *units);

#endif /* BACKEND_PARSE_H */
