"""Helpers shared by the vhdfile tests: every (format, type) and a data pattern."""

from __future__ import annotations

import os
from pathlib import Path

import vhdfile

MiB = 1024 * 1024
KINDS = [("vhd", "fixed"), ("vhd", "dynamic"), ("vhdx", "fixed"), ("vhdx", "dynamic")]


def pattern_writes(size: int) -> list[tuple[int, bytes]]:
    """Writes at unaligned offsets, across block boundaries and at the very end."""
    return [
        (0, b"A" * 1000),
        (MiB + 3, os.urandom(2 * MiB + 5)),
        (size // 2 - 100, os.urandom(300)),
        (size - 700, b"Z" * 700),
    ]


def apply(reference: bytearray, writes: list[tuple[int, bytes]]) -> None:
    for offset, data in writes:
        reference[offset : offset + len(data)] = data


def make_disk(
    path: Path, fmt: str, dtype: str, size: int, writes: list[tuple[int, bytes]], **kwargs: object
) -> None:
    vhdfile.create(path, fmt, dtype, size, **kwargs)  # type: ignore[arg-type]
    with vhdfile.open_disk(path, writable=True) as disk:
        for offset, data in writes:
            disk.write(offset, data)
