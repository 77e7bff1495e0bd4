#!/usr/bin/env python3
"""Writes the seed corpora for the libFuzzer targets in tests/fuzz/.

Seeds are well-formed inputs that reach deep states quickly: a full
driver bring-up for fuzz-mmio, valid direct and indirect chains for
fuzz-vring. Run from the repository root: tests/fuzz/make-seeds.py
"""
import hashlib
import hmac
import os
import struct

GUEST_BASE = 0x40000000
DATA = GUEST_BASE + 0x10000
INDIRECT = GUEST_BASE + 0x4000
QSIZE = 16


def mmio_op(offset, value=0, read=False, size=4, near_ram=False):
    code = {1: 0, 2: 1, 4: 2, 8: 3}[size]
    if near_ram:
        code |= 4
        value &= 0xffff
    if read:
        code |= 0x80
    return struct.pack("<BHBI", code, offset, 0, value & 0xffffffff)


def mmio_probe_seed():
    ops = [
        mmio_op(0x000, read=True), mmio_op(0x070, 0), mmio_op(0x070, 1),
        mmio_op(0x070, 3), mmio_op(0x014, 1), mmio_op(0x010, read=True),
        mmio_op(0x024, 1), mmio_op(0x020, 1), mmio_op(0x024, 0),
        mmio_op(0x020, 3 << 28), mmio_op(0x070, 0xb), mmio_op(0x070, read=True),
        mmio_op(0x030, 0), mmio_op(0x038, 16),
        mmio_op(0x080, 0x0000, near_ram=True), mmio_op(0x090, 0x1000, near_ram=True),
        mmio_op(0x0a0, 0x2000, near_ram=True), mmio_op(0x044, 1),
        mmio_op(0x070, 0xf), mmio_op(0x050, 0), mmio_op(0x060, read=True),
        mmio_op(0x064, 1), mmio_op(0x100, read=True, size=1),
        mmio_op(0x070, 0),
    ]
    return b"".join(ops)


def desc(addr, length, flags, nxt):
    return struct.pack("<QIHH", addr, length, flags, nxt)


def avail(heads, used_event=0):
    ring = list(heads) + [0] * (QSIZE - len(heads))
    return struct.pack("<HH%dHH" % QSIZE, 0, len(heads), *ring, used_event)


def vring_seed(features, descs, heads, indirect=b"", data=b""):
    table = b"".join(descs).ljust(QSIZE * 16, b"\0")
    return (bytes([features]) + table + avail(heads) +
            indirect.ljust(1024, b"\0") + data)


def vring_seeds():
    direct = vring_seed(0, [desc(DATA, 64, 1, 1), desc(DATA + 512, 64, 2, 0)],
                        [0], data=bytes(range(64)))
    chain3 = vring_seed(0, [desc(DATA, 16, 1, 1), desc(DATA + 16, 16, 1, 2),
                            desc(DATA + 512, 32, 2, 0)], [0, 0])
    ind = vring_seed(0, [desc(INDIRECT, 32, 4, 0)], [0],
                     indirect=desc(DATA, 8, 1, 1) + desc(DATA + 512, 8, 2, 0))
    return {"direct": direct, "three": chain3, "indirect": ind}


KEY = bytes.fromhex(
    "D3EB3EC36E334C9F988CE2C0B85954610D2BCF8664844DF2AB56E6C61BB701E4")


def rpmb_frame(req, addr=0, count=0, counter=0, data=b""):
    f = bytearray(512)
    f[228:228 + len(data)] = data
    struct.pack_into(">IHHHH", f, 500, counter, addr, count, 0, req)
    return f


def rpmb_sign(frames):
    h = hmac.new(KEY, digestmod=hashlib.sha256)
    for f in frames:
        h.update(bytes(f[228:]))
    frames[-1][196:228] = h.digest()
    return frames


def rpmb_seeds():
    """First byte: response room; then frames (the fuzzer's store has KEY)."""
    seqs = {
        "counter": [rpmb_frame(2, count=1)],
        "read4": [rpmb_frame(4, addr=3, count=4)],
        "write2": rpmb_sign([rpmb_frame(3, 8, 2, 0, b"a" * 256),
                             rpmb_frame(3, 8, 2, 0, b"b" * 256)]) +
                  [rpmb_frame(5, count=1)],
        "result": [rpmb_frame(5, count=1)],
    }
    return {name: bytes([4]) + b"".join(bytes(f) for f in frames)
            for name, frames in seqs.items()}


def write(dirname, name, blob):
    os.makedirs(dirname, exist_ok=True)
    with open(os.path.join(dirname, name), "wb") as f:
        f.write(blob)


def main():
    root = os.path.join("tests", "fuzz", "corpus")
    write(os.path.join(root, "fuzz-mmio"), "probe", mmio_probe_seed())
    for name, blob in vring_seeds().items():
        write(os.path.join(root, "fuzz-vring"), name, blob)
    for name, blob in rpmb_seeds().items():
        write(os.path.join(root, "fuzz-rpmb-frames"), name, blob)


if __name__ == "__main__":
    main()
