"""Fixtures for the vhdfile tests."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.unit.vhdfile.vhd_helpers import MiB, apply, make_disk, pattern_writes


@pytest.fixture
def filled(tmp_path: Path):  # type: ignore[no-untyped-def]
    """A factory: filled(fmt, dtype, size) -> (path, reference bytes)."""

    def make(fmt: str, dtype: str, size: int = 8 * MiB, **kwargs: object) -> tuple[Path, bytes]:
        path = tmp_path / f"{dtype}-{len(list(tmp_path.iterdir()))}.{fmt}"
        writes = pattern_writes(size)
        reference = bytearray(size)
        apply(reference, writes)
        make_disk(path, fmt, dtype, size, writes, **kwargs)
        return path, bytes(reference)

    return make
