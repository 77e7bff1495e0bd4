// SPDX-License-Identifier: MIT
/*
 * Fuzzes the virtio-mmio register file: the input is a sequence of guest
 * register accesses (8 bytes each: op/size, offset, value) against the
 * echo test device with simulated guest RAM. Any crash, sanitizer report
 * or leaked mapping is a finding.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "sim-echo.h"
#include "virtio-mmio.h"
#include "sim-guest.h"

#define GUEST_BASE	0x40000000ULL
#define RAM_SIZE	(64 * 1024)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const unsigned int sizes[] = { 1, 2, 4, 8 };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sim_guest *g = sim_guest_new(GUEST_BASE, RAM_SIZE);
	struct sim_echo *e = sim_echo_new(NULL);
	struct virtio_mmio *vm = virtio_mmio_new(sim_echo_dev(e), &g->host);

	vr_log_set_level(VR_LOG_ERR);
	/* Offsets are 0..0x1ff; values near the guest RAM base are likely. */
	for (size_t i = 0; i + 8 <= size; i += 8) {
		const uint8_t *op = data + i;
		unsigned int access_size = sizes[op[0] & 3];
		uint64_t offset = (op[1] | (op[2] << 8)) & 0x1ff;
		uint32_t value;

		memcpy(&value, op + 4, 4);
		if (op[0] & 4)
			value = (uint32_t)GUEST_BASE + (value & 0xffff);
		if (op[0] & 0x80)
			virtio_mmio_read(vm, offset, access_size);
		else
			virtio_mmio_write(vm, offset, access_size, value);
		/* Guest RAM changes between accesses, as a real guest's would. */
		if (op[3] & 0x80)
			memset(g->ram + (op[3] & 0x7f) * 256, op[5], 256);
	}
	virtio_mmio_free(vm);
	virtio_dev_destroy(sim_echo_dev(e));
	if (g->live_maps)
		abort();
	sim_guest_free(g);
	return 0;
}
