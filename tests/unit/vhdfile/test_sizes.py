"""Size math, checked by filling small files completely."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from tests.unit.vhdfile.vhd_helpers import MiB

import vhdfile
from vhdfile import largest_virtual_size, max_file_size, minimum_flavor_root_gb

GiB = 1024 * MiB


def fill(path: Path, *, partial: bool = False) -> None:
    """Write every block (or, partial, one sector in every block) of the disk."""
    with vhdfile.open_disk(path, writable=True) as disk:
        step = disk.backend.block_size or 4 * MiB
        for offset in range(0, disk.virtual_size, step):
            n = min(step, disk.virtual_size - offset)
            disk.write(offset, os.urandom(disk.logical_sector_size) if partial else os.urandom(n))


@pytest.mark.parametrize(
    ("fmt", "dtype", "size", "kwargs"),
    [
        ("vhd", "fixed", 5 * MiB + 512, {}),
        ("vhd", "dynamic", 9 * MiB, {}),
        ("vhd", "dynamic", 3 * MiB + 512, {"block_size": 512 * 1024}),
        ("vhdx", "dynamic", 9 * MiB, {"block_size": MiB}),
        ("vhdx", "dynamic", 9 * MiB, {"block_size": 4 * MiB, "logical_sector_size": 4096}),
        ("vhdx", "fixed", 9 * MiB, {"block_size": 2 * MiB}),
    ],
)
def test_max_file_size_is_what_a_full_file_measures(
    tmp_path: Path, fmt: str, dtype: str, size: int, kwargs: dict
) -> None:
    path = tmp_path / f"x.{fmt}"
    vhdfile.create(path, fmt, dtype, size, **kwargs)
    fill(path)
    assert path.stat().st_size == max_file_size(fmt, dtype, size, **kwargs)


def test_differencing_vhdx_worst_case_includes_sector_bitmaps(tmp_path: Path) -> None:
    vhdfile.create(tmp_path / "b.vhdx", "vhdx", "dynamic", 6 * MiB, block_size=MiB)
    vhdfile.create(
        tmp_path / "c.vhdx", "vhdx", "differencing", parent=tmp_path / "b.vhdx", block_size=MiB
    )
    fill(tmp_path / "c.vhdx", partial=True)
    assert (tmp_path / "c.vhdx").stat().st_size == max_file_size(
        "vhdx", "differencing", 6 * MiB, block_size=MiB
    )


def test_differencing_vhd_counts_its_locators(tmp_path: Path) -> None:
    vhdfile.create(tmp_path / "b.vhd", "vhd", "dynamic", 4 * MiB)
    vhdfile.create(tmp_path / "c.vhd", "vhd", "differencing", parent=tmp_path / "b.vhd")
    with vhdfile.open_disk(tmp_path / "c.vhd") as disk:
        locator_bytes = sum(loc.space for loc in disk.backend.header.locators)
    fill(tmp_path / "c.vhd", partial=True)
    assert (tmp_path / "c.vhd").stat().st_size == max_file_size(
        "vhd", "differencing", 4 * MiB, parent_locator_bytes=locator_bytes
    )


def test_qemu_figure_for_a_fully_written_1g_dynamic_vhd() -> None:
    # qemu-img create -f vpc -o force_size=on 1G, fully written: 1074008064 bytes.
    assert max_file_size("vhd", "dynamic", GiB) == 1074008064


def test_os_win_formula_overshoots_the_budget() -> None:
    # os-win: (file - 2048) * bs / (4 + bs) ignores the 512-byte bitmap of each block.
    bs = 2 * MiB
    os_win = (GiB - 2048) * bs // (4 + bs) // 512 * 512
    assert max_file_size("vhd", "dynamic", os_win) > GiB
    ours = largest_virtual_size(GiB, "vhd", "dynamic")
    assert (
        max_file_size("vhd", "dynamic", ours) <= GiB < max_file_size("vhd", "dynamic", ours + 512)
    )


@pytest.mark.parametrize(
    ("fmt", "dtype", "bs"),
    [
        ("vhd", "fixed", None),
        ("vhd", "dynamic", None),
        ("vhdx", "dynamic", None),
        ("vhdx", "fixed", MiB),
        ("vhdx", "dynamic", 256 * MiB),
    ],
)
@pytest.mark.parametrize("budget", [GiB, 40 * GiB, 3 * MiB, 100 * GiB + 12345])
def test_largest_virtual_size_is_exact(fmt: str, dtype: str, bs: int | None, budget: int) -> None:
    size = largest_virtual_size(budget, fmt, dtype, block_size=bs)
    step = 512
    if size:
        assert max_file_size(fmt, dtype, size, block_size=bs) <= budget
    assert max_file_size(fmt, dtype, size + step, block_size=bs) > budget


def test_minimum_flavor_root_gb(tmp_path: Path) -> None:
    info = vhdfile.create(tmp_path / "i.vhd", "vhd", "dynamic", GiB)
    assert minimum_flavor_root_gb(info) == 2  # 1 GiB of data + bitmaps and tables
    small = vhdfile.create(
        tmp_path / "s.vhdx", "vhdx", "dynamic", largest_virtual_size(GiB, "vhdx", "dynamic")
    )
    assert minimum_flavor_root_gb(small) == 1
