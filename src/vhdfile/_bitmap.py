"""Sector bitmaps (VHD: most significant bit first; VHDX: least significant first).

Bitmaps are walked with a regular expression over whole 0x00 / 0xFF bytes, so the work
per bitmap is proportional to the number of runs, not the number of sectors; only the
bytes that mix set and clear bits are looked at bit by bit.
"""

from __future__ import annotations

import re

_RUNS = re.compile(rb"\x00+|\xff+|[\x01-\xfe]", re.DOTALL)


def set_runs(bitmap: bytes, nbits: int, *, msb_first: bool) -> list[tuple[int, int]]:
    """(first bit, count) of every run of set bits among the first `nbits`."""
    runs: list[tuple[int, int]] = []
    start = -1

    def close(end: int) -> None:
        nonlocal start
        if start >= 0:
            runs.append((start, min(end, nbits) - start))
            start = -1

    nbytes = (nbits + 7) // 8
    for match in _RUNS.finditer(bitmap, 0, nbytes):
        first = match.start() * 8
        chunk = match.group()
        if chunk[0] == 0:
            close(first)
        elif chunk[0] == 0xFF:
            if start < 0:
                start = first
        else:
            byte = chunk[0]
            for bit in range(8):
                on = byte >> (7 - bit) & 1 if msb_first else byte >> bit & 1
                if on and start < 0:
                    start = first + bit
                elif not on:
                    close(first + bit)
    close(nbytes * 8)
    return [(s, n) for s, n in runs if s < nbits and n > 0]


def set_range(bitmap: bytearray, first: int, count: int, *, msb_first: bool) -> None:
    """Set bits [first, first + count) in place: edge bytes by mask, the middle by slice."""
    end = first + count
    while first < end and first % 8:
        _set_bit(bitmap, first, msb_first)
        first += 1
    whole_end = end - end % 8
    if first < whole_end:
        bitmap[first // 8 : whole_end // 8] = b"\xff" * ((whole_end - first) // 8)
        first = whole_end
    while first < end:
        _set_bit(bitmap, first, msb_first)
        first += 1


def _set_bit(bitmap: bytearray, bit: int, msb_first: bool) -> None:
    shift = 7 - bit % 8 if msb_first else bit % 8
    bitmap[bit // 8] |= 1 << shift
