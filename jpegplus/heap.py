"""Keeping a big image's freed buffers from piling up in the C heap (glibc), for the processes jpegplus runs."""

from __future__ import annotations

import ctypes

M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3  # glibc's mallopt parameters
MMAP_THRESHOLD = 4 * 2**20
TRIM_THRESHOLD = 64 * 2**20


def return_big_blocks() -> None:
    """Have glibc's malloc serve blocks of 4 MiB and more by ``mmap``, so that freeing one returns it at once.

    glibc raises that threshold after every freed block, up to 32 MiB; then the image bands and
    network tiles that an enhance frees one after another stay in the heap, fragmented: an 81 MP
    enhance peaked at 1.9 GB instead of 1.35 GB. Fixing that threshold also fixes the heap's trim
    threshold at 128 KiB, and the heap would then shrink and grow again around every temporary of a
    megabyte (the blind estimate of a Kodak image took 68 ms instead of 25): up to 64 MiB of free heap
    top stay (8 MiB, twice the mmap threshold as glibc pairs them itself, made enhance 5–50% slower per
    LIVE1 and Classic5 image). The command line and its worker processes call this; a library caller's
    process is left as it is. Nothing happens where the C library has no ``mallopt``.
    """
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return
    mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)
    mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD)
