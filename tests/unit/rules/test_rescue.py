"""Which images may rescue an instance: its generation, a disk, its root's size, its
layout (and Secure Boot)."""

from __future__ import annotations

from typing import Any

import pytest

from nova_hyperv.rules import (
    HyperVConfig,
    Image,
    ImageLayout,
    RuleViolation,
    check_rescue_image,
    default_disk_math,
)

GIB = 1 << 30
UEFI = ImageLayout("gpt", esp=True, efi_loader="\\EFI\\BOOT\\BOOTX64.EFI")
BIOS = ImageLayout("mbr", bios_boot=True)


def check(vm_generation: int = 1, *, secure_boot: bool = False, root_gb: int = 1,
          config: HyperVConfig | None = None, **image: Any) -> str:
    image.setdefault("disk_format", "vhdx")
    image.setdefault("file_format", image["disk_format"])
    image.setdefault("virtual_size", 64 << 20)
    return check_rescue_image(Image(id="rescue", **image), vm_generation,
                              secure_boot=secure_boot, root_gb=root_gb,
                              disk_math=default_disk_math, config=config)


def refused(*args: Any, **kwargs: Any) -> RuleViolation:
    with pytest.raises(RuleViolation) as caught:
        check(*args, **kwargs)
    return caught.value


@pytest.mark.parametrize(("generation", "layout"), [(1, BIOS), (2, UEFI), (1, None),
                                                    (2, None)])
def test_an_image_without_hw_machine_type_rescues_the_vms_generation(
        generation: int, layout: ImageLayout | None) -> None:
    assert check(generation, layout=layout) == "vhdx"


def test_a_generation_1_vm_takes_a_vhd() -> None:
    assert check(1, disk_format="vhd", layout=BIOS) == "vhd"


@pytest.mark.parametrize(("vm", "asked"), [(1, "hyperv-gen2"), (2, "hyperv-gen1")])
def test_the_other_generation_is_refused(vm: int, asked: str) -> None:
    error = refused(vm, properties={"hw_machine_type": asked})
    assert (error.code, error.value) == ("rescue-generation-mismatch", asked)
    assert f"generation {vm} VM" in error.message


def test_a_layout_that_cannot_boot_the_vm_is_refused() -> None:
    assert refused(2, layout=BIOS).code == "image-not-uefi-bootable"
    assert refused(1, layout=UEFI).code == "image-not-bios-bootable"
    # ... unless the preflight is off
    assert check(2, layout=BIOS, config=HyperVConfig(image_preflight=False)) == "vhdx"


def test_a_secure_boot_vm_needs_an_efi_loader_on_the_rescue_image() -> None:
    error = refused(2, secure_boot=True, layout=ImageLayout("none"))
    assert error.code == "secure-boot-requires-efi-loader"
    assert check(2, secure_boot=True, layout=UEFI) == "vhdx"


def test_generation_2_needs_vhdx_and_isos_are_refused() -> None:
    assert refused(2, disk_format="vhd").code == "gen2-requires-vhdx"
    assert refused(1, disk_format="iso", virtual_size=None).code == \
        "rescue-image-iso-unsupported"


def test_the_rescue_disk_must_fit_the_flavors_root() -> None:
    error = refused(1, virtual_size=2 * GIB, root_gb=1)
    assert (error.code, error.allowed) == ("root-disk-too-small", "root_gb >= 3")
    assert check(1, virtual_size=2 * GIB, root_gb=0) == "vhdx"  # disk=0: any size
