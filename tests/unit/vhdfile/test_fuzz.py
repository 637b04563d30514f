"""Damaged files raise VhdError, never IndexError, struct.error or a hang (bounded fuzz)."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.unit.vhdfile.vhd_helpers import MiB

import vhdfile
from vhdfile.partitions import sniff_boot
from vhdfile.testimages import gpt_uefi_image
from vhdfile.vhdx import _InjectedFailure

SEEDS: dict[str, bytes] = {}


def seed(name: str) -> bytes:
    """Small valid files of each kind (data written, a child, a pending VHDX log)."""
    if not SEEDS:
        with tempfile.TemporaryDirectory() as tmp:
            d = Path(tmp)
            for fmt, dtype in (("vhd", "dynamic"), ("vhd", "fixed"), ("vhdx", "dynamic")):
                p = d / f"{dtype}.{fmt}"
                vhdfile.create(p, fmt, dtype, 2 * MiB, block_size=MiB if fmt == "vhdx" else None)
                with vhdfile.open_disk(p, writable=True) as disk:
                    disk.write(4096, os.urandom(8192))
                SEEDS[f"{fmt}-{dtype}"] = p.read_bytes()
            p = d / "log.vhdx"
            vhdfile.create(p, "vhdx", "dynamic", 2 * MiB, block_size=MiB)
            with contextlib.suppress(_InjectedFailure):  # leaves a committed, unapplied log
                vhdfile.resize(p, 3 * MiB, _fail_after=2)
            SEEDS["vhdx-log"] = p.read_bytes()
            gpt_uefi_image(d / "gpt.vhd", format="vhd", size=40 * MiB, esp_size=34 * MiB)
            SEEDS["gpt"] = (d / "gpt.vhd").read_bytes()
    return SEEDS[name]


# Where the structures are: mutations aim there, not at zero-filled payload.
HOT = {
    "vhd-dynamic": [(0, 2048), (-512, 512)],
    "vhd-fixed": [(-512, 512)],
    "vhdx-dynamic": [
        (0, 600),
        (64 * 1024, 100),
        (128 * 1024, 100),
        (192 * 1024, 200),
        (256 * 1024, 200),
        (2 * MiB, 400),
        (2 * MiB + 64 * 1024, 64),
        (3 * MiB, 64),
    ],
    "vhdx-log": [(64 * 1024, 100), (128 * 1024, 100), (MiB, 8192)],
}


def exercise(path: Path) -> None:
    try:
        with vhdfile.open_disk(path) as disk:
            disk.extents()
            disk.read(0, min(disk.virtual_size, 4 * MiB))
            sniff_boot(disk)
    except vhdfile.VhdError:
        pass


@st.composite
def damaged(draw: st.DrawFn) -> tuple[str, bytes]:
    name = draw(st.sampled_from(sorted(HOT)))
    data = bytearray(seed(name))
    for _ in range(draw(st.integers(1, 8))):
        start, length = draw(st.sampled_from(HOT[name]))
        base = start % len(data)
        offset = base + draw(st.integers(0, length - 1))
        value = draw(st.one_of(st.integers(0, 255), st.sampled_from([0, 0xFF, 0x80, 0x7F])))
        if offset < len(data):
            data[offset] = value
    if draw(st.booleans()) and draw(st.booleans()):
        data = data[: draw(st.integers(0, len(data)))]
    return name, bytes(data)


@settings(
    max_examples=300,
    deadline=2000,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(case=damaged())
def test_damaged_files_raise_only_vhd_errors(tmp_path: Path, case: tuple[str, bytes]) -> None:
    name, data = case
    path = tmp_path / ("x.vhdx" if "vhdx" in name else "x.vhd")
    path.write_bytes(data)
    exercise(path)


@settings(
    max_examples=100,
    deadline=2000,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(
    offsets=st.lists(
        st.tuples(st.integers(0, 40 * MiB - 1), st.integers(0, 255)), min_size=1, max_size=12
    )
)
def test_damaged_partition_tables_and_fat_give_a_verdict(
    tmp_path: Path, offsets: list[tuple[int, int]]
) -> None:
    data = bytearray(seed("gpt"))
    # Aim at the guest's first MiB (MBR, GPT), the ESP's FAT area and the GPT backup.
    for offset, value in offsets:
        where = [
            offset % 4096 + 1536,
            MiB + 1536 + offset % (64 * 1024),
            len(data) - 512 - 1 - offset % 8192,
        ][offset % 3]
        if 0 <= where < len(data):
            data[where] = value
    path = tmp_path / "g.vhd"
    path.write_bytes(data)
    try:
        with vhdfile.open_disk(path) as disk:
            assert sniff_boot(disk).verdict in ("bios", "uefi", "both", "unknown")
    except vhdfile.VhdError:
        pass


@pytest.mark.parametrize("name", sorted(HOT))
def test_every_truncation_point_of_the_structures(tmp_path: Path, name: str) -> None:
    data = seed(name)
    path = tmp_path / ("x.vhdx" if "vhdx" in name else "x.vhd")
    for cut in sorted(
        {
            0,
            1,
            511,
            512,
            1535,
            4096,
            64 * 1024,
            200 * 1024,
            MiB,
            2 * MiB,
            3 * MiB + 4,
            len(data) - 1,
        }
    ):
        if cut < len(data):
            path.write_bytes(data[:cut])
            exercise(path)
