"""Generation (hw_machine_type), firmware, and the root image's format."""

from __future__ import annotations

import pytest

from .builders import GEN2, WS2012R2, WS2022, plan


def test_generation_1_with_bios_is_the_default() -> None:
    vm = plan()
    assert (vm.generation, vm.firmware) == (1, "bios")


@pytest.mark.parametrize(("value", "generation"), [("hyperv-gen1", 1), ("hyperv-gen2", 2),
                                                    (" hyperv-gen2 ", 2), ("", 1)])
def test_hw_machine_type_picks_the_generation(value: str, generation: int) -> None:
    assert plan(props={"hw_machine_type": value}).generation == generation


@pytest.mark.parametrize("host", [WS2012R2, WS2022])
def test_generation_2_on_2012r2_and_later(host: object) -> None:
    vm = plan(host, props=GEN2)
    assert (vm.generation, vm.firmware) == (2, "uefi")


def test_vhdx_file_registered_as_vhd_boots_generation_2() -> None:
    # The usage guide's own example uploads a .vhdx with --disk-format vhd.
    vm = plan(props=GEN2, disk_format="vhd", file_format="vhdx")
    assert vm.disk("root").file_name == "root.vhdx"


def test_generation_1_takes_vhd_and_vhdx() -> None:
    assert plan(disk_format="vhd").disk("root").file_name == "root.vhd"
    assert plan(disk_format="vhdx").disk("root").file_name == "root.vhdx"


@pytest.mark.parametrize("props", [{}, GEN2])
def test_iso_image_becomes_a_dvd_root(props: dict[str, str]) -> None:
    vm = plan(props=props, disk_format="iso", file_format="iso")
    root = vm.disk("root")
    assert (root.kind, root.device, root.file_name, root.size_bytes) == (
        "iso_root", "dvd", "root.iso", None)
    assert vm.root_virtual_size is None


def test_disk_format_is_case_insensitive() -> None:
    assert plan(disk_format="VHDX").disk("root").file_name == "root.vhdx"
