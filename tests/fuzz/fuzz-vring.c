// SPDX-License-Identifier: MIT
/*
 * Fuzzes ring and descriptor contents: a simulated guest (test RAM +
 * driver) brings the echo device up, the input is written over the
 * descriptor table, the available ring, an indirect table and data, and
 * the device is kicked. Any crash, sanitizer report, hang or leaked
 * mapping is a finding.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "sim-driver.h"
#include "sim-echo.h"
#include "virtio-mmio.h"

#define GUEST_BASE	0x40000000ULL
#define QSIZE		16

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static size_t fill(struct sim_guest *g, uint64_t off, const uint8_t **data,
		   size_t *size, size_t want)
{
	size_t n = *size < want ? *size : want;

	memcpy(g->ram + off, *data, n);
	*data += n;
	*size -= n;
	return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sim_guest *g;
	struct sim_echo *e;
	struct virtio_mmio *vm;
	struct sim_driver d;
	uint64_t features;

	if (size < 2)
		return 0;
	vr_log_set_level(VR_LOG_ERR);
	g = sim_guest_new(GUEST_BASE, SIM_DATA_OFF + 8192);
	e = sim_echo_new(NULL);
	vm = virtio_mmio_new(sim_echo_dev(e), &g->host);
	sim_driver_init_mmio(&d, g, vm);
	features = ~0ULL;
	if (data[0] & 1)
		features &= ~SIM_F_INDIRECT;
	if (data[0] & 2)
		features &= ~SIM_F_EVENT_IDX;
	if (sim_driver_probe(&d, features, QSIZE))
		abort();
	data++;
	size--;

	fill(g, SIM_DESC_OFF, &data, &size, QSIZE * 16);
	fill(g, SIM_AVAIL_OFF, &data, &size, 2 * (QSIZE + 3));
	fill(g, SIM_INDIRECT_OFF, &data, &size, 1024);
	fill(g, SIM_DATA_OFF, &data, &size, 4096);
	sim_wr32(&d, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	sim_wr32(&d, VIRTIO_MMIO_QUEUE_NOTIFY, 0);

	virtio_mmio_free(vm);
	virtio_dev_destroy(sim_echo_dev(e));
	if (g->live_maps)
		abort();
	sim_guest_free(g);
	return 0;
}
