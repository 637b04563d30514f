"""The image preflight: the image's partition layout against generation and Secure Boot,
and the generation chosen from the layout when hw_machine_type is unset."""

from __future__ import annotations

import pytest

from nova_hyperv.rules import HyperVConfig, ImageLayout, Volume

from .builders import GEN2, WS2012, WS2022, plan, refuse

LOADER = "\\EFI\\BOOT\\BOOTX64.EFI"
UEFI_ONLY = ImageLayout("gpt", bios_boot=False, esp=True, efi_loader=LOADER)
MBR_BIOS = ImageLayout("mbr", bios_boot=True)
HYBRID = ImageLayout("gpt", bios_boot=True, esp=True, efi_loader=LOADER)
GPT_EMPTY_ESP = ImageLayout("gpt", esp=True)
GPT_BIOS = ImageLayout("gpt", bios_boot=True)
MBR_DATA = ImageLayout("mbr")  # no boot code, no active partition, no ESP
BLANK = ImageLayout("none")
DAMAGED = ImageLayout("unknown")
OFF = HyperVConfig(image_preflight=False)
SECURE_WINDOWS = {**GEN2, "os_secure_boot": "required", "os_type": "windows"}


@pytest.mark.parametrize(("layout", "generation", "source"), [
    (UEFI_ONLY, 2, "image layout"),
    (MBR_BIOS, 1, "image layout"),
    (HYBRID, 1, "image layout"),  # both boot: generation 1, Hyper-V's default
    (GPT_BIOS, 1, "image layout"),
    (MBR_DATA, 1, "default"),
    (BLANK, 1, "default"),
    (DAMAGED, 1, "default"),
    (None, 1, "default"),
])
def test_unset_hw_machine_type_takes_the_generation_from_the_layout(
        layout: ImageLayout | None, generation: int, source: str) -> None:
    vm = plan(layout=layout, file_format="vhdx")
    assert (vm.generation, vm.generation_from) == (generation, source)


def test_hw_machine_type_wins_over_the_layout() -> None:
    vm = plan(props={"hw_machine_type": "hyperv-gen2"}, layout=HYBRID)
    assert (vm.generation, vm.generation_from) == (2, "hw_machine_type")


def test_without_preflight_the_layout_is_ignored() -> None:
    vm = plan(WS2022, OFF, layout=UEFI_ONLY)
    assert (vm.generation, vm.generation_from) == (1, "default")
    # ... and nothing is refused: gen2 on an MBR disk plans.
    assert plan(WS2022, OFF, props=GEN2, layout=MBR_BIOS).generation == 2


def test_layout_choice_of_gen2_on_a_2012_host_says_why() -> None:
    error = refuse(WS2012, layout=UEFI_ONLY)
    assert error.code == "generation-unsupported-by-host"
    assert "disk: GPT, an EFI system partition holding" in error.message
    assert "only UEFI boots it" in error.message


def test_layout_choice_of_gen2_on_a_vhd_file_says_why() -> None:
    error = refuse(disk_format="vhd", file_format="vhd", layout=UEFI_ONLY)
    assert (error.code, error.field) == ("gen2-requires-vhdx", "file_format")
    assert "disk: GPT, " in error.message and "only UEFI boots it" in error.message


@pytest.mark.parametrize(("layout", "found"), [
    (MBR_BIOS, "disk: MBR, no EFI system partition, BIOS boot code."),
    (GPT_EMPTY_ESP, "disk: GPT, an EFI system partition without a loader, no "
                    "BIOS boot partition."),
    (MBR_DATA, "disk: MBR, no EFI system partition, no BIOS boot code."),
])
def test_gen2_on_a_disk_uefi_cannot_boot_is_refused(layout: ImageLayout, found: str) -> None:
    error = refuse(props=GEN2, layout=layout)
    assert (error.code, error.field, error.value, error.source) == (
        "image-not-uefi-bootable", "hw_machine_type", "hyperv-gen2", "image property")
    assert found in error.message
    assert "would run but never boot" in error.message


@pytest.mark.parametrize("layout", [UEFI_ONLY, HYBRID, BLANK, DAMAGED])
def test_gen2_on_a_uefi_bootable_or_blank_disk_plans(layout: ImageLayout) -> None:
    assert plan(props=GEN2, layout=layout).generation == 2


def test_gen1_on_a_uefi_only_gpt_disk_is_refused_and_says_what_to_set() -> None:
    error = refuse(props={"hw_machine_type": "hyperv-gen1"}, layout=UEFI_ONLY)
    assert (error.code, error.value) == ("image-not-bios-bootable", "hyperv-gen1")
    assert "set hw_machine_type=hyperv-gen2" in error.message
    assert "no BIOS boot partition" in error.message


def test_gen1_by_default_on_a_gpt_disk_neither_firmware_boots_is_refused() -> None:
    error = refuse(layout=GPT_EMPTY_ESP)
    assert (error.code, error.value) == ("image-not-bios-bootable", None)
    assert "hw_machine_type = (not set)" in error.message


@pytest.mark.parametrize("layout", [MBR_BIOS, HYBRID, GPT_BIOS, MBR_DATA, BLANK, DAMAGED])
def test_gen1_on_a_disk_not_contradicting_it_plans(layout: ImageLayout) -> None:
    assert plan(props={"hw_machine_type": "hyperv-gen1"}, layout=layout).generation == 1


@pytest.mark.parametrize(("layout", "found"), [
    (BLANK, "no partition table"),
])
def test_secure_boot_without_an_efi_loader_is_refused(layout: ImageLayout,
                                                      found: str) -> None:
    error = refuse(props=SECURE_WINDOWS, layout=layout)
    assert (error.code, error.field, error.value) == (
        "secure-boot-requires-efi-loader", "os_secure_boot", "required")
    assert found in error.message


def test_secure_boot_with_an_efi_loader_plans() -> None:
    assert plan(props=SECURE_WINDOWS, layout=UEFI_ONLY).secure_boot.enabled
    assert plan(props=SECURE_WINDOWS, layout=DAMAGED).secure_boot.enabled


def test_flavor_required_secure_boot_on_an_optional_image_without_loader() -> None:
    props = {**GEN2, "os_secure_boot": "optional", "os_type": "linux"}
    error = refuse(props=props, specs={"os:secure_boot": "required"}, layout=BLANK)
    assert (error.code, error.value) == ("secure-boot-requires-efi-loader", "optional")


def test_iso_and_volume_roots_are_not_sniffed() -> None:
    assert plan(props=GEN2, disk_format="iso", file_format="iso",
                layout=MBR_BIOS).generation == 2
    root = Volume("vol-1", boot_index=0)
    assert plan(props=GEN2, root_volume=root, layout=MBR_BIOS).generation == 2


def test_layout_describes_what_it_found() -> None:
    assert HYBRID.describe() == (f"GPT, an EFI system partition holding {LOADER}, "
                                 "a BIOS boot partition")
    assert DAMAGED.describe() == "an unreadable partition table"
    with pytest.raises(ValueError, match="scheme 'apm'"):
        ImageLayout("apm")
