"""Root disk size: the largest virtual size whose fully allocated file fits root_gb."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nova_hyperv.rules import DiskLayout, RuleViolation, default_disk_math, plan_instance
from nova_hyperv.rules.disk_size import (
    GIB,
    MIB,
    VHD_MAX_VIRTUAL_SIZE,
    VHDX_MAX_VIRTUAL_SIZE,
    fully_allocated_file_size,
    minimum_root_gb,
)

from .builders import WS2022, make_request, plan

VHD = DiskLayout("vhd")


def test_dynamic_vhd_arithmetic() -> None:
    # 512 B footer copy + 1 KiB header + 4 B a block of BAT in whole sectors
    # + (512 B bitmap + 2 MiB data) a block + 512 B footer.
    assert fully_allocated_file_size(VHD, 2 * MIB) == 512 + 1024 + 512 + (512 + 2 * MIB) + 512
    assert fully_allocated_file_size(VHD, 511 * 2 * MIB) == 4096 + 511 * (512 + 2 * MIB)
    # 511 blocks fit in 1 GiB (1071910400 bytes), 512 do not (1073987584).
    assert default_disk_math(VHD, GIB) == 511 * 2 * MIB


def test_fixed_vhd_is_data_plus_footer() -> None:
    fixed = DiskLayout("vhd", fixed=True)
    assert fully_allocated_file_size(fixed, GIB) == GIB + 512
    assert default_disk_math(fixed, GIB) == GIB - 512


@pytest.mark.parametrize(
    ("block", "budget", "virtual"),
    [  # the numbers os-win's formula gives for qemu-made VHDX files (1 MiB log, metadata)
        (8 * MIB, GIB, 1065353216),
        (1 * MIB, GIB, 1069547520),
        (32 * MIB, GIB, 1040187392),
        (8 * MIB, 10 * GIB, 10729029632),
    ],
)
def test_vhdx_arithmetic(block: int, budget: int, virtual: int) -> None:
    layout = DiskLayout("vhdx", block_size=block)
    assert default_disk_math(layout, budget) == virtual
    # 3 MiB of header, log and metadata + a MiB-aligned BAT + the blocks.
    assert fully_allocated_file_size(layout, virtual) == 4 * MIB + virtual


def test_vhdx_sector_bitmap_entries_count_in_the_bat() -> None:
    # 1 MiB blocks. With 512 B sectors the chunk ratio is 4096, so 131060 blocks need
    # 131060 + 31 entries: 1048728 bytes of BAT, two MiB. With 4 KiB sectors it is
    # 32768: 131060 + 3 entries, 1048504 bytes, one MiB.
    blocks = 131060
    layout = DiskLayout("vhdx", block_size=MIB)
    assert fully_allocated_file_size(layout, blocks * MIB) == 3 * MIB + 2 * MIB + blocks * MIB
    layout_4k = DiskLayout("vhdx", block_size=MIB, logical_sector_size=4096)
    assert fully_allocated_file_size(layout_4k, blocks * MIB) == 3 * MIB + MIB + blocks * MIB


def test_capped_at_the_format_limits() -> None:
    assert default_disk_math(VHD, 4096 * GIB) == VHD_MAX_VIRTUAL_SIZE
    assert default_disk_math(DiskLayout("vhdx"), 1 << 50) == VHDX_MAX_VIRTUAL_SIZE


@settings(max_examples=200, deadline=None)
@given(
    layout=st.builds(
        DiskLayout,
        format=st.sampled_from(["vhd", "vhdx"]),
        block_size=st.sampled_from([None, MIB, 2 * MIB, 32 * MIB, 256 * MIB]),
        fixed=st.booleans(),
        logical_sector_size=st.sampled_from([512, 4096]),
    ),
    budget=st.integers(min_value=0, max_value=3000 * GIB),
)
def test_the_answer_fits_and_one_more_block_does_not(layout: DiskLayout, budget: int) -> None:
    size = default_disk_math(layout, budget)
    limit = VHD_MAX_VIRTUAL_SIZE if layout.format == "vhd" else VHDX_MAX_VIRTUAL_SIZE
    step = 512 if layout.format == "vhd" and layout.fixed else layout.effective_block_size
    if size:
        assert fully_allocated_file_size(layout, size) <= budget
    if size + step <= limit:
        assert fully_allocated_file_size(layout, size + step) > budget


def test_plan_carries_the_virtual_size_for_the_flavor() -> None:
    vm = plan(disk=40, virtual_size=10 * GIB)
    assert vm.root_virtual_size == default_disk_math(DiskLayout("vhdx"), 40 * GIB)
    assert vm.disk("root").size_bytes == vm.root_virtual_size


def test_image_block_size_is_used() -> None:
    vm = plan(disk=1, block_size=8 * MIB)
    assert vm.root_virtual_size == 1065353216


def test_root_gb_zero_keeps_the_image_size() -> None:
    assert plan(disk=0, virtual_size=3 * GIB).root_virtual_size == 3 * GIB
    assert plan(disk=0).root_virtual_size is None


def test_image_exactly_as_big_as_the_flavor_needs_a_bigger_flavor() -> None:
    # The guide's note: flavors need "a slightly bigger disk" than the image.
    with pytest.raises(RuleViolation) as caught:
        plan(disk=10, virtual_size=10 * GIB, disk_format="vhd")
    assert caught.value.code == "root-disk-too-small"
    assert caught.value.allowed == "root_gb >= 11"
    assert plan(disk=11, virtual_size=10 * GIB, disk_format="vhd").root_virtual_size


@pytest.mark.parametrize("virtual", [1, GIB - 4 * MIB, GIB, 100 * GIB, 1000 * GIB + 5])
@pytest.mark.parametrize("layout", [VHD, DiskLayout("vhdx"), DiskLayout("vhd", fixed=True)])
def test_minimum_root_gb_is_the_smallest_that_works(layout: DiskLayout, virtual: int) -> None:
    minimum = minimum_root_gb(layout, virtual, default_disk_math)
    assert minimum is not None
    assert default_disk_math(layout, minimum * GIB) >= virtual
    assert minimum == 1 or default_disk_math(layout, (minimum - 1) * GIB) < virtual


def test_disk_math_is_injectable() -> None:
    calls: list[tuple[DiskLayout, int]] = []

    def exact(layout: DiskLayout, budget: int) -> int:
        calls.append((layout, budget))
        return budget - 5 * MIB

    vm = plan_instance(make_request(disk=20, disk_format="vhd", file_format="vhdx",
                                    block_size=MIB), WS2022, disk_math=exact)
    assert vm.root_virtual_size == 20 * GIB - 5 * MIB
    assert calls == [(DiskLayout("vhdx", block_size=MIB), 20 * GIB)]
    with pytest.raises(RuleViolation) as caught:
        plan_instance(make_request(disk=20, virtual_size=20 * GIB), WS2022, disk_math=exact)
    assert caught.value.allowed == "root_gb >= 21"


def test_a_strategy_that_never_fits_gets_a_clear_refusal() -> None:
    with pytest.raises(RuleViolation) as caught:
        plan_instance(make_request(disk=20, virtual_size=GIB), WS2022,
                      disk_math=lambda layout, budget: 0)
    assert caught.value.code == "root-disk-too-small"
    assert caught.value.allowed.startswith("no flavor")
