"""Rescue: which images may boot an existing VM in place of its root disk.

A rescue swaps the boot disk of the instance's own VM (its generation, firmware and
Secure Boot stay as they are) and attaches the original root as a second disk. So the
rescue image must be of the VM's generation (an image that does not say, through
hw_machine_type, is taken for the VM's generation and checked by its layout), a VHDX
for generation 2, a disk rather than an ISO, and no larger than the flavor's root disk;
with `[hyperv] image_preflight` its layout must boot that way (and by Secure Boot when
the VM has it on).
"""

from __future__ import annotations

from nova_hyperv.rules.disk_size import DiskMath, root_virtual_size
from nova_hyperv.rules.errors import RuleViolation
from nova_hyperv.rules.generation import (
    FROM_PROPERTY,
    GENERATIONS,
    check_root_format,
    requested_generation,
    root_format,
)
from nova_hyperv.rules.plan import SecureBootPlan
from nova_hyperv.rules.planner import image_disk_layout
from nova_hyperv.rules.preflight import RESCUE, check_boot_layout
from nova_hyperv.rules.request import HyperVConfig, Image

__all__ = ["check_rescue_image"]

_NAMES = {number: name for name, number in GENERATIONS.items()}


def check_rescue_image(image: Image, vm_generation: int, *, secure_boot: bool,
                       root_gb: int, disk_math: DiskMath,
                       config: HyperVConfig | None = None) -> str:
    """The rescue disk's format (vhd or vhdx), or the RuleViolation that refuses it."""
    config = config or HyperVConfig()
    asked = requested_generation(image)
    if asked is not None and asked != vm_generation:
        raise RuleViolation(
            "rescue-generation-mismatch", "hw_machine_type",
            image.properties.get("hw_machine_type"),
            f"{_NAMES[vm_generation]} (the instance's generation), or unset",
            f"the rescue disk boots the instance's own generation {vm_generation} VM in "
            f"place of its root disk; a generation {asked} image would not boot there",
            source="image property")
    fmt = root_format(image)
    if fmt == "iso":
        raise RuleViolation(
            "rescue-image-iso-unsupported", "disk_format", image.disk_format,
            "vhd, vhdx", "a rescue image replaces the instance's root disk, so it must be a "
            "disk image", source="image")
    check_root_format(vm_generation, fmt, image)
    if root_gb:
        # The rescue disk is a copy of the image, never grown: its file must fit the
        # flavor's root disk, as a root disk's must.
        root_virtual_size(root_gb, image_disk_layout(image, fmt), image.virtual_size, disk_math)
    if config.image_preflight:
        check_boot_layout(vm_generation, FROM_PROPERTY if asked else RESCUE, image,
                          SecureBootPlan(enabled=secure_boot))
    return fmt
